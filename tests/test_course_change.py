"""A TA changes the course and releases: `ccdlab grade` regrades with the new course.

Two changes at once, as a TA may make them: the points of a cell, and the
course's night (``ccdlab release --data DIR``: an observatory's night,
imported with ``ccdlab data --from`` from frames in real cameras'
conventions).  The perfect student is graded again and keeps full marks of
the new total on the new night; a student with named mistakes, graded on it,
loses exactly the cells of those mistakes, as on the bundled night.  Run on a
copy of the course (never the repository itself), with `ccdlab` run as a
command from that copy.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

import classbatch
from autograder import course, release, report
from convenience_functions import night as night_module
from convenience_functions.paths import BUNDLED_DATA_SUBDIR, COURSE_NIGHT_FILE, course_data_dir

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

COPIED = ("autograder", "convenience_functions", "solutions", "labs", "sample_data")


def _ccdlab(root, *args):
    env = dict(os.environ, PYTHONPATH=str(root))
    env.pop("CCDLAB_DATA", None)
    done = subprocess.run([sys.executable, "-m", "autograder.cli", *map(str, args)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def _manual_points(root):
    from autograder import course_checks
    from test_notebooks import MANUAL

    return sum(points for _, graded in course_checks.points_table(root) for grade_id, points in graded
               if grade_id in MANUAL)


def test_points_and_night_change_regrade_and_the_perfect_student_keeps_full_marks(tmp_path, imported_real_night):
    night_dir = imported_real_night
    root = tmp_path / "course"
    for name in COPIED:
        shutil.copytree(course.REPO_ROOT / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__", "Reduced_data", ".ipynb_checkpoints", "frames")
                        if name == "labs" else shutil.ignore_patterns("__pycache__", "Reduced_data",
                                                                      ".ipynb_checkpoints"))
    shutil.copy(course.REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    submissions, out = tmp_path / "subs", tmp_path / "results"
    classbatch.correct(submissions)
    _ccdlab(root, "grade", submissions, "--out", out, "--jobs", "1", "--timeout", "30")
    (before,) = report.read_csv(out / report.CSV_FILE)
    points = float(before["test_save_fits"])
    assert float(before["max_total"]) == 100 and points > 0

    # The TA gives test_save_fits one point more and makes the imported night the course's.
    path = course.source_dir(root) / "04_stacking.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "test_save_fits":
            meta["points"] = int(points) + 1
        elif meta.get("grade_id") == "question_save_fits":
            cell.source = cell.source.replace(f"({int(points)} points)", f"({int(points) + 1} points)")
    nbformat.write(notebook, str(path))
    bundle = tmp_path / "ccd_lab.zip"
    released = _ccdlab(root, "release", "--data", night_dir, "--bundle", bundle)
    assert "total: 101 points" in released and f"test_save_fits {int(points) + 1}" in released
    assert "the course's night is now the night imported from" in released and "no leaks" in released

    # One small file names the night; its frames are in labs/frames, and the bundle holds them where the
    # students' helpers look (sample_data/frames), notebook 06's simulated camera included.
    record = json.loads((root / COURSE_NIGHT_FILE).read_text())
    assert (root / record["frames"]) == root / release.COURSE_FRAMES
    assert course_data_dir(root) == (root / release.COURSE_FRAMES).resolve()
    assert night_module.read(root / release.COURSE_FRAMES) == night_module.read(night_dir)
    science = night_module.read(night_dir)["science_file"]
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        top = f"{release.BUNDLE_TOP}/{BUNDLED_DATA_SUBDIR.as_posix()}"
        assert archive.read(f"{top}/night.json") == (night_dir / "night.json").read_bytes()
    assert f"{top}/{science}" in names and f"{top}/simulated_camera/LampR-01a.fit" in names
    assert not any("CalR-" in name for name in names if "simulated_camera" not in name)

    # Graded again on the changed course: the perfect student keeps every auto-graded point of the new total
    # on the new night; a student with named mistakes (a mean master bias, the std of one bias) loses them.
    classbatch.mistake_bias_mean(submissions)
    printed = _ccdlab(root, "grade", submissions, "--out", out, "--jobs", "2", "--timeout", "30")
    assert "2 graded (1 again because the course changed" in printed
    rows = {row["student_id"]: row for row in report.read_csv(out / report.CSV_FILE)}
    after = rows["correct"]
    assert float(after["max_total"]) == 101 and float(after["test_save_fits"]) == points + 1
    assert float(after["total"]) == float(before["total"]) + 1 == 101 - _manual_points(root)
    for student in rows:
        expected = classbatch.expected_scores(student, classbatch.grade_cells(root))
        got = {grade_id: float(rows[student][grade_id] or 0) for grade_id in expected}
        assert got == {k: float(v) for k, v in expected.items()}, (student, rows[student]["reason"])
