"""TA tooling: labs/ is exactly nbgrader's release of solutions/, and nothing leaks."""

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import course, release
from autograder.cli import main as ccdlab

pytestmark = pytest.mark.slow


@pytest.fixture
def course_copy(tmp_path):
    """A copy of the repository's solutions/ and labs/ notebooks to plant faults in."""
    for folder in (course.source_dir(), course.release_dir()):
        target = tmp_path / folder.relative_to(course.REPO_ROOT)
        target.mkdir(parents=True)
        for notebook in folder.glob("*.ipynb"):
            shutil.copy(notebook, target / notebook.name)
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
# The student bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "ccd_lab.zip"
    assert ccdlab(["release", "--bundle", str(out)]) == 0
    return out


def test_bundle_holds_what_students_need_and_no_solution(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        text = "".join(archive.read(n).decode("utf-8", "replace") for n in names if n.endswith((".ipynb", ".py")))
    top = release.BUNDLE_TOP
    assert {f"{top}/{p.name}" for p in course.release_dir().glob("*.ipynb")} <= set(names)
    assert f"{top}/convenience_functions/display.py" in names
    assert f"{top}/sample_data/frames/truth.json" in names
    assert not [n for n in names if "/solutions/" in n or "/autograder/" in n or "checks" in n]
    for marker in course.SOLUTION_MARKERS + course.HIDDEN_TEST_MARKERS:
        assert marker not in text
    assert "import solutions" not in text and "autograder" not in text


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
