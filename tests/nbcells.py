"""Small builders for nbgrader cells, for fixture notebooks in the tests."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

SCHEMA_VERSION = 3


def _nbgrader(grade_id, *, grade=False, solution=False, locked=False, points=None, task=False):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": task,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(text):
    """A plain markdown cell."""
    return new_markdown_cell(text)


def code(source):
    """A plain code cell."""
    return new_code_cell(source)


def solution(source, grade_id):
    """An autograded-answer code cell (solution markers inside ``source``)."""
    return new_code_cell(source, metadata=_nbgrader(grade_id, solution=True))


def grade(source, grade_id, points):
    """A locked autograder-tests cell worth ``points``."""
    return new_code_cell(source, metadata=_nbgrader(grade_id, grade=True, locked=True, points=points))


def answer(text, grade_id, points):
    """A manually graded free-response markdown cell."""
    return new_markdown_cell(text, metadata=_nbgrader(grade_id, grade=True, solution=True, points=points))


def notebook(cells):
    """A Python 3 notebook made of ``cells``."""
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write(nb, path):
    """Write ``nb`` to ``path`` (creating folders) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def tiny_course(folder):
    """An nbgrader course in ``folder`` (what ``ccdlab grade`` makes RESULTS) of two small notebooks.

    ``01_tiny.ipynb``: a solution cell ``f``, grade cells ``test_a`` (1 point)
    and ``test_b`` (2 points); ``02_other.ipynb``: grade cell ``test_c``
    (3 points).  Returns ``folder``.
    """
    from autograder import classgrade, course

    sources = folder / "_sources"
    first = notebook([markdown("# Tiny"), solution("def f():\n    ### BEGIN SOLUTION\n    return 1\n"
                                                   "    ### END SOLUTION\n", "f"),
                      grade("assert f() == 1\n", "test_a", 1), grade("assert f() != 2\n", "test_b", 2)])
    write(first, course.source_dir(sources) / "01_tiny.ipynb")
    write(notebook([grade("assert True\n", "test_c", 3)]), course.source_dir(sources) / "02_other.ipynb")
    classgrade.prepare_results_course(folder, source_root=sources)
    return folder
