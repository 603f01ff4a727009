"""Step 1 of grading a student: read the handed-in notebooks and spot tampering.

:func:`inspect_notebooks` compares each handed-in notebook with the released
one: a locked or grade cell deleted, edited, retyped, re-pointed or tagged, or
an import of the instructor's code, flags the student; an unreadable or
missing notebook is reported as such.  Nothing here runs a student's code.
"""

import json
import re

from . import course
from .submissions import read_notebook_json

#: Names of instructor code a submission must not reach for.
_FORBIDDEN_IMPORT = re.compile(
    r"""(?:^|[\s;])(?:import|from)\s+(solutions|autograder)\b"""
    r"""|(?:import_module|__import__)\(\s*['"](solutions|autograder)"""
    r"""|sys\.modules\[\s*['"](solutions|autograder)""",
    re.MULTILINE,
)



def _grade_cells(notebook):
    """Cells a student may not edit: grade cells and locked cells (not answers)."""
    cells = {}
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if (meta.get("grade") or meta.get("locked")) and not meta.get("solution"):
            if "grade_id" in meta:
                cells[meta["grade_id"]] = cell
    return cells


def inspect_notebooks(submission, release_root=course.REPO_ROOT):
    """Parse the handed-in notebooks and list what is wrong with them.

    Parameters
    ----------
    submission : Submission
    release_root : pathlib.Path
        Where the student notebooks as released are read from.

    Returns
    -------
    readable : dict
        Notebook name -> bytes, for the notebooks that parse.
    flags : dict
        Status -> list of reasons (``missing_notebook``,
        ``unreadable_notebook``, ``flagged``).
    """
    flags = {"missing_notebook": [], "unreadable_notebook": [], "flagged": []}
    readable = {}
    flags["unreadable_notebook"] += submission.problems
    released = {p.name: p for p in course.release_dir(release_root).glob("*.ipynb")}
    for name in sorted(released):
        if name not in submission.notebooks:
            flags["missing_notebook"].append(f"{name} missing")
            continue
        notebook, problem = read_notebook_json(submission.notebooks[name])
        if problem:
            flags["unreadable_notebook"].append(f"{name}: {problem}")
            continue
        readable[name] = submission.notebooks[name]
        original = json.loads(released[name].read_text())
        locked = _grade_cells(original)
        handed_in = _grade_cells(notebook)
        for grade_id, cell in locked.items():
            if grade_id not in handed_in:
                flags["flagged"].append(f"{name}: locked cell {grade_id} deleted")
                continue
            theirs = handed_in[grade_id]
            if course.cell_source(theirs).strip() != course.cell_source(cell).strip():
                flags["flagged"].append(f"{name}: locked cell {grade_id} edited")
            if theirs.get("cell_type") != cell.get("cell_type"):
                flags["flagged"].append(f"{name}: locked cell {grade_id} changed to {theirs.get('cell_type')}")
            ours_meta = cell["metadata"]["nbgrader"]
            their_meta = theirs.get("metadata", {}).get("nbgrader", {})
            if their_meta.get("points") != ours_meta.get("points"):
                flags["flagged"].append(f"{name}: points of {grade_id} changed")
            tags = set(theirs.get("metadata", {}).get("tags", [])) - set(cell["metadata"].get("tags", []))
            if tags:
                flags["flagged"].append(f"{name}: {grade_id} tagged {', '.join(sorted(tags))}")
        for cell in notebook.get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") != "code" or meta.get("grade_id") in locked:
                continue
            match = _FORBIDDEN_IMPORT.search(course.cell_source(cell))
            if match:
                module = next(group for group in match.groups() if group)
                flags["flagged"].append(f"{name}: imports the instructor's {module}")
    flags["flagged"] += getattr(submission, "flags", [])
    if getattr(submission, "notes", []):
        flags.setdefault("note", []).extend(submission.notes)
    if submission.extra_files:
        shown = ", ".join(submission.extra_files[:5])
        more = f" and {len(submission.extra_files) - 5} more" if len(submission.extra_files) > 5 else ""
        flags.setdefault("note", []).append(f"files beside the notebooks not graded: {shown}{more}")
    return readable, {key: value for key, value in flags.items() if value}
