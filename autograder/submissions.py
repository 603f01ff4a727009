"""Finding and reading a class's submissions.

Two layouts are understood, and may be mixed in one folder:

* nbgrader's: ``<student_id>/ccd_reduction/*.ipynb`` (one folder per student);
* a course site's export: ``<student_id>.zip`` with the notebooks anywhere
  inside, matched by file name.

A submission is read into memory as plain data (bytes per notebook), so it
can be graded in another process or on another machine.
"""

import dataclasses
import hashlib
import json
import os
import re
import zipfile
from pathlib import Path, PurePosixPath

from . import course

#: Student ids become folder names and CSV cells: keep them plain.
_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$")

#: A zip larger than this is not unpacked (a zip bomb would fill the disk).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: A renamed notebook larger than this is not read to match it by content.
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


class SubmissionsError(ValueError):
    """The submissions folder cannot be graded at all."""


@dataclasses.dataclass
class Submission:
    """One student's hand-in, as data.

    Attributes
    ----------
    student_id : str
    notebooks : dict
        Expected notebook file name -> its bytes, for those handed in.
    extra_files : list of str
        Other files handed in beside the notebooks (never graded).
    problems : list of str
        What could not be read (a broken zip, ...).
    flags : list of str
        What needs an instructor's look (two hand-ins for one notebook).
    notes : list of str
        What was done that the instructor should know (a renamed hand-in matched by content).
    """

    student_id: str
    notebooks: dict
    extra_files: list = dataclasses.field(default_factory=list)
    problems: list = dataclasses.field(default_factory=list)
    flags: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)

    def fingerprint(self):
        """A digest of everything handed in, to tell an unchanged resubmission."""
        digest = hashlib.sha256()
        for name in sorted(self.notebooks):
            digest.update(name.encode() + b"\0" + hashlib.sha256(self.notebooks[name]).digest())
        for item in sorted(self.extra_files) + sorted(self.problems) + sorted(self.flags):
            digest.update(item.encode() + b"\0")
        return digest.hexdigest()


def expected_notebooks(root=course.REPO_ROOT):
    """File names of the assignment's notebooks (from the instructor sources)."""
    return sorted(path.name for path in course.source_dir(root).glob("*.ipynb"))


def expected_cell_ids(root=course.REPO_ROOT):
    """Notebook file name -> the nbgrader cell ids (grade_id) of its cells, from the student notebooks."""
    found = {}
    for path in sorted(course.release_dir(root).glob("*.ipynb")):
        cells = json.loads(path.read_text()).get("cells", [])
        found[path.name] = {cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") for cell in cells} - {None}
    return found


def _cell_ids(data):
    try:
        notebook = json.loads(data.decode("utf-8"))
        return {cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") for cell in notebook["cells"]} - {None}
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        return set()


def adopt_renamed(submission, candidates, ids_by_notebook):
    """Match notebooks handed in under other names to the assignment's, by their nbgrader cell ids.

    Course sites rename resubmissions (``01_fits_basics-1.ipynb``,
    ``01_fits_basics (1).ipynb``, ``..._late.ipynb``).  A candidate is taken
    for the notebook whose cell ids it shares most (at least half of them).
    Two hand-ins for one notebook: the one with the expected name (or else
    the first by name) is graded and the submission is flagged, naming both.

    Parameters
    ----------
    submission : Submission
    candidates : dict
        Name (as handed in) -> bytes, of the ``.ipynb`` files not named as expected.
    ids_by_notebook : dict
        Expected notebook name -> set of cell ids (:func:`expected_cell_ids`).
    """
    claims = {}
    for name in sorted(candidates):
        ids = _cell_ids(candidates[name])
        best, overlap = None, 0
        for notebook, wanted in ids_by_notebook.items():
            shared = len(ids & wanted)
            if wanted and shared * 2 >= len(wanted) and shared > overlap:
                best, overlap = notebook, shared
        if best is not None:
            claims.setdefault(best, []).append(name)
    for notebook, names in sorted(claims.items()):
        if notebook in submission.notebooks:
            submission.flags.append(f"two hand-ins for {notebook}: {notebook} (graded) and {', '.join(names)}")
            continue
        if len(names) > 1:
            submission.flags.append(f"two hand-ins for {notebook}: {' and '.join(names)} ({names[0]} graded)")
        submission.notebooks[notebook] = candidates[names[0]]
        submission.notes.append(f"{names[0]} graded as {notebook}")
        for name in names[:1]:
            if name in submission.extra_files:
                submission.extra_files.remove(name)
    return submission


def _from_folder(student_id, folder, expected):
    from .safefiles import NotRegularFile, read_regular

    assignment = folder / course.ASSIGNMENT_ID
    base = assignment if assignment.is_dir() and not assignment.is_symlink() else folder
    notebooks, extras, problems, candidates = {}, [], [], {}
    for parent, dirs, files in os.walk(base, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(parent, d))]:
            path = Path(parent) / name
            relative = path.relative_to(base).as_posix()
            if name.startswith("."):
                continue
            if path.is_symlink():
                problems.append(f"{relative} is a symbolic link: not read")
            elif name in expected and path.parent == base:
                try:
                    notebooks[name] = read_regular(path)
                except NotRegularFile as error:
                    problems.append(f"{relative}: {error}")
            else:
                extras.append(relative)
                if name.endswith(".ipynb") and "checkpoint" not in relative:
                    try:
                        candidates[relative] = read_regular(path, limit=MAX_NOTEBOOK_BYTES)
                    except NotRegularFile:
                        pass
    return Submission(student_id, notebooks, extras, problems), candidates


def _from_zip(student_id, path, expected):
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        return Submission(student_id, {}, [], [f"{path.name} is not a readable zip file ({error})"]), {}
    notebooks, extras, problems, candidates = {}, [], [], {}
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if sum(info.file_size for info in members) > MAX_UNPACKED_BYTES:
            return Submission(student_id, {}, [], [f"{path.name} unpacks to more than {MAX_UNPACKED_BYTES} bytes"]), {}
        for info in members:
            name = PurePosixPath(info.filename)
            if "__MACOSX" in name.parts or name.name.startswith("."):
                continue
            if name.name in expected and name.name not in notebooks:
                try:
                    notebooks[name.name] = archive.read(info)
                except (zipfile.BadZipFile, OSError, RuntimeError) as error:
                    problems.append(f"{info.filename} in {path.name} cannot be read ({error})")
            else:
                extras.append(info.filename)
                if name.suffix == ".ipynb" and "checkpoint" not in info.filename and info.file_size <= MAX_NOTEBOOK_BYTES:
                    try:
                        candidates[info.filename] = archive.read(info)
                    except (zipfile.BadZipFile, OSError, RuntimeError):
                        pass
    return Submission(student_id, notebooks, extras, problems), candidates


def find_submissions(folder, expected=None):
    """Read every submission in ``folder``.

    Parameters
    ----------
    folder : str or pathlib.Path
        The submissions folder.
    expected : list of str, optional
        Notebook file names to look for (default: the assignment's).

    Returns
    -------
    list of Submission
        Sorted by student id.

    Raises
    ------
    SubmissionsError
        If ``folder`` is missing, is not a folder, holds no submission, or
        holds two submissions for one student.
    """
    folder = Path(folder)
    expected = set(expected or expected_notebooks())
    ids_by_notebook = {name: ids for name, ids in expected_cell_ids().items() if name in expected}
    if not folder.exists():
        raise SubmissionsError(f"submissions folder {folder} does not exist")
    if not folder.is_dir():
        raise SubmissionsError(f"submissions folder {folder} is not a folder")
    found = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if entry.is_dir():
            student_id, reader = entry.name, _from_folder
        elif entry.suffix.lower() == ".zip":
            student_id, reader = entry.stem, _from_zip
        else:
            continue
        if not _STUDENT_ID.match(student_id):
            raise SubmissionsError(f"{entry}: {student_id!r} is not a usable student id (letters, digits, _.@+-)")
        if student_id in found:
            raise SubmissionsError(f"{folder} holds two submissions for student {student_id!r}")
        submission, candidates = reader(student_id, entry, expected)
        found[student_id] = adopt_renamed(submission, candidates, ids_by_notebook) if candidates else submission
    if not found:
        raise SubmissionsError(
            f"no submissions in {folder}: expected <student_id>/{course.ASSIGNMENT_ID}/*.ipynb folders "
            "or <student_id>.zip files"
        )
    return [found[key] for key in sorted(found)]


def read_notebook_json(data):
    """Parse notebook bytes; return (notebook dict, None) or (None, reason)."""
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"not valid notebook JSON ({error.__class__.__name__}: {str(error)[:80]})"
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return None, "not a Jupyter notebook (no list of cells)"
    try:
        import nbformat

        nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as error:  # nbformat's validation errors are varied
        return None, f"not a valid notebook ({str(error)[:80]})"
    return notebook, None
