"""Step 4 of grading a student: the comparator's verdicts decide the grade cells (autograder.verdicts)."""

import nbformat
import pytest
from nbformat.v4 import new_output
from nbgrader.api import Gradebook
from nbgrader.utils import determine_grade

import nbcells
from autograder import course, grading
from autograder.judging import Verdict
from autograder.verdicts import _verdict_outputs, apply_verdicts

PASSED = Verdict("test_a", True, "a: correct")
FAILED = Verdict("test_a", False, "combine_bias averages the frames; use the median")


def _grade_cell(*outputs, points=2):
    cell = nbcells.grade("assert f() == 1\n", "test_a", points)
    cell.outputs = list(outputs)
    return cell


def _error(ename="AssertionError", evalue="f() is 2"):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}", "in a frame"])


def _result(text):
    return new_output("execute_result", data={"text/plain": text}, execution_count=3)


def test_a_passing_verdict_adds_one_line_and_no_error():
    printed = new_output("stream", name="stdout", text="checking\n")
    outputs = _verdict_outputs(_grade_cell(printed), PASSED)
    assert outputs[0] == printed
    assert outputs[1:] == [new_output("stream", name="stdout", text="The grader's tests passed.\n")]


def test_a_failing_verdict_is_one_error_saying_what_the_grader_found():
    outputs = _verdict_outputs(_grade_cell(), FAILED)
    (error,) = outputs
    assert error.output_type == "error" and error.ename == "GraderTestsFailed"
    assert error.evalue == f"visible tests passed; the grader's tests found: {FAILED.message}"
    assert error.traceback == [f"GraderTestsFailed: {error.evalue}"]


def test_the_kernel_s_error_and_result_become_displayed_text():
    result = _result("1.0")
    outputs = _verdict_outputs(_grade_cell(_error(), result), FAILED)
    assert [output.output_type for output in outputs] == ["display_data", "display_data", "error"]
    assert outputs[0].data == {"text/plain": "AssertionError: f() is 2"}
    assert outputs[1].data == result.data and "execution_count" not in outputs[1]
    assert [output.get("ename") for output in outputs if output.output_type == "error"] == ["GraderTestsFailed"]
    assert outputs[2].evalue == f"the grader's tests found: {FAILED.message}"  # the student saw theirs fail


def test_a_failing_verdict_scores_0_even_where_the_kernel_s_result_would_give_full_points():
    cell = _grade_cell(_result("2.0"))
    assert determine_grade(cell) == (2.0, 2.0)  # nbgrader's partial credit: the result is the score
    cell.outputs = _verdict_outputs(cell, FAILED)
    assert determine_grade(cell) == (0, 2.0)


@pytest.mark.parametrize("outputs", [
    pytest.param([], id="nothing"),
    pytest.param([_result("0.0")], id="a result of 0"),
    pytest.param([_error()], id="an error"),
    pytest.param([new_output("stream", name="stderr", text="RuntimeWarning: Mean of empty slice\n")],
                 id="a warning"),
])
def test_a_passing_verdict_earns_full_points_whatever_the_kernel_printed(outputs):
    cell = _grade_cell(*outputs)
    cell.outputs = _verdict_outputs(cell, PASSED)
    assert determine_grade(cell) == (2.0, 2.0)


# ---------------------------------------------------------------------------
# apply_verdicts on a small course


@pytest.fixture
def graded(tiny_course):
    """A copy of the small course with student s1's executed 01_tiny.ipynb in autograded/."""
    root = tiny_course
    notebook = nbformat.read(str(course.release_dir(root) / "01_tiny.ipynb"), as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "test_a":  # the kernel's visible tests failed here
            cell.outputs = [_error(evalue=f"see {root}/scratch/frames/bias.fits")]
        elif grade_id == "test_b":  # and passed here
            cell.outputs = [new_output("stream", name="stdout", text=f"read {root}/scratch/frames\n")]
    nbcells.write(notebook, grading.student_dir(root, "autograded", "s1") / "01_tiny.ipynb")
    with Gradebook(course.nbgrader_config(root=root).CourseDirectory.db_url, course.COURSE_ID) as gradebook:
        gradebook.update_or_create_student("s1")
        gradebook.update_or_create_submission(course.ASSIGNMENT_ID, "s1")
    return root


def _scores(root):
    """s1's scores on 01_tiny.ipynb's grade cells."""
    scores = grading.student_scores(root, "s1")
    return {grade_id: scores[grade_id][0] for grade_id in ("test_a", "test_b")}


def test_the_verdicts_not_the_kernel_decide_the_gradebook_s_scores(graded):
    apply_verdicts(graded, "s1", {"test_a": Verdict("test_a", True, "a: correct"),
                                  "test_b": Verdict("test_b", False, "f is wrong on the second night")},
                   replacements={str(graded / "scratch"): "<grader>"})
    assert _scores(graded)["test_b"] == 0
    notebook = nbformat.read(str(grading.student_dir(graded, "autograded", "s1") / "01_tiny.ipynb"), as_version=4)
    by_id = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}
    assert by_id["test_b"].outputs[-1].ename == "GraderTestsFailed"
    assert "f is wrong on the second night" in by_id["test_b"].outputs[-1].evalue
    assert by_id["test_a"].outputs[-1].text == "The grader's tests passed.\n"
    assert str(graded / "scratch") not in nbformat.writes(notebook)  # scrubbed from every output
    assert "<grader>/frames" in by_id["test_b"].outputs[0].text


def test_a_passing_verdict_earns_the_points_in_the_gradebook_though_the_kernel_s_test_failed(graded):
    apply_verdicts(graded, "s1", {"test_a": Verdict("test_a", True, "a: correct"),
                                  "test_b": Verdict("test_b", True, "b: correct")})
    assert _scores(graded) == {"test_a": 1.0, "test_b": 2.0}


def test_a_grade_cell_without_a_verdict_keeps_the_kernel_s_outputs(graded):
    apply_verdicts(graded, "s1", {"test_b": Verdict("test_b", True, "b: correct")})
    notebook = nbformat.read(str(grading.student_dir(graded, "autograded", "s1") / "01_tiny.ipynb"), as_version=4)
    (test_a,) = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_a"]
    assert [output.output_type for output in test_a.outputs] == ["error"]
    assert _scores(graded) == {"test_a": 0.0, "test_b": 2.0}
