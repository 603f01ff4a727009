"""The nbgrader course in one place: ids, folders and nbgrader settings.

``nbgrader_config.py`` at the repository root, ``ccdlab release``,
``ccdlab check`` and ``ccdlab grade`` all build their nbgrader
configuration with :func:`nbgrader_config`, so no folder name or id is
written twice.
"""

import os
import sys
from pathlib import Path

from traitlets.config import Config

#: Repository root: the folder holding ``solutions/`` and ``labs/``.
REPO_ROOT = Path(__file__).resolve().parent.parent

COURSE_ID = "ccd_lab"
ASSIGNMENT_ID = "ccd_reduction"

#: nbgrader's "source" folder: the instructor notebooks with solutions.
SOURCE_DIRNAME = "solutions"
#: nbgrader's "release" folder: what students get.
RELEASE_DIRNAME = "labs"

#: The stub that replaces every solution in the student version.
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"

#: nbgrader's default markers (kept as they are), listed here so the leak
#: check can prove none of them reaches students.
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_TEST_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def cell_source(cell):
    """A notebook cell's source as one string (a JSON notebook may store it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def region_parsers():
    """nbgrader's own parsers of hidden-test and solution regions, ``(ClearHiddenTests, ClearSolutions)``.

    Their error log (which quotes the whole cell) is silenced: callers turn
    the error raised into a message naming the notebook and the cell.
    """
    import logging

    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    quiet = logging.getLogger("ccdlab.region-parsers")
    quiet.disabled = True
    return (ClearHiddenTests(enforce_metadata=False, log=quiet),
            ClearSolutions(enforce_metadata=False, log=quiet))


#: Folders nbgrader must never copy around (products, caches).
IGNORED = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "Reduced_data"]


#: What grading depends on besides the submission: if any of it changes, so may the grades.
COURSE_FILES = ("solutions/ccd_reduction/*.ipynb", "labs/ccd_reduction/*.ipynb", "autograder/*.py",
                "autograder/checking/*.py", "convenience_functions/*.py", "solutions/*.py",
                "sample_data/frames_truth.json", "sample_data/frames/night.json",
                # the course's own night, when `ccdlab release --data` chose one: its frames change with it
                "course_night.json", "labs/frames/night.json", "labs/frames_truth.json")


def fingerprint(root=REPO_ROOT):
    """A digest of the notebooks (points included), grader code and frame checksums at ``root``.

    Read afresh at each call (a few milliseconds).
    """
    import hashlib

    digest = hashlib.sha256()
    for pattern in COURSE_FILES:
        for path in sorted(Path(root).glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def ensure_tools_on_path():
    """Put this interpreter's scripts folder first on ``PATH``.

    nbgrader runs ``alembic`` as a command to set up a gradebook; when the
    virtual environment's Python is run without activating it, that command
    is found only this way.
    """
    scripts = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != scripts:
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def _add_course_steps(config):
    """Insert this course's preprocessors into nbgrader's own pipelines."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute, GetGrades, OverwriteCells

    from .feedback import ReadableFeedback
    from .preprocessors import GuardedExecute, HideHiddenTests, ResetGradeCellTags

    sanitize = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    # Right after nbgrader has restored the locked cells from the gradebook.
    sanitize.insert(sanitize.index(OverwriteCells) + 1, ResetGradeCellTags)
    config.Autograde.sanitize_preprocessors = sanitize
    run = list(Autograde.class_traits()["autograde_preprocessors"].default())
    config.Autograde.autograde_preprocessors = [GuardedExecute if step is Execute else step for step in run]
    config.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor, ReadableFeedback]
    # A student's HTML or JavaScript output is shown as text-safe HTML, never run.
    config.HTMLExporter.sanitize_html = True


def source_dir(root=REPO_ROOT):
    """Return the folder of the instructor notebooks of the assignment."""
    return Path(root) / SOURCE_DIRNAME / ASSIGNMENT_ID


def release_dir(root=REPO_ROOT):
    """Return the folder of the student notebooks of the assignment."""
    return Path(root) / RELEASE_DIRNAME / ASSIGNMENT_ID


def nbgrader_config(root=REPO_ROOT, db_path=None):
    """Build the nbgrader configuration of the course.

    Parameters
    ----------
    root : str or pathlib.Path
        Course root: the folder that holds ``solutions/`` and ``labs/``
        (and, when grading, ``submitted/``, ``autograded/``, ``feedback/``).
    db_path : str or pathlib.Path, optional
        Gradebook file; defaults to ``gradebook.db`` in ``root``.

    Returns
    -------
    traitlets.config.Config
    """
    root = Path(root).resolve()
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.source_directory = SOURCE_DIRNAME
    config.CourseDirectory.release_directory = RELEASE_DIRNAME
    config.CourseDirectory.ignore = list(IGNORED)
    db = Path(db_path) if db_path is not None else root / "gradebook.db"
    config.CourseDirectory.db_url = f"sqlite:///{db.resolve()}"
    config.ClearSolutions.code_stub = {"python": CODE_STUB}
    config.ClearSolutions.text_stub = TEXT_STUB
    # After an interrupted cell, wait this long for the kernel's last messages
    # (nbclient's 4 s is too short on a busy grading machine).
    config.Execute.iopub_timeout = 30
    # Every cell's output is in when the notebook ends: a graceful shutdown of
    # its kernel would only add half a second of waiting per notebook.
    config.Execute.shutdown_kernel = "immediate"
    # A grade cell deleted from a submission is put back and run, not skipped.
    config.OverwriteCells.add_missing_cells = True
    _add_course_steps(config)
    return config
