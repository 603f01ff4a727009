"""The coordinator's bookkeeping, without grading anyone: fast tests of autograder.classgrade."""

import json

import nbformat
import pytest
from nbformat.v4 import new_output
from nbgrader.api import Gradebook

import nbcells
from autograder import classgrade, course, grading, report, worker
from autograder.submissions import Submission


@pytest.fixture
def results(tiny_course):
    """A fresh RESULTS course: the small course of tests/nbcells.tiny_course."""
    return classgrade.check_results_folder(tiny_course)


def test_a_result_that_cannot_be_saved_marks_only_its_student(results, capsys):
    out = results
    broken = worker.StudentResult("broken", "f1", autograded={"01_tiny.ipynb": "{not json"},
                                  scores={"test_center_flux": [3.0, 3.0, False]})
    fine = worker.StudentResult("fine", "f2", scores={"test_center_flux": [3.0, 3.0, False]})
    entry = classgrade.record_result(out, Submission("broken", {}), broken)
    assert entry["status"] == "error" and "could not be saved" in entry["reason"]
    assert entry["fingerprint"] == ""  # graded again next time
    assert "broken" in capsys.readouterr().err
    good = classgrade.record_result(out, Submission("fine", {}), fine)
    assert good["status"] == "ok" and good["scores"] == fine.scores


def _autograded(root, failing=()):
    """01_tiny.ipynb as nbgrader leaves it executed: an error output in each grade cell of ``failing``."""
    notebook = nbformat.read(str(course.release_dir(root) / "01_tiny.ipynb"), as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in failing:
            cell.outputs = [new_output("error", ename="GraderTestsFailed", evalue="wrong", traceback=[])]
    return nbformat.writes(notebook)


def _gradebook(out, student):
    """``{grade_id: (auto_score, needs_manual_grade)}`` of ``student`` and the number of their submissions."""
    with Gradebook(course.nbgrader_config(root=out).CourseDirectory.db_url, course.COURSE_ID) as gradebook:
        submitted = gradebook.find_student(student).submissions
        scores = {grade.name: (grade.auto_score, grade.needs_manual_grade)
                  for notebook in gradebook.find_submission(course.ASSIGNMENT_ID, student).notebooks
                  for grade in notebook.grades}
        return scores, len(submitted)


def test_a_merged_result_is_in_nbgrader_s_folders_and_gradebook(results):
    handed_in = b'{"cells": [], "as": "handed in"}'
    autograded = _autograded(results, failing=["test_b"])
    result = worker.StudentResult("s1", "f1", autograded={"01_tiny.ipynb": autograded},
                                  feedback={"01_tiny": "<html>feedback for s1</html>"})
    classgrade.merge_result(results, Submission("s1", {"01_tiny.ipynb": handed_in}), result)
    where = {step: grading.student_dir(results, step, "s1") for step in ("submitted", "autograded", "feedback")}
    assert where["submitted"] == results / "submitted" / "s1" / course.ASSIGNMENT_ID
    assert (where["submitted"] / "01_tiny.ipynb").read_bytes() == handed_in
    assert (where["autograded"] / "01_tiny.ipynb").read_text() == autograded
    assert (where["feedback"] / "01_tiny.html").read_text() == "<html>feedback for s1</html>"
    scores, submissions = _gradebook(results, "s1")
    # test_b's error costs its 2 points; 02_other.ipynb was not graded: nbgrader's rule, every grade 0
    assert scores == {"test_a": (1.0, False), "test_b": (0.0, False), "test_c": (0.0, False)}
    assert submissions == 1


def test_merging_again_replaces_the_student_s_files_and_grades(results):
    first = worker.StudentResult("s1", "f1", autograded={"01_tiny.ipynb": _autograded(results, ["test_a", "test_b"])},
                                 feedback={"01_tiny": "<html>first</html>", "02_other": "<html>first</html>"})
    classgrade.merge_result(results, Submission("s1", {"01_tiny.ipynb": b"{}", "02_other.ipynb": b"{}"}), first)
    second = worker.StudentResult("s1", "f2", autograded={"01_tiny.ipynb": _autograded(results)},
                                  feedback={"01_tiny": "<html>second</html>"})
    classgrade.merge_result(results, Submission("s1", {"01_tiny.ipynb": b"{}"}), second)
    feedback = grading.student_dir(results, "feedback", "s1")
    assert sorted(path.name for path in feedback.iterdir()) == ["01_tiny.html"]
    assert (feedback / "01_tiny.html").read_text() == "<html>second</html>"
    assert sorted(path.name for path in grading.student_dir(results, "submitted", "s1").iterdir()) == ["01_tiny.ipynb"]
    scores, submissions = _gradebook(results, "s1")
    assert scores["test_a"] == (1.0, False) and scores["test_b"] == (2.0, False) and submissions == 1


def test_the_second_night_seed_is_kept_per_results_folder(tmp_path):
    first = classgrade.run_seed(tmp_path)
    assert classgrade.run_seed(tmp_path) == first
    assert json.loads((tmp_path / classgrade.RUN_FILE).read_text())["seed"] == first
    other = tmp_path / "other"
    other.mkdir()
    assert classgrade.run_seed(other) != first  # 1 chance in 2**31 of a false failure


def test_grades_csv_is_written_from_the_entries(tmp_path):
    grade_ids = report.grade_ids_in_order()
    rows = {"a": {"scores": {grade_ids[0][0]: [1.0, grade_ids[0][1], False]}, "status": "ok", "reason": ""}}
    report.write_csv(tmp_path / "g.csv", rows, grade_ids)
    (row,) = report.read_csv(tmp_path / "g.csv")
    assert float(row["total"]) == 1.0 and float(row["max_total"]) == sum(p for _, p in grade_ids)


def test_the_summary_plot_shows_pending_hand_grades(tmp_path):
    grade_ids = report.grade_ids_in_order()
    manual = grade_ids[4]
    rows = {"a": {"scores": {manual[0]: [None, manual[1], True]}}, "b": {"scores": {manual[0]: [2.0, manual[1], False]}}}
    report.write_summary_plot(tmp_path / "s.png", rows, grade_ids)
    assert (tmp_path / "s.png").stat().st_size > 10_000
    assert report.pending(rows["a"], grade_ids) == 1 and report.total(rows["a"], grade_ids) == 0
