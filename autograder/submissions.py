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
    """

    student_id: str
    notebooks: dict
    extra_files: list = dataclasses.field(default_factory=list)
    problems: list = dataclasses.field(default_factory=list)

    def fingerprint(self):
        """A digest of everything handed in, to tell an unchanged resubmission."""
        digest = hashlib.sha256()
        for name in sorted(self.notebooks):
            digest.update(name.encode() + b"\0" + hashlib.sha256(self.notebooks[name]).digest())
        for item in sorted(self.extra_files) + sorted(self.problems):
            digest.update(item.encode() + b"\0")
        return digest.hexdigest()


def expected_notebooks(root=course.REPO_ROOT):
    """File names of the assignment's notebooks (from the instructor sources)."""
    return sorted(path.name for path in course.source_dir(root).glob("*.ipynb"))


def _from_folder(student_id, folder, expected):
    from .safefiles import NotRegularFile, read_regular

    assignment = folder / course.ASSIGNMENT_ID
    base = assignment if assignment.is_dir() and not assignment.is_symlink() else folder
    notebooks, extras, problems = {}, [], []
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
    return Submission(student_id, notebooks, extras, problems)


def _from_zip(student_id, path, expected):
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        return Submission(student_id, {}, [], [f"{path.name} is not a readable zip file ({error})"])
    notebooks, extras, problems = {}, [], []
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if sum(info.file_size for info in members) > MAX_UNPACKED_BYTES:
            return Submission(student_id, {}, [], [f"{path.name} unpacks to more than {MAX_UNPACKED_BYTES} bytes"])
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
    return Submission(student_id, notebooks, extras, problems)


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
        found[student_id] = reader(student_id, entry, expected)
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
