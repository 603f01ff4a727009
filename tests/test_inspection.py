"""Step 1 of grading a student: what is wrong with the handed-in notebooks (autograder.inspection)."""

import json

import pytest

from autograder import course
from autograder.inspection import inspect_notebooks
from autograder.submissions import Submission

RELEASED = {path.name: path.read_bytes() for path in course.release_dir(course.REPO_ROOT).glob("*.ipynb")}
FIRST = sorted(RELEASED)[0]


def _locked_cell(notebook):
    """Index and grade id of the first test cell (grade cell that is not an answer)."""
    for index, cell in enumerate(notebook["cells"]):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and cell["cell_type"] == "code":
            return index, meta["grade_id"]
    raise AssertionError("no test cell")


def _handed_in(change=None):
    notebooks = dict(RELEASED)
    if change is not None:
        notebook = json.loads(notebooks[FIRST])
        change(notebook)
        notebooks[FIRST] = json.dumps(notebook).encode()
    return Submission("s1", notebooks)


def test_the_released_notebooks_as_they_are_raise_nothing():
    readable, flags = inspect_notebooks(_handed_in())
    assert readable == RELEASED and flags == {}


def _edit(notebook):
    index, _ = _locked_cell(notebook)
    notebook["cells"][index]["source"] = "pass\n"


def _delete(notebook):
    index, _ = _locked_cell(notebook)
    del notebook["cells"][index]


def _points(notebook):
    index, _ = _locked_cell(notebook)
    notebook["cells"][index]["metadata"]["nbgrader"]["points"] = 100


def _tag(notebook):
    index, _ = _locked_cell(notebook)
    notebook["cells"][index]["metadata"]["tags"] = ["raises-exception"]


def _retype(notebook):
    index, _ = _locked_cell(notebook)
    notebook["cells"][index]["cell_type"] = "markdown"
    notebook["cells"][index].pop("outputs", None)
    notebook["cells"][index].pop("execution_count", None)


def _import_solutions(notebook):
    notebook["cells"].append({"cell_type": "code", "id": "their-own-cell", "metadata": {}, "outputs": [],
                              "execution_count": None,
                              "source": "x = 1; from solutions import combine_bias\n"})


@pytest.mark.parametrize("change, said", [
    (_edit, "edited"), (_delete, "deleted"), (_points, "points of {} changed"),
    (_tag, "tagged raises-exception"), (_retype, "changed to markdown"),
    (_import_solutions, "imports the instructor's solutions"),
])
def test_tampering_is_flagged_naming_the_notebook_and_the_cell(change, said):
    _, grade_id = _locked_cell(json.loads(RELEASED[FIRST]))
    readable, flags = inspect_notebooks(_handed_in(change))
    assert list(flags) == ["flagged"] and FIRST in readable
    assert any(reason.startswith(f"{FIRST}: ") and said.format(grade_id) in reason for reason in flags["flagged"])


def test_a_missing_and_an_unreadable_notebook_are_reported_and_not_read():
    notebooks = dict(RELEASED)
    last = sorted(notebooks)[-1]
    del notebooks[last]
    notebooks[FIRST] = b"{not json"
    readable, flags = inspect_notebooks(Submission("s1", notebooks))
    assert FIRST not in readable and last not in readable and len(readable) == len(RELEASED) - 2
    assert flags["missing_notebook"] == [f"{last} missing"]
    assert flags["unreadable_notebook"][0].startswith(f"{FIRST}: ")


def test_files_beside_the_notebooks_are_a_note():
    submission = Submission("s1", dict(RELEASED), extra_files=["answers.py"])
    assert inspect_notebooks(submission)[1] == {"note": ["files beside the notebooks not graded: answers.py"]}
