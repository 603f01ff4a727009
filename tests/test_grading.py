"""ccdlab grade on a hostile class: every student graded as if alone."""

import difflib
import subprocess
import sys
from pathlib import Path

import pytest

import classbatch
from autograder import course, report
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


#: grades.csv of the hostile class as graded with the sandbox (reason column included).  Record it
#: again, by copying RESULTS/grades.csv here, only for a change meant to change a grade or a reason.
RECORDED_CSV = Path(__file__).with_name("files") / "hostile_class_grades.csv"


def _rows(out):
    return {row["student_id"]: row for row in report.read_csv(out / report.CSV_FILE)}


@pytest.mark.parametrize("student", sorted(classbatch.EXPECTED))
def test_each_student_scored_and_labelled_as_expected(graded, graded_class, student):
    row = _rows(graded)[student]
    assert row["status"] == classbatch.expected_status(student, graded_class.sandboxed), row["reason"]
    expected = classbatch.expected_scores(student, classbatch.grade_cells())
    got = {grade_id: float(row[grade_id] or 0) for grade_id in expected}
    assert got == {k: float(v) for k, v in expected.items()}, row["reason"]


def test_grades_csv_is_the_recorded_one(graded, graded_class):
    if not graded_class.sandboxed:
        pytest.skip("recorded with the sandbox (bubblewrap cannot run here)")
    got = (graded / report.CSV_FILE).read_text().splitlines()
    recorded = RECORDED_CSV.read_text().splitlines()
    assert got == recorded, "\n".join(difflib.unified_diff(recorded, got, "recorded", "graded", lineterm=""))


def test_csv_has_one_row_per_student_and_the_columns(graded):
    rows = report.read_csv(graded / report.CSV_FILE)
    assert sorted(r["student_id"] for r in rows) == sorted(classbatch.EXPECTED)
    assert len(rows) == len({r["student_id"] for r in rows})
    grade_ids = [grade_id for _, grade_id, _, _ in classbatch.grade_cells()]
    assert list(rows[0]) == ["student_id"] + grade_ids + report.TAIL_COLUMNS
    assert all(float(r["max_total"]) == 100 for r in rows)


def test_feedback_summary_and_gradebook_are_written(graded):
    assert (graded / "summary.png").stat().st_size > 10_000
    feedback = sorted((graded / "feedback" / "correct" / "ccd_reduction").glob("*.html"))
    assert len(feedback) == len(classbatch.notebook_names()) and all(p.stat().st_size > 1000 for p in feedback)
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
    from sample_data import simulate

    truth = json.loads(simulate.truth_path(data_dir()).read_text())
    for name, facts in truth["frames"].items():
        assert hashlib.sha256((data_dir() / name).read_bytes()).hexdigest() == facts["sha256"], name
    for name, digest in truth["given_masters"].items():
        assert hashlib.sha256((data_dir() / name).read_bytes()).hexdigest() == digest, name


def test_grading_again_reuses_unchanged_students(graded, batch, capsys):
    before = (graded / report.CSV_FILE).read_text()
    assert ccdlab(["grade", str(batch), "--out", str(graded), "--jobs", "2", "--timeout", TIMEOUT]) == 0
    assert "0 graded" in capsys.readouterr().out
    assert (graded / report.CSV_FILE).read_text() == before


def test_hand_grades_reach_grades_csv_and_feedback_and_pending_is_not_zero(graded, batch, capsys):
    from nbgrader.api import Gradebook

    manual = [grade_id for _, grade_id, _, is_manual in classbatch.grade_cells() if is_manual]
    (worth,) = [points for _, grade_id, points, _ in classbatch.grade_cells() if grade_id == "xlim_answer"]
    before = _rows(graded)["correct"]
    assert int(before["pending"]) == len(manual) and all(before[grade_id] == "" for grade_id in manual)
    url = course.nbgrader_config(root=graded).CourseDirectory.db_url
    with Gradebook(url, course.COURSE_ID) as gradebook:
        grade = gradebook.find_grade("xlim_answer", "02_histogram", course.ASSIGNMENT_ID, "correct")
        grade.manual_score = worth - 0.5
        comment = gradebook.find_comment("xlim_answer", "02_histogram", course.ASSIGNMENT_ID, "correct")
        comment.manual_comment = "Right: the outliers stretch the automatic range (HAND-COMMENT)"
        gradebook.db.commit()
    assert ccdlab(["grade", str(batch), "--out", str(graded), "--jobs", "2", "--timeout", TIMEOUT]) == 0
    assert "0 graded" in capsys.readouterr().out
    after = _rows(graded)["correct"]
    assert float(after["xlim_answer"]) == worth - 0.5 and int(after["pending"]) == len(manual) - 1
    assert float(after["total"]) == float(before["total"]) + worth - 0.5
    page = (graded / "feedback" / "correct" / course.ASSIGNMENT_ID / "02_histogram.html").read_text()
    assert "HAND-COMMENT" in page and f"{worth - 0.5:.1f} / {worth:.1f}" in page
    # The class is shared: take the hand grade back, and the outputs follow.
    with Gradebook(url, course.COURSE_ID) as gradebook:
        gradebook.find_grade("xlim_answer", "02_histogram", course.ASSIGNMENT_ID, "correct").manual_score = None
        gradebook.find_comment("xlim_answer", "02_histogram", course.ASSIGNMENT_ID, "correct").manual_comment = None
        gradebook.db.commit()
    assert ccdlab(["grade", str(batch), "--out", str(graded), "--jobs", "2", "--timeout", TIMEOUT]) == 0
    assert _rows(graded)["correct"] == before


def test_a_student_graded_with_another_version_of_the_course_is_graded_again(graded, batch, capfd):
    import json

    from autograder import classgrade

    state_file = graded / classgrade.STATE_FILE
    before = (graded / report.CSV_FILE).read_text()
    state = json.loads(state_file.read_text())
    state["correct"]["course"] = "0" * 64  # as if solutions/ had changed since
    state_file.write_text(json.dumps(state))
    assert ccdlab(["grade", str(batch), "--out", str(graded), "--jobs", "2", "--timeout", TIMEOUT]) == 0
    captured = capfd.readouterr()  # what reached the terminal, kernels' and workers' file descriptors included
    assert "1 graded (1 again because the course changed" in captured.out
    assert (graded / report.CSV_FILE).read_text() == before
    # quiet: kernel banners and library warnings went to RESULTS/grading.log, not the terminal
    for noise in ("ipython kernel", "To connect another client", "SAWarning"):
        assert noise not in captured.out + captured.err, noise
    assert "===== correct: ok" in (graded / classgrade.LOG_FILE).read_text()


def test_a_hung_function_costs_one_timeout_per_notebook_and_is_named(graded, graded_class):
    import json

    from autograder import classgrade

    row = _rows(graded)["hung_function"]
    assert "cell test_calc_dark_current ran longer than 20 s (in calc_dark_current" in row["reason"], row["reason"]
    notebook = json.loads((graded / "autograded" / "hung_function" / "ccd_reduction" / "03_dark_current.ipynb")
                          .read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    timed_out = [index for index, cell in enumerate(code) if "CellTimeoutError" in json.dumps(cell["outputs"])]
    # one timeout, not one per cell that calls the function: every later code cell is marked not run
    assert len(timed_out) == 1, timed_out
    assert all("NotRun" in json.dumps(cell["outputs"]) for cell in code[timed_out[0] + 1:])
    state = json.loads((graded / classgrade.STATE_FILE).read_text())
    others = sorted(entry["seconds"] for student, entry in state.items()
                    if entry.get("status") == "ok" and student != "hung_function")
    typical = others[len(others) // 2]
    # the kernel's timeout and the runner's (20 s each) more than a typical student of this run
    assert state["hung_function"]["seconds"] < typical + 2 * float(TIMEOUT), (state["hung_function"], typical)
    page = (graded / "feedback" / "hung_function" / "ccd_reduction" / "03_dark_current.html").read_text()
    assert "in calc_dark_current, which did not return" in page


def test_a_renamed_hand_in_is_graded_and_a_double_one_flagged(graded):
    row = _rows(graded)["renamed"]
    assert "01_fits_basics-1.ipynb graded as 01_fits_basics.ipynb" in row["reason"]
    assert "02_histogram (1).ipynb and 02_histogram_late.ipynb" in row["reason"]


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


#: Students graded again with --jobs 1 and by plain `nbgrader autograde` in every run (time);
#: the whole class when CCDLAB_TEST_FULL_CLASS is set (see classbatch.full_class_requested).
SAME_AS_NBGRADER = ["correct", "mistake_bias_mean", "hostile_pass", "hack_skip_tag",
                    "hostile_json", "hostile_rmdata", "hack_side_files"]  # the last three: known differences

#: Students whose plain-nbgrader scores differ by design: what ccdlab grade does that nbgrader does not.
PLAIN_NBGRADER_DIFFERS = {
    "hack_side_files": "nbgrader copies the files handed in beside the notebooks into the kernel's folder",
    "sound_alternatives": "nbgrader scores 0 a grade cell with text on standard error; ccdlab's verdict decides",
    "hostile_rmdata": "in nbgrader the notebook deletes the frames its later cells read; ccdlab's runner has a copy",
}
#: Handed in as something nbgrader cannot open at all (no notebook to grade).
NOT_FOR_PLAIN_NBGRADER = {"not_a_zip"}
#: Students on whom plain `nbgrader autograde` stops with an error, where ccdlab grades what it can.
PLAIN_NBGRADER_FAILS = {
    "hostile_json": "nbgrader stops at the notebook whose JSON is broken; ccdlab grades the other four",
}


def _hand_in(batch, student):
    """The folder or zip file that ``student`` handed in."""
    folder = batch / student
    return folder if folder.is_dir() else batch / f"{student}.zip"


def _plain_nbgrader_course(root, graded, batch, hand_ins):
    """A course for plain `nbgrader autograde`, with ``hand_ins`` ({student: Submission}) in submitted/."""
    import shutil

    from autograder import grading

    grading.prepare_course(root)
    (root / "nbgrader_config.py").write_text((graded / "nbgrader_config.py").read_text())
    for student, submission in hand_ins.items():
        target = root / "submitted" / student / "ccd_reduction"
        source = _hand_in(batch, student)
        if source.is_dir():  # as handed in, files beside the notebooks included
            shutil.copytree(source / "ccd_reduction", target)
        else:  # a course site's zip: nbgrader reads folders, so its notebooks are unpacked
            target.mkdir(parents=True)
            for name, content in submission.notebooks.items():
                (target / name).write_bytes(content)
    return root


def _plain_nbgrader(root, students, frames, scratch):
    """Plain sequential `nbgrader autograde`, one student at a time, each with a fresh copy of the frames."""
    import os
    import shutil

    from autograder import course

    course.ensure_tools_on_path()
    failures = {}
    for student in students:
        data = scratch / f"frames-{student}"
        shutil.copytree(frames, data)
        finished = subprocess.run(
            [sys.executable, "-m", "nbgrader", "autograde", course.ASSIGNMENT_ID, f"--student={student}",
             f"--Execute.timeout={TIMEOUT}"],
            cwd=root, capture_output=True, text=True, timeout=1200,
            env=dict(os.environ, CCDLAB_DATA=str(data)),
        )
        if finished.returncode != 0:
            failures[student] = finished.stderr[-2000:]
    return failures


def test_jobs_1_and_plain_nbgrader_give_the_same_scores(graded_class, tmp_path):
    import shutil
    import threading

    from autograder import grading, submissions
    from convenience_functions.paths import data_dir

    graded = graded_class.out
    everyone = sorted(_rows(graded))
    students = everyone if classbatch.full_class_requested() else SAME_AS_NBGRADER
    found = {s.student_id: s for s in submissions.find_submissions(graded_class.submissions)}
    subset = tmp_path / "subset"
    subset.mkdir()
    for student in students:
        source = _hand_in(graded_class.submissions, student)
        if source.is_dir():
            shutil.copytree(source, subset / source.name)
        else:
            shutil.copy2(source, subset / source.name)

    plain = _plain_nbgrader_course(tmp_path / "plain", graded, graded_class.submissions,
                                   {s: found[s] for s in students if s not in NOT_FOR_PLAIN_NBGRADER})
    finished = {}

    def run_plain():
        finished["failures"] = _plain_nbgrader(plain, [s for s in students if s not in NOT_FOR_PLAIN_NBGRADER],
                                               data_dir(), tmp_path)

    thread = threading.Thread(target=run_plain)
    thread.start()
    one_job = tmp_path / "one_job"
    try:
        assert ccdlab(["grade", str(subset), "--out", str(one_job), "--jobs", "1", "--timeout", TIMEOUT,
                       "--sandbox", "require" if graded_class.sandboxed else "off"]) == 0
    finally:
        thread.join()
    assert sorted(finished["failures"]) == sorted(s for s in PLAIN_NBGRADER_FAILS if s in students), \
        finished["failures"]

    two_jobs, one = _rows(graded), _rows(one_job)
    assert sorted(one) == sorted(students)
    different = []
    # Hand grades entered in the shared RESULTS by another test are not the grader's business here.
    manual = {grade_id for _, grade_id, _, is_manual in classbatch.grade_cells() if is_manual}
    skipped = manual | {"reason", "pending", "total"}
    for student in students:
        assert {k: v for k, v in one[student].items() if k not in skipped} == \
            {k: v for k, v in two_jobs[student].items() if k not in skipped}, student
        if student in NOT_FOR_PLAIN_NBGRADER or student in PLAIN_NBGRADER_FAILS:
            continue
        by_nbgrader = grading.student_scores(plain, student)
        auto = {grade_id: score for grade_id, (score, _maximum, manual) in by_nbgrader.items() if not manual}
        assert auto, student
        if any(float(one[student][grade_id]) != score for grade_id, score in auto.items()):
            different.append(student)
            assert sum(auto.values()) < float(one[student]["total"]), \
                f"{student}: plain nbgrader differs without ccdlab protecting the student"
    assert sorted(different) == sorted(s for s in PLAIN_NBGRADER_DIFFERS if s in students), PLAIN_NBGRADER_DIFFERS


def test_readme_counts_the_hostile_class():
    readme = " ".join((course.REPO_ROOT / "README.md").read_text().split())
    assert f"hostile class of {len(classbatch.EXPECTED)} synthetic students" in readme
