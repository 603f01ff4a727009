"""ccdlab grade on a hostile class: every student graded as if alone."""

import subprocess
import sys

import pytest

import classbatch
from autograder import report
from autograder.cli import main as ccdlab

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

#: Per-cell timeout when a test grades again (the slowest reference cell needs ~5 s).
TIMEOUT = "20"


@pytest.fixture(scope="module")
def graded(graded_class):
    return graded_class.out


@pytest.fixture(scope="module")
def batch(graded_class):
    return graded_class.submissions


def _rows(out):
    return {row["student_id"]: row for row in report.read_csv(out / report.CSV_FILE)}


@pytest.mark.parametrize("student", sorted(classbatch.EXPECTED))
def test_each_student_scored_and_labelled_as_expected(graded, graded_class, student):
    row = _rows(graded)[student]
    status, _ = classbatch.EXPECTED[student]
    assert row["status"] == status, row["reason"]
    expected = classbatch.expected_scores(student, classbatch.grade_cells(), graded_class.sandboxed)
    got = {grade_id: float(row[grade_id] or 0) for grade_id in expected}
    assert got == {k: float(v) for k, v in expected.items()}, row["reason"]


def test_csv_has_one_row_per_student_and_the_columns(graded):
    rows = report.read_csv(graded / report.CSV_FILE)
    assert sorted(r["student_id"] for r in rows) == sorted(classbatch.EXPECTED)
    assert len(rows) == len({r["student_id"] for r in rows})
    grade_ids = [grade_id for _, grade_id, _, _ in classbatch.grade_cells()]
    assert list(rows[0]) == ["student_id"] + grade_ids + ["total", "max_total", "status", "reason"]
    assert all(float(r["max_total"]) == 100 for r in rows)


def test_feedback_summary_and_gradebook_are_written(graded):
    assert (graded / "summary.png").stat().st_size > 10_000
    feedback = sorted((graded / "feedback" / "correct" / "ccd_reduction").glob("*.html"))
    assert len(feedback) == 5 and all(p.stat().st_size > 1000 for p in feedback)
    exported = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", "--to", str(graded / "export.csv")],
        cwd=graded, capture_output=True, text=True,
    )
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert "correct" in (graded / "export.csv").read_text()


def test_hostile_submissions_left_the_bundled_frames_alone(graded):
    import hashlib
    import json

    from convenience_functions import data_dir

    truth = json.loads((data_dir() / "truth.json").read_text())
    for name, facts in truth["frames"].items():
        assert hashlib.sha256((data_dir() / name).read_bytes()).hexdigest() == facts["sha256"], name


def test_grading_again_reuses_unchanged_students(graded, batch, capsys):
    before = (graded / report.CSV_FILE).read_text()
    assert ccdlab(["grade", str(batch), "--out", str(graded), "--jobs", "2", "--timeout", TIMEOUT]) == 0
    assert "0 graded" in capsys.readouterr().out
    assert (graded / report.CSV_FILE).read_text() == before


def test_grade_fails_clearly_on_bad_folders(tmp_path, capsys):
    assert ccdlab(["grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    assert "nowhere" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert ccdlab(["grade", str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 2
    assert "no submissions" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    classbatch.blank(tmp_path / "subs")
    assert ccdlab(["grade", str(tmp_path / "subs"), "--out", str(blocker / "out")]) == 2
    assert "not writable" in capsys.readouterr().err


#: Students graded again with --jobs 1 and by plain `nbgrader autograde` (a subset: time).
SAME_AS_NBGRADER = ["correct", "mistake_bias_mean", "hostile_pass", "hack_skip_tag"]


def test_jobs_1_and_plain_nbgrader_give_the_same_scores(graded, batch, tmp_path):
    import shutil
    import threading

    from autograder import course, grading

    subset = tmp_path / "subset"
    for student in SAME_AS_NBGRADER:
        shutil.copytree(batch / student, subset / student)

    # Plain nbgrader, sequential, in a course folder using this course's nbgrader_config.
    plain = tmp_path / "plain"
    grading.prepare_course(plain)
    (plain / "nbgrader_config.py").write_text((graded / "nbgrader_config.py").read_text())
    for student in SAME_AS_NBGRADER:
        shutil.copytree(subset / student, plain / "submitted" / student)
    course.ensure_tools_on_path()
    finished = {}

    def run_plain():
        finished["plain"] = subprocess.run(
            [sys.executable, "-m", "nbgrader", "autograde", course.ASSIGNMENT_ID, "--Execute.timeout=20"],
            cwd=plain, capture_output=True, text=True, timeout=1200,
        )

    thread = threading.Thread(target=run_plain)
    thread.start()
    one_job = tmp_path / "one_job"
    try:
        assert ccdlab(["grade", str(subset), "--out", str(one_job), "--jobs", "1", "--timeout", TIMEOUT]) == 0
    finally:
        thread.join()
    assert finished["plain"].returncode == 0, finished["plain"].stderr[-3000:]

    two_jobs, one = _rows(graded), _rows(one_job)
    for student in SAME_AS_NBGRADER:
        by_nbgrader = grading.student_scores(plain, student)
        for grade_id, (score, _maximum, manual) in by_nbgrader.items():
            if manual:
                continue
            assert float(one[student][grade_id]) == score, (student, grade_id)
            assert float(two_jobs[student][grade_id]) == score, (student, grade_id)
        assert one[student]["status"] == two_jobs[student]["status"]
