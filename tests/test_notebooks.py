"""The six notebooks as an nbgrader assignment, autograded end to end.

The instructor notebooks are submitted as a student's work (they must earn
every auto-graded point and raise nothing), and the student notebooks are
submitted untouched (they must earn nothing, without crashing the grader).
"""

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import course, grading

#: grade_id -> points; the contract between notebooks, checks and README.
POINTS = {
    "01_fits_basics": {"test_center_flux": 2, "test_fifth_column_mean": 2, "test_answer_bias_exptime": 2},
    "02_histogram": {"test_plot_bias_histogram": 6, "xlim_answer": 3},
    "03_dark_current": {"test_calc_dark_current": 9, "dark_current_answer": 3},
    "04_stacking": {
        "test_load_stack": 4, "test_answer_center_pixel": 1, "test_answer_ninth_image": 1,
        "test_combine_bias": 5, "test_combine_darks": 6, "test_combine_flats": 8, "test_save_fits": 4,
    },
    "05_process_data": {"test_process_data": 14, "new_code_summary": 6},
    "06_know_your_camera": {
        "test_measure_read_noise": 4, "test_measure_gain": 4, "test_photon_transfer": 3,
        "test_plot_photon_transfer": 2, "test_fit_dark_current": 3, "test_bad_pixel_mask": 4, "ptc_answer": 4,
    },
}
MANUAL = {"xlim_answer", "dark_current_answer", "new_code_summary", "ptc_answer"}
NOTEBOOKS = sorted(POINTS)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A course in a temporary folder with two students autograded.

    ``solution`` hands in the instructor notebooks, ``blank`` the student
    notebooks as released.
    """
    root = tmp_path_factory.mktemp("course")
    grading.prepare_course(root)
    handed_in = {"solution": course.source_dir(), "blank": course.release_dir()}
    for student, folder in handed_in.items():
        target = grading.submission_dir(root, student)
        target.mkdir(parents=True)
        for name in NOTEBOOKS:
            shutil.copy(folder / f"{name}.ipynb", target / f"{name}.ipynb")
        grading.autograde_student(root, student)
    return root


def _autograded(root, student, name):
    path = Path(root) / "autograded" / student / course.ASSIGNMENT_ID / f"{name}.ipynb"
    return nbformat.read(str(path), as_version=4)


def _errors(notebook):
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                yield index, output.ename, output.evalue


def test_assignment_has_the_six_notebooks():
    assert sorted(p.stem for p in course.source_dir().glob("*.ipynb")) == NOTEBOOKS
    assert sorted(p.stem for p in course.release_dir().glob("*.ipynb")) == NOTEBOOKS


def test_grade_ids_and_points_are_as_documented():
    found = {}
    for name in NOTEBOOKS:
        notebook = nbformat.read(str(course.source_dir() / f"{name}.ipynb"), as_version=4)
        found[name] = {
            cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"]["points"]
            for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade")
        }
    assert found == POINTS
    assert sum(sum(points.values()) for points in found.values()) == 100


def test_readme_lists_every_grade_id_with_its_points():
    readme = (course.REPO_ROOT / "README.md").read_text()
    for points in POINTS.values():
        for grade_id, value in points.items():
            assert re.search(rf"`{grade_id}`\s*\|\s*{value}\b", readme), f"README lacks `{grade_id}` | {value}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_source_notebook_runs_without_error(graded, name):
    assert list(_errors(_autograded(graded, "solution", name))) == []


def test_source_notebooks_earn_every_autograded_point(graded):
    scores = grading.student_scores(graded, "solution")
    autograded = {k: v for k, v in scores.items() if k not in MANUAL}
    assert autograded and all(score == maximum for score, maximum, _ in autograded.values()), autograded
    assert {k for k, (_, _, manual) in scores.items() if manual} == MANUAL


def test_release_notebooks_earn_nothing_and_fail_only_in_stubs(graded):
    scores = grading.student_scores(graded, "blank")
    assert all(score == 0 for grade_id, (score, _, _) in scores.items() if grade_id not in MANUAL), scores
    for name in NOTEBOOKS:
        for index, ename, evalue in _errors(_autograded(graded, "blank", name)):
            assert ename in ("NotImplementedError", "AssertionError"), (name, index, ename, evalue)
