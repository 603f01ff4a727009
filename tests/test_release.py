"""TA tooling: labs/ is exactly nbgrader's release of solutions/, and nothing leaks."""

import ast
import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import nbformat
import pytest
from astropy.io import fits

from autograder import course, leaks, release
from autograder.cli import main as ccdlab
from convenience_functions import lab
from sample_data import simulate

pytestmark = pytest.mark.slow


@pytest.fixture
def course_copy(tmp_path):
    """A copy of what students get and of the instructor notebooks and truth, to plant faults in."""
    for folder in (course.source_dir(), course.release_dir()):
        target = tmp_path / folder.relative_to(course.REPO_ROOT)
        target.mkdir(parents=True)
        for notebook in folder.glob("*.ipynb"):
            shutil.copy(notebook, target / notebook.name)
    (tmp_path / "convenience_functions").mkdir()
    for module in (course.REPO_ROOT / "convenience_functions").glob("*.py"):
        shutil.copy(module, tmp_path / "convenience_functions" / module.name)
    frames = leaks.frames_dir(tmp_path)
    shutil.copytree(simulate.BUNDLED_DIR, frames)
    shutil.copy(simulate.BUNDLED_TRUTH, simulate.truth_path(frames))
    return tmp_path


def _solution_line(root):
    """A non-trivial line from inside some solution region of the sources."""
    for path in sorted(course.source_dir(root).glob("*.ipynb")):
        secrets = release.secret_lines(nbformat.read(str(path), as_version=4))
        for line in sorted(secrets):
            if len(line) > 20 and not line.startswith(("from ", "import ")):
                return path.name, line
    raise AssertionError("no solution line found in the instructor notebooks")


def test_labs_is_exactly_the_regenerated_release(tmp_path):
    generated = release.generate_release(course.REPO_ROOT, tmp_path)
    committed = {p.name: p for p in course.release_dir().glob("*.ipynb")}
    assert sorted(generated) == sorted(committed)
    for name, path in generated.items():
        assert path.read_bytes() == committed[name].read_bytes(), name


def test_check_passes_on_the_repository(capsys):
    assert ccdlab(["check"]) == 0
    assert "in sync" in capsys.readouterr().out


def test_source_and_release_are_stored_without_outputs():
    for folder in (course.source_dir(), course.release_dir()):
        for path in folder.glob("*.ipynb"):
            notebook = nbformat.read(str(path), as_version=4)
            for cell in notebook.cells:
                if cell.cell_type == "code":
                    assert cell.outputs == [] and cell.execution_count is None, path


def test_check_fails_on_a_planted_leak(course_copy, capsys):
    name, line = _solution_line(course_copy)
    path = course.release_dir(course_copy) / name
    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(f"# copied from the answer key\n{line}\n"))
    nbformat.write(notebook, str(path))
    assert release.main_check(root=course_copy) == 1
    err = capsys.readouterr().err
    assert "solution or hidden-test line" in err and line in err


def test_check_fails_on_a_planted_marker(course_copy, capsys):
    path = sorted(course.release_dir(course_copy).glob("*.ipynb"))[0]
    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS"))
    nbformat.write(notebook, str(path))
    assert release.main_check(root=course_copy) == 1
    assert "nbgrader marker" in capsys.readouterr().err


def test_check_fails_on_an_out_of_sync_edit(course_copy, capsys):
    path = sorted(course.source_dir(course_copy).glob("*.ipynb"))[-1]
    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells[0].source += "\n\nA sentence the TA added but never released."
    nbformat.write(notebook, str(path))
    assert release.main_check(root=course_copy) == 1
    err = capsys.readouterr().err
    assert "out of sync" in err and path.name in err and "never released" in err


def test_release_rewrites_a_stale_lab(course_copy, capsys):
    stale = sorted(course.release_dir(course_copy).glob("*.ipynb"))[0]
    stale.write_text(stale.read_text().replace("YOUR CODE HERE", "YOUR CODE HERE!!"))
    assert release.main_check(root=course_copy) == 1
    assert release.main_release(root=course_copy) == 0
    assert release.main_check(root=course_copy) == 0


def test_secret_lines_ignore_public_lines():
    source = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1\nreturn result", metadata={}),
        nbformat.v4.new_code_cell(
            "def f():\n    ### BEGIN SOLUTION\n    result = 42 * 2\n    return result\n    ### END SOLUTION",
            metadata={"nbgrader": {"solution": True, "grade": False, "grade_id": "f"}},
        ),
    ])
    assert release.secret_lines(source) == {"result = 42 * 2"}


# ---------------------------------------------------------------------------
# Every file students get is scanned: one planted leak of each kind


def _truth():
    return json.loads(simulate.BUNDLED_TRUTH.read_text())


def _hidden_test_line(root):
    """A line from inside some hidden-test region of the sources."""
    for path in sorted(course.source_dir(root).glob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            lines = cell.source.splitlines()
            if course.HIDDEN_TEST_MARKERS[0] in lines:
                inside = lines[lines.index(course.HIDDEN_TEST_MARKERS[0]) + 1:]
                return next(line for line in inside if line.startswith("check_"))
    raise AssertionError("no hidden test found in the instructor notebooks")


def _append(path, text):
    path.write_text(path.read_text() + text)


def _add_cell(root, cell):
    path = sorted(course.release_dir(root).glob("*.ipynb"))[0]
    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells.append(cell)
    nbformat.write(notebook, str(path))
    return path.name


def plant_solution_line_in_a_module(root):
    line = sorted(line for line in leaks.Secrets(root).lines if len(line) > 30 and "import" not in line)[0]
    (root / "convenience_functions" / "helpers.py").write_text(f"def helper(stack):\n    {line}\n")
    return "convenience_functions/helpers.py", "solution or hidden-test line"


def plant_hidden_test_line(root):
    name = _add_cell(root, nbformat.v4.new_code_cell(_hidden_test_line(root)))
    return name, "solution or hidden-test line"


def plant_truth_value_in_markdown(root):
    value = f"{_truth()['mean_dark_current_e_per_s']:.4f}"  # 3 significant digits or more
    name = _add_cell(root, nbformat.v4.new_markdown_cell(f"The mean dark current is {value} e-/s/pixel."))
    return name, "reference answer mean_dark_current_e_per_s"


def plant_truth_value_in_a_fits_header(root):
    master = leaks.frames_dir(root) / lab.GIVEN_MASTER_FILES["flat"]
    fits.setval(master, "SKYLEVEL", value=_truth()["sky_background_adu"], comment="[ADU] sky")
    return f"sample_data/frames/{master.name} HDU 0 card", "reference answer sky_background_adu"


def plant_truth_file_in_the_frames_folder(root):
    shutil.copy(simulate.BUNDLED_TRUTH, leaks.frames_dir(root) / "truth.json")
    return "sample_data/frames/truth.json", "a truth file"


def plant_module_defining_a_graded_function(root):
    (root / "convenience_functions" / "masters.py").write_text(
        "import numpy as np\n\n\ndef combine_bias(files):\n    return np.median(files, axis=0)\n"
    )
    return "convenience_functions/masters.py", "defines combine_bias, a graded function"


def plant_mention_of_ccdlab_data(root):
    _append(root / "convenience_functions" / "paths.py", "\n# Missing frames? Run `ccdlab data`.\n")
    return "convenience_functions/paths.py", "a ccdlab command"


PLANTS = [plant_solution_line_in_a_module, plant_hidden_test_line, plant_truth_value_in_markdown,
          plant_truth_value_in_a_fits_header, plant_truth_file_in_the_frames_folder,
          plant_module_defining_a_graded_function, plant_mention_of_ccdlab_data]


def test_the_copy_is_clean(course_copy, capsys):
    assert release.main_check(root=course_copy) == 0, capsys.readouterr().err


@pytest.mark.parametrize("plant", PLANTS, ids=[plant.__name__[len("plant_"):] for plant in PLANTS])
def test_check_and_bundle_fail_on_each_kind_of_planted_leak(course_copy, tmp_path, capsys, plant):
    where, what = plant(course_copy)
    assert release.main_check(root=course_copy) == 1
    err = capsys.readouterr().err
    assert what in err and where in err, err
    out = tmp_path / "out" / "ccd_lab.zip"
    with pytest.raises(release.LeakError, match=what):
        release.build_bundle(course_copy, out)
    assert not out.exists()


def test_check_fails_without_the_truth_file(course_copy, capsys):
    simulate.truth_path(leaks.frames_dir(course_copy)).unlink()
    assert release.main_check(root=course_copy) == 1
    assert "cannot check for reference answers" in capsys.readouterr().err


def test_answer_values_keep_only_precise_numbers():
    values = leaks.answer_values({"seed": 20200131, "gain_e_per_adu": 2.0, "dark_exptime_s": 60.0,
                                  "mean": 0.587943226, "level": 0.5000070919, "n_hot": 120, "n": 42,
                                  "noise": 5.0, "sky": 1350.0})
    assert {"0.587943226", "0.588", "0.5879", "0.500", "0.5000", "120", "1350.0", "1350.00"} <= set(values)
    for ordinary in ("2", "2.0", "60", "60.0", "20200131", "0.59", "0.50", "42", "5.0", "1350"):
        assert ordinary not in values, ordinary
    secrets = leaks.Secrets(course.REPO_ROOT)
    printed = f"{_truth()['mean_dark_current_e_per_s']:.4f}"
    assert secrets.find_values(f"dark current {printed} e-/s")
    assert not secrets.find_values(f"{printed}1 or 1{printed}")


# ---------------------------------------------------------------------------
# The student bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "ccd_lab.zip"
    assert ccdlab(["release", "--bundle", str(out)]) == 0
    return out


def test_bundle_holds_what_students_need_and_no_answers(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        text = "".join(archive.read(n).decode("utf-8", "replace") for n in names if n.endswith((".ipynb", ".py")))
        modules = {n: archive.read(n).decode("utf-8") for n in names if n.endswith(".py")}
    top = release.BUNDLE_TOP
    assert {f"{top}/{p.name}" for p in course.release_dir().glob("*.ipynb")} <= set(names)
    assert f"{top}/convenience_functions/display.py" in names
    assert {f"{top}/sample_data/frames/{name}" for name in lab.GIVEN_MASTER_FILES.values()} <= set(names)
    assert not [n for n in names if "truth" in n.lower()]
    assert not [n for n in names if "/solutions/" in n or "/autograder/" in n or "checks" in n]
    for marker in course.SOLUTION_MARKERS + course.HIDDEN_TEST_MARKERS:
        assert marker not in text
    assert "import solutions" not in text and "autograder" not in text
    # No module a student receives implements a graded function.
    graded = leaks.graded_functions(nbformat.read(str(p), as_version=4) for p in course.source_dir().glob("*.ipynb"))
    assert {"load_stack", "combine_bias", "combine_flats", "save_fits", "process_data"} <= graded
    for name, source in modules.items():
        defined = {node.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)}
        assert not defined & graded, (name, defined & graded)


@pytest.fixture(scope="module")
def student_env(tmp_path_factory, bundle):
    """The bundle unpacked beside a fresh virtual environment with only the student requirements."""
    home = tmp_path_factory.mktemp("student")
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(home)
    unpacked = home / release.BUNDLE_TOP
    env_dir = home / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "-r", str(unpacked / "requirements.txt")]
    subprocess.run(install, check=True, timeout=900)
    return unpacked, python


def test_student_bundle_runs_release_notebooks_in_a_fresh_environment(student_env):
    unpacked, python = student_env
    for module in ("solutions", "autograder"):
        found = subprocess.run([str(python), "-c", f"import {module}"], cwd=unpacked, capture_output=True)
        assert found.returncode != 0, f"{module} is importable in the student environment"
    runner = (
        "import sys, nbformat, nbclient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "nbclient.NotebookClient(nb, timeout=120, allow_errors=True, kernel_name='python3',\n"
        "    resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
        "for cell in nb.cells:\n"
        "    for out in cell.get('outputs', []):\n"
        "        if out.output_type == 'error':\n"
        "            print(out.ename)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CCDLAB_DATA", "PYTHONPATH")}
    for notebook in sorted(unpacked.glob("*.ipynb")):
        result = subprocess.run(
            [str(python), "-c", runner, str(notebook), str(unpacked)],
            capture_output=True, text=True, timeout=300, env=env, cwd=unpacked,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        errors = set(result.stdout.split())
        assert errors, f"{notebook.name}: the stubs should raise NotImplementedError"
        assert errors <= {"NotImplementedError", "AssertionError"}, (notebook.name, errors)


def test_release_data_goes_back_and_refuses_bad_folders(tmp_path, imported_real_night):
    """``ccdlab release --data DIR`` on a small course folder: the night is copied and named; bad folders get
    an error naming them and change nothing; the bundled folder goes back."""
    from convenience_functions import night as night_module
    from convenience_functions.paths import BUNDLED_DATA_SUBDIR, COURSE_NIGHT_FILE, course_data_dir

    imported = imported_real_night
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
