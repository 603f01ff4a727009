"""TA tooling: regenerate the student notebooks, check them, bundle them.

``ccdlab release`` runs nbgrader's ``generate_assignment`` on the
instructor notebooks in ``solutions/ccd_reduction/`` and writes the student
versions to ``labs/ccd_reduction/``.  ``ccdlab check`` regenerates them in a
scratch folder and fails when the committed ones differ, or when any file
that reaches students leaks (see :mod:`autograder.leaks`); the bundle is
scanned the same way and is not written when it leaks.
"""

import difflib
import json
import logging
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat

from . import course, course_checks, leaks
from .leaks import secret_lines  # noqa: F401  (part of this module's interface)


class ReleaseError(RuntimeError):
    """nbgrader could not generate the student version."""


class _NbgraderMessages(logging.Handler):
    """nbgrader's own error messages ("no end solution statement found", ...), kept for the TA."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.lines = []

    def emit(self, record):
        text = record.getMessage().strip()
        if text and "see the the above traceback" not in text and "above traceback" not in text:
            self.lines.append(text.splitlines()[-1][:300])


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
    said = _NbgraderMessages()
    logger = logging.getLogger("traitlets")
    logger.addHandler(said)
    try:
        converter.start()
    except Exception as error:  # nbgrader raises NbGraderException or plain errors
        details = "; ".join(said.lines) or str(error)
        raise ReleaseError(f"nbgrader generate_assignment failed on {course.source_dir(root)}: {details}") from error
    finally:
        logger.removeHandler(said)
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
    cells = nbformat.read(str(expected_path), as_version=4).cells
    for index, (want, have) in enumerate(zip(expected, actual)):
        if want != have:
            where = course_checks.cell_name(cells[index], index)
            diff = difflib.unified_diff(
                want.splitlines(), have.splitlines(), "regenerated", "committed", lineterm="", n=1
            )
            return f"{where} differs:\n    " + "\n    ".join(list(diff)[:12])
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
# The student bundle

BUNDLE_TOP = "ccd_lab"


def student_requirements():
    """Return the ``student`` extra of pyproject.toml, one requirement a line."""
    import re
    from importlib.metadata import requires

    wanted = re.compile(r"""extra\s*==\s*["']student["']""")
    return [req.split(";")[0].strip() for req in requires("ccdlab") or [] if wanted.search(req)]


README = """CCD data reduction lab

Set up once (Python 3.9 or newer), in this folder:

  Linux and macOS:
    python3 -m venv .venv
    .venv/bin/pip install -r requirements.txt
    .venv/bin/jupyter lab

  Windows (Command Prompt or PowerShell):
    py -m venv .venv
    .venv\\Scripts\\pip install -r requirements.txt
    .venv\\Scripts\\jupyter lab

Afterwards only the last line is needed to start JupyterLab again.

Open the notebooks in order, {first} to {last}.  Write your code where a cell says
YOUR CODE HERE (delete the raise NotImplementedError() line) and your
answers where it says YOUR ANSWER HERE; run the test cell after each answer
to check your work.  Before you hand a notebook in, restart its kernel and
run all cells (Kernel > Restart Kernel and Run All Cells) and save it.

To hand in: upload the {count} .ipynb files, with their names unchanged, as
your course asks (one zip of them is fine).  Nothing else is graded.
"""


def bundle_contents(root):
    """Return every file of the bundle, by its name under ``BUNDLE_TOP``.

    Parameters
    ----------
    root : pathlib.Path
        Course root, whose student files (:func:`autograder.leaks.student_files`) the bundle holds.

    Returns
    -------
    dict
        Name -> bytes: ``README.txt``, ``requirements.txt`` and the files
        of :func:`autograder.leaks.student_files`.
    """
    notebooks = sorted(path.name for path in course.release_dir(root).glob("*.ipynb")) or ["??"]
    readme = README.format(first=notebooks[0][:2], last=notebooks[-1][:2], count=len(notebooks))
    contents = {
        "README.txt": readme.encode("utf-8"),
        "requirements.txt": ("\n".join(student_requirements()) + "\n").encode("utf-8"),
    }
    for name, path in leaks.student_files(root).items():
        contents[name] = path.read_bytes()
    return contents


def leaks_in_bundle(root):
    """Scan the bundle of ``root`` (:func:`autograder.leaks.scan_course`); return the problems."""
    generated = bundle_contents(root)
    return leaks.scan_course(root, {name: generated[name] for name in ("README.txt", "requirements.txt")})


def build_bundle(root, out_zip):
    """Write the zip a TA hands out: student notebooks, helpers, frames and given masters.

    The notebooks sit at the top of the bundle beside ``convenience_functions/``
    and ``sample_data/frames/``, so they import the helpers and find the
    frames with nothing installed but the student requirements.  Nothing of
    ``solutions/``, the autograder or the truth file goes in, and nothing is
    written when the scan of :mod:`autograder.leaks` finds a problem.

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

    Raises
    ------
    ValueError
        If ``out_zip`` is not a .zip file.
    LeakError
        If a file of the bundle leaks (the message lists every problem).
    """
    out_zip = Path(out_zip).resolve()
    if out_zip.suffix != ".zip":
        raise ValueError(f"--bundle {out_zip}: the bundle must be a .zip file")
    problems = leaks_in_bundle(root)
    if problems:
        raise LeakError(problems)
    contents = bundle_contents(root)
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_zip, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(f"{BUNDLE_TOP}/{name}", data)
    return [f"{BUNDLE_TOP}/{name}" for name in contents]


class LeakError(RuntimeError):
    """A file that would reach students leaks; ``problems`` lists what."""

    def __init__(self, problems):
        super().__init__(f"{len(problems)} leak(s): " + "; ".join(problems))
        self.problems = problems


# ---------------------------------------------------------------------------
# The commands


#: Where ``ccdlab release --data`` puts the course's night, relative to the course root.
COURSE_FRAMES = Path("labs", "frames")


def use_night(root, data):
    """Make the night in ``data`` the course's (``ccdlab release --data DIR``); return a sentence saying so.

    Its frames (and its ``night.json``, given masters and simulated camera)
    are copied to ``root/labs/frames``, replacing the course's earlier night
    there, and ``root/course_night.json`` names that folder, with the night's
    label and where it came from: the two things a TA commits.  ``data``
    being the bundled frames folder goes back to it (both are removed).

    Raises
    ------
    ValueError
        If ``data`` is not a folder of frames with a valid ``night.json``
        (then nothing changed).
    """
    from convenience_functions import night
    from convenience_functions.paths import BUNDLED_DATA_SUBDIR, COURSE_NIGHT_FILE

    root, data = Path(root), Path(data).expanduser()
    record_file, target = root / COURSE_NIGHT_FILE, root / COURSE_FRAMES
    if not data.is_dir():
        raise ValueError(f"--data {data} is not a folder")
    if data.resolve() == (root / BUNDLED_DATA_SUBDIR).resolve():
        record_file.unlink(missing_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        return f"the course reduces the bundled frames ({BUNDLED_DATA_SUBDIR.as_posix()}) again"
    if data.resolve() == target.resolve():
        raise ValueError(f"--data {data} is already the course's frames folder")
    try:
        described = night.read(data)
    except night.NightFileError as error:
        raise ValueError(f"--data {data}: {error}") from None
    missing = [name for name in (*described["bias_files"], *described["dark_files"], *described["flat_files"],
                                 described["science_file"]) if not (data / name).is_file()]
    if missing:
        raise ValueError(f"--data {data}: {len(missing)} frame(s) its night.json names are missing, e.g. {missing[0]}")
    staging = target.with_name(f".{target.name}-new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(data, staging, ignore=shutil.ignore_patterns(".*", "*_truth.json"))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    from sample_data.simulate import truth_path

    truth_path(target).unlink(missing_ok=True)
    if truth_path(data).is_file():  # a simulated night's truth stays beside its frames, never in them
        shutil.copyfile(truth_path(data), truth_path(target))
    record = {"frames": COURSE_FRAMES.as_posix(), "label": described["label"], "from": str(data.resolve())}
    record_file.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return (f"the course's night is now {described['label']}: its frames are in {COURSE_FRAMES.as_posix()}/, "
            f"named in {COURSE_NIGHT_FILE} (commit both)")


def main_release(*, root=course.REPO_ROOT, bundle=None, data=None):
    """``ccdlab release``: regenerate ``labs/`` from ``solutions/`` (and bundle); ``data`` chooses the night."""
    root = Path(root)
    if data is not None:
        try:
            print(f"ccdlab release: {use_night(root, data)}")
        except ValueError as error:
            print(f"ccdlab release: {error}; nothing changed", file=sys.stderr)
            return 1
    broken = course_checks.marker_problems(root)
    if broken:
        print("ccdlab release: the instructor notebooks cannot be released:", *broken, sep="\n  ", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="ccdlab-release-") as scratch:
        try:
            generated = generate_release(root, Path(scratch))
        except ReleaseError as error:
            print(f"ccdlab release: {error}", file=sys.stderr)
            return 1
        target = course.release_dir(root)
        target.mkdir(parents=True, exist_ok=True)
        for stale in target.glob("*.ipynb"):
            if stale.name not in generated:
                stale.unlink()
        for name, path in generated.items():
            shutil.copyfile(path, target / name)
    print(f"ccdlab release: wrote {len(generated)} student notebooks to {target}")
    table = course_checks.points_table(root)
    for name, graded in table:
        print(f"  {name}: {sum(points for _, points in graded):g} points "
              f"({', '.join(f'{grade_id} {points:g}' for grade_id, points in graded)})")
    print(f"  total: {sum(points for _, graded in table for _, points in graded):g} points")
    problems = leaks_in_bundle(root)
    if problems:
        print("ccdlab release: what students get would leak (no bundle written):", *problems, sep="\n  ",
              file=sys.stderr)
        return 1
    if bundle is not None:
        names = build_bundle(root, bundle)
        size = Path(bundle).stat().st_size
        print(f"ccdlab release: wrote {bundle} ({len(names)} files, {size / 1e6:.1f} MB), scanned: no leaks")
    return 0


def main_check(*, root=course.REPO_ROOT):
    """``ccdlab check``: fail when ``labs/`` is stale or a file students get leaks."""
    root = Path(root)
    problems = course_checks.marker_problems(root)
    generated = {}
    if not problems:
        with tempfile.TemporaryDirectory(prefix="ccdlab-check-") as scratch:
            try:
                generated = generate_release(root, Path(scratch))
                problems = out_of_sync(root, generated)
            except ReleaseError as error:
                problems = [str(error)]
    problems += course_checks.points_problems(root) + course_checks.given_answer_problems(root)
    problems += leaks_in_bundle(root)
    if problems:
        print(f"ccdlab check: {len(problems)} problem(s) in {course.release_dir(root)}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print("Fix the instructor notebooks in solutions/ and run `ccdlab release`.", file=sys.stderr)
        return 1
    print(f"ccdlab check: {len(generated)} student notebooks in sync with solutions/; "
          f"{len(bundle_contents(root))} files students get scanned, no leaks")
    return 0
