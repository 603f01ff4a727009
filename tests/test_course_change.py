"""A TA changes the points in solutions/ and releases: `ccdlab grade` regrades with the new course.

Run on a copy of the course (never the repository itself), with `ccdlab` run
as a command from that copy.
"""

import os
import shutil
import subprocess
import sys

import nbformat
import pytest

import classbatch
from autograder import course, report

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

COPIED = ("autograder", "convenience_functions", "solutions", "labs", "sample_data")


def _ccdlab(root, *args):
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-m", "autograder.cli", *map(str, args)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_a_points_change_regrades_and_the_perfect_student_keeps_full_marks_of_the_new_total(tmp_path):
    root = tmp_path / "course"
    for name in COPIED:
        shutil.copytree(course.REPO_ROOT / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__", "Reduced_data", ".ipynb_checkpoints"))
    shutil.copy(course.REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    submissions, out = tmp_path / "subs", tmp_path / "results"
    classbatch.correct(submissions)
    _ccdlab(root, "grade", submissions, "--out", out, "--jobs", "1", "--timeout", "30")
    (before,) = report.read_csv(out / report.CSV_FILE)
    points = float(before["test_save_fits"])
    assert float(before["max_total"]) == 100 and points > 0

    path = course.source_dir(root) / "04_stacking.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "test_save_fits":
            meta["points"] = int(points) + 1
        elif meta.get("grade_id") == "question_save_fits":
            cell.source = cell.source.replace(f"({int(points)} points)", f"({int(points) + 1} points)")
    nbformat.write(notebook, str(path))
    released = _ccdlab(root, "release")
    assert "total: 101 points" in released and f"test_save_fits {int(points) + 1}" in released

    printed = _ccdlab(root, "grade", submissions, "--out", out, "--jobs", "1", "--timeout", "30")
    assert "1 graded (1 again because the course changed" in printed
    (after,) = report.read_csv(out / report.CSV_FILE)
    assert float(after["max_total"]) == 101 and float(after["test_save_fits"]) == points + 1
    assert float(after["total"]) == float(before["total"]) + 1
