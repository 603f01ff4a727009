"""A course released on an observatory's night: ``ccdlab release --data DIR``, then ``ccdlab grade``.

The night of tests/realnight.py (real cameras' conventions) is imported with
``ccdlab data --from`` and made a copy of the course's night.  The bundle then
holds its frames; a perfect student scores every auto-graded point on it, and
students with a named mistake lose exactly the cells of their mistakes, as on
the bundled night.  Going back to the bundled night and bad ``--data`` folders
are checked on a small folder, fast.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

import classbatch
import realnight
from autograder import course, release, report
from autograder.cli import main as ccdlab
from convenience_functions import night as night_module
from convenience_functions.paths import BUNDLED_DATA_SUBDIR, COURSE_NIGHT_FILE, course_data_dir

COPIED = ("autograder", "convenience_functions", "solutions", "labs", "sample_data")


def _ccdlab(root, *args):
    env = dict(os.environ, PYTHONPATH=str(root))
    env.pop("CCDLAB_DATA", None)
    done = subprocess.run([sys.executable, "-m", "autograder.cli", *map(str, args)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    base = tmp_path_factory.mktemp("observatory")
    realnight.write_real_night(base / "raw", base / "scratch")
    assert ccdlab(["data", "--from", str(base / "raw"), "--out", str(base / "night")]) == 0
    return base / "night"


@pytest.mark.slow
def test_a_course_on_an_imported_night_grades_as_on_the_bundled_one(imported, tmp_path):
    root = tmp_path / "course"
    for name in COPIED:
        shutil.copytree(course.REPO_ROOT / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__", "Reduced_data", ".ipynb_checkpoints", "frames"
                                                      if name == "labs" else "__nothing__"))
    shutil.copy(course.REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    bundle = tmp_path / "ccd_lab.zip"
    printed = _ccdlab(root, "release", "--data", imported, "--bundle", bundle)
    assert "the course's night is now the night imported from" in printed and "no leaks" in printed

    # One small file names the night; its frames are in labs/frames, and the bundle holds them where the
    # students' helpers look (sample_data/frames), the simulated camera of notebook 06 included.
    record = json.loads((root / COURSE_NIGHT_FILE).read_text())
    assert (root / record["frames"]) == root / release.COURSE_FRAMES
    assert course_data_dir(root) == (root / release.COURSE_FRAMES).resolve()
    assert night_module.read(root / release.COURSE_FRAMES) == night_module.read(imported)
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        top = f"{release.BUNDLE_TOP}/{BUNDLED_DATA_SUBDIR.as_posix()}"
        assert archive.read(f"{top}/night.json") == (imported / "night.json").read_bytes()
    assert f"{top}/{realnight.SCIENCE_FILE}" in names and f"{top}/simulated_camera/LampR-01a.fit" in names
    assert not any("CalR-" in name for name in names if "simulated_camera" not in name)

    # Graded on it: the perfect student gets every auto-graded point, a mistake costs its cells.
    submissions, out = tmp_path / "subs", tmp_path / "results"
    students = {"correct": classbatch.correct, "mistake_bias_mean": None, "mistake_flat_mean": None}
    builders = {builder.__name__ if hasattr(builder, "__name__") else None: builder for builder in classbatch.STUDENTS}
    for student in students:
        (students[student] or builders[student])(submissions)
    _ccdlab(root, "grade", submissions, "--out", out, "--jobs", "2", "--timeout", "30")
    rows = {row["student_id"]: row for row in report.read_csv(out / report.CSV_FILE)}
    for student in students:
        expected = classbatch.expected_scores(student, classbatch.grade_cells())
        got = {grade_id: float(rows[student][grade_id] or 0) for grade_id in expected}
        assert got == {k: float(v) for k, v in expected.items()}, (student, rows[student]["reason"])
    assert float(rows["correct"]["total"]) == float(rows["correct"]["max_total"]) - sum(
        points for grade_id, points in _manual(root))  # every auto-graded point; the hand-graded ones pending


def _manual(root):
    """(grade_id, points) of the cells graded by hand."""
    from autograder import course_checks

    from test_notebooks import MANUAL

    return [(grade_id, points) for _, graded in course_checks.points_table(root) for grade_id, points in graded
            if grade_id in MANUAL]


def test_release_data_goes_back_and_refuses_bad_folders(tmp_path, imported):
    root = tmp_path / "course"
    (root / BUNDLED_DATA_SUBDIR).mkdir(parents=True)
    assert release.use_night(root, imported).startswith("the course's night is now")
    assert (root / COURSE_NIGHT_FILE).is_file() and (root / release.COURSE_FRAMES / "night.json").is_file()
    # Bad folders: a clear error naming the folder, and the course's night untouched.
    before = (root / COURSE_NIGHT_FILE).read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    lacking = tmp_path / "lacking"
    shutil.copytree(imported, lacking)
    (lacking / night_module.read(imported)["science_file"]).unlink()
    for folder, words in ((tmp_path / "nowhere", "is not a folder"), (empty, "night.json is missing"),
                          (lacking, "are missing")):
        with pytest.raises(ValueError, match=words) as error:
            release.use_night(root, folder)
        assert str(folder) in str(error.value)
        assert (root / COURSE_NIGHT_FILE).read_bytes() == before
    # Back to the bundled frames: both files go.
    assert "bundled frames" in release.use_night(root, root / BUNDLED_DATA_SUBDIR)
    assert not (root / COURSE_NIGHT_FILE).exists() and not (root / release.COURSE_FRAMES).exists()
    assert course_data_dir(root) == root / BUNDLED_DATA_SUBDIR
