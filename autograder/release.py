"""TA tooling: regenerate the student notebooks, check them, bundle them.

``ccdlab release`` runs nbgrader's ``generate_assignment`` on the
instructor notebooks in ``solutions/ccd_reduction/`` and writes the student
versions to ``labs/ccd_reduction/``.  ``ccdlab check`` regenerates them in a
scratch folder and fails when the committed ones differ, or when anything of
a solution or a hidden test reached them.
"""

import difflib
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat

from . import course


class ReleaseError(RuntimeError):
    """nbgrader could not generate the student version."""


# ---------------------------------------------------------------------------
# Generating the release with nbgrader


def generate_release(root, scratch):
    """Generate the student notebooks of ``root`` inside ``scratch``.

    The instructor notebooks are copied into a scratch course so that
    nbgrader's gradebook and its output never touch the repository.

    Parameters
    ----------
    root : pathlib.Path
        Course root holding ``solutions/ccd_reduction/*.ipynb``.
    scratch : pathlib.Path
        Empty folder to build the scratch course in.

    Returns
    -------
    dict
        Notebook file name -> path of the generated student notebook.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    sources = sorted(course.source_dir(root).glob("*.ipynb"))
    if not sources:
        raise ReleaseError(f"no instructor notebooks in {course.source_dir(root)}")
    scratch_source = course.source_dir(scratch)
    scratch_source.mkdir(parents=True)
    for notebook in sources:
        shutil.copy2(notebook, scratch_source / notebook.name)

    course.ensure_tools_on_path()
    config = course.nbgrader_config(root=scratch)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = course.ASSIGNMENT_ID
    converter = GenerateAssignment(coursedir=coursedir, config=config)
    converter.force = True
    converter.create_assignment = True
    try:
        converter.start()
    except Exception as error:  # nbgrader raises NbGraderException or plain errors
        raise ReleaseError(
            f"nbgrader generate_assignment failed on {course.source_dir(root)}: {error}"
        ) from error
    generated = course.release_dir(scratch)
    return {path.name: path for path in sorted(generated.glob("*.ipynb"))}


# ---------------------------------------------------------------------------
# Comparing a committed release with a fresh one


def _cell_sources(path):
    notebook = nbformat.read(str(path), as_version=4)
    return [cell.source for cell in notebook.cells]


def describe_difference(expected_path, actual_path):
    """Return a short human-readable account of how two notebooks differ."""
    expected = _cell_sources(expected_path)
    actual = _cell_sources(actual_path)
    if len(expected) != len(actual):
        return f"{len(actual)} cells instead of {len(expected)}"
    for index, (want, have) in enumerate(zip(expected, actual)):
        if want != have:
            diff = difflib.unified_diff(
                want.splitlines(), have.splitlines(), "regenerated", "committed", lineterm="", n=1
            )
            return f"cell {index} differs:\n    " + "\n    ".join(list(diff)[:12])
    return "cell metadata, outputs or formatting differ"


def out_of_sync(root, generated):
    """List the differences between ``labs/`` and a freshly generated release.

    Parameters
    ----------
    root : pathlib.Path
        Course root.
    generated : dict
        Notebook name -> freshly generated student notebook.

    Returns
    -------
    list of str
        One line (or block) per problem; empty when in sync.
    """
    problems = []
    committed_dir = course.release_dir(root)
    committed = {path.name: path for path in committed_dir.glob("*.ipynb")}
    for name in sorted(set(generated) - set(committed)):
        problems.append(f"{committed_dir / name} is missing")
    for name in sorted(set(committed) - set(generated)):
        problems.append(f"{committed_dir / name} has no instructor notebook in {course.source_dir(root)}")
    for name in sorted(set(generated) & set(committed)):
        if generated[name].read_bytes() != committed[name].read_bytes():
            why = describe_difference(generated[name], committed[name])
            problems.append(f"{committed[name]} is out of sync with {course.source_dir(root) / name}: {why}")
    return problems


# ---------------------------------------------------------------------------
# Finding solutions or hidden tests in the student notebooks


def _between(lines, begin, end):
    """Split ``lines`` into those inside ``begin``/``end`` markers and the rest."""
    inside, outside, depth = [], [], False
    for line in lines:
        if begin in line:
            depth = True
        elif end in line:
            depth = False
        elif depth:
            inside.append(line)
        else:
            outside.append(line)
    return inside, outside


def secret_lines(source_notebook):
    """Return the lines of an instructor notebook that students must not see.

    These are the lines of solution regions, hidden-test regions and
    whole solution cells, less any line that also appears in the public part
    of the notebook (a ``return`` can be both) and less blank lines.

    Parameters
    ----------
    source_notebook : nbformat.NotebookNode

    Returns
    -------
    set of str
        Stripped lines.
    """
    secret, public = set(), set()
    for cell in source_notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        lines = cell.source.splitlines()
        if meta.get("solution") and not any(course.SOLUTION_MARKERS[0] in line for line in lines):
            secret.update(lines)
            continue
        inside_solution, rest = _between(lines, *course.SOLUTION_MARKERS)
        inside_hidden, rest = _between(rest, *course.HIDDEN_TEST_MARKERS)
        secret.update(inside_solution + inside_hidden)
        public.update(rest)
    stripped = {line.strip() for line in secret} - {line.strip() for line in public}
    trivial = {"", "pass", "else:", "try:", "return", "}", ")", "]"}
    return {line for line in stripped if line not in trivial and not line.startswith("#")}


def find_leaks(source_path, release_path):
    """List what of an instructor notebook appears in its student version.

    Parameters
    ----------
    source_path, release_path : pathlib.Path

    Returns
    -------
    list of str
        One message per leak, naming the cell and the leaked line.
    """
    source = nbformat.read(str(source_path), as_version=4)
    release = nbformat.read(str(release_path), as_version=4)
    secrets = secret_lines(source)
    markers = course.SOLUTION_MARKERS + course.HIDDEN_TEST_MARKERS
    leaks = []
    for index, cell in enumerate(release.cells):
        for line in cell.source.splitlines():
            where = f"{release_path} cell {index}"
            if any(marker.lstrip("# ") in line for marker in markers):
                leaks.append(f"{where}: nbgrader marker left in: {line.strip()!r}")
            elif line.strip() in secrets:
                leaks.append(f"{where}: solution or hidden-test line: {line.strip()!r}")
        if cell.cell_type == "code":
            if cell.get("outputs"):
                leaks.append(f"{release_path} cell {index}: stored outputs (may show a solution's results)")
            for line in cell.source.splitlines():
                words = line.replace(",", " ").split()
                if words[:1] in (["import"], ["from"]) and any(
                    w.split(".")[0] in ("solutions", "autograder") for w in words[1:2]
                ):
                    leaks.append(f"{where}: imports instructor code: {line.strip()!r}")
    return leaks


def leaks_in_release(root):
    """Run :func:`find_leaks` on every committed student notebook of ``root``."""
    problems = []
    for release_path in sorted(course.release_dir(root).glob("*.ipynb")):
        source_path = course.source_dir(root) / release_path.name
        if source_path.exists():
            problems.extend(find_leaks(source_path, release_path))
    return problems


# ---------------------------------------------------------------------------
# The student bundle

BUNDLE_TOP = "ccd_lab"


def student_requirements():
    """Return the ``student`` extra of pyproject.toml, one requirement a line."""
    import re
    from importlib.metadata import requires

    wanted = re.compile(r"""extra\s*==\s*["']student["']""")
    return [req.split(";")[0].strip() for req in requires("ccdlab") or [] if wanted.search(req)]


def _bundle_members(root):
    root = Path(root)
    members = {}
    for notebook in sorted(course.release_dir(root).glob("*.ipynb")):
        members[notebook.name] = notebook
    for module in sorted((root / "convenience_functions").glob("*.py")):
        members[f"convenience_functions/{module.name}"] = module
    from convenience_functions import data_dir

    for frame in sorted(data_dir().iterdir()):
        if frame.is_file() and not frame.name.startswith("."):
            members[f"sample_data/frames/{frame.name}"] = frame
    return members


def build_bundle(root, out_zip):
    """Write the zip a TA hands out: student notebooks, helpers and frames.

    The notebooks sit at the top of the bundle beside ``convenience_functions/``
    and ``sample_data/frames/``, so they import the helpers and find the
    frames with nothing installed but the student requirements.  Nothing of
    ``solutions/`` or the autograder goes in.

    Parameters
    ----------
    root : pathlib.Path
        Course root.
    out_zip : str or pathlib.Path
        Zip file to write (its folder is created if missing).

    Returns
    -------
    list of str
        The archive names written.
    """
    out_zip = Path(out_zip).resolve()
    if out_zip.suffix != ".zip":
        raise ValueError(f"--bundle {out_zip}: the bundle must be a .zip file")
    members = _bundle_members(root)
    names = []
    readme = (
        "CCD data reduction lab\n\n"
        "  python3 -m venv .venv && .venv/bin/pip install -r requirements.txt\n"
        "  .venv/bin/jupyter lab\n\n"
        "Open the notebooks in order, 01 to 05.  Each one has cells marked with\n"
        "YOUR CODE HERE; run the test cell after each to check your work.\n"
    )
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_zip, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{BUNDLE_TOP}/README.txt", readme)
        archive.writestr(f"{BUNDLE_TOP}/requirements.txt", "\n".join(student_requirements()) + "\n")
        names += [f"{BUNDLE_TOP}/README.txt", f"{BUNDLE_TOP}/requirements.txt"]
        for name, path in members.items():
            archive.write(path, f"{BUNDLE_TOP}/{name}")
            names.append(f"{BUNDLE_TOP}/{name}")
    return names


# ---------------------------------------------------------------------------
# The commands


def main_release(*, root=course.REPO_ROOT, bundle=None):
    """``ccdlab release``: regenerate ``labs/`` from ``solutions/`` (and bundle)."""
    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="ccdlab-release-") as scratch:
        generated = generate_release(root, Path(scratch))
        target = course.release_dir(root)
        target.mkdir(parents=True, exist_ok=True)
        for stale in target.glob("*.ipynb"):
            if stale.name not in generated:
                stale.unlink()
        for name, path in generated.items():
            shutil.copyfile(path, target / name)
    print(f"ccdlab release: wrote {len(generated)} student notebooks to {target}")
    leaks = leaks_in_release(root)
    if leaks:
        print("ccdlab release: the student notebooks would leak:", *leaks, sep="\n  ", file=sys.stderr)
        return 1
    if bundle is not None:
        names = build_bundle(root, bundle)
        print(f"ccdlab release: wrote {bundle} ({len(names)} files)")
    return 0


def main_check(*, root=course.REPO_ROOT):
    """``ccdlab check``: fail when ``labs/`` is stale or leaks a solution."""
    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="ccdlab-check-") as scratch:
        generated = generate_release(root, Path(scratch))
        problems = out_of_sync(root, generated)
    problems += leaks_in_release(root)
    if problems:
        print(f"ccdlab check: {len(problems)} problem(s) in {course.release_dir(root)}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print("Fix the instructor notebooks in solutions/ and run `ccdlab release`.", file=sys.stderr)
        return 1
    print(f"ccdlab check: {len(generated)} student notebooks in sync with solutions/, no leaks")
    return 0
