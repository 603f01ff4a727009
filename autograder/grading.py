"""Grading with nbgrader's own machinery, as a few named steps.

1. :func:`prepare_course` -- a course root with the instructor notebooks and
   a gradebook that knows the assignment (nbgrader ``generate_assignment``).
2. :func:`autograde_student` -- nbgrader ``autograde`` of one student's
   notebooks in ``submitted/<student_id>/ccd_reduction/``.
3. :func:`student_scores` -- per-grade-cell scores read from the gradebook.
"""

import shutil
from pathlib import Path

from . import course


class GradingError(RuntimeError):
    """nbgrader could not grade; the message says which step and why."""


def run_converter(converter_class, root, student_id=None, notebook_id=None, db_path=None, cell_timeout=None,
                  extra_config=None, **traits):
    """Run one nbgrader converter on the course at ``root``.

    Parameters
    ----------
    converter_class : type
        ``GenerateAssignment``, ``Autograde``, ``GenerateFeedback``, ...
    root : pathlib.Path
        Course root.
    student_id, notebook_id : str, optional
        Restrict the run to one student / one notebook (name without .ipynb).
    db_path : pathlib.Path, optional
        Gradebook file (default ``root/gradebook.db``).
    cell_timeout : float, optional
        Seconds a cell may run when notebooks are executed.
    extra_config : traitlets.config.Config, optional
        Settings merged over the course's (e.g. the kernel's transport).
    **traits
        Attributes set on the converter (``force``, ``create_student``, ...).

    Raises
    ------
    GradingError
        If nbgrader fails.
    """
    from nbgrader.coursedir import CourseDirectory

    course.ensure_tools_on_path()
    config = course.nbgrader_config(root=root, db_path=db_path)
    if cell_timeout is not None:
        config.Execute.timeout = int(cell_timeout)
    if extra_config is not None:
        config.merge(extra_config)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = course.ASSIGNMENT_ID
    if student_id is not None:
        coursedir.student_id = student_id
    if notebook_id is not None:
        coursedir.notebook_id = notebook_id
    converter = converter_class(coursedir=coursedir, config=config)
    for name, value in traits.items():
        setattr(converter, name, value)
    try:
        converter.start()
    except Exception as error:  # NbGraderException, or a plain error from a step
        raise GradingError(f"nbgrader {converter_class.__name__} failed in {root}: {error}") from error


def prepare_course(root, source_root=course.REPO_ROOT, db_path=None, without_hidden_tests=False):
    """Make ``root`` a course whose gradebook knows the assignment.

    Parameters
    ----------
    root : pathlib.Path
        Folder to set up (created if missing).
    source_root : pathlib.Path
        Where the instructor notebooks are read from.
    db_path : pathlib.Path, optional
        Gradebook file (default ``root/gradebook.db``).
    without_hidden_tests : bool
        Take the hidden tests out of the grade cells first (nbgrader's
        ``ClearHiddenTests``): ``ccdlab grade`` decides those cells' scores
        outside the kernel, so the kernel runs only the visible tests.
    """
    import nbformat
    from nbgrader.converters import GenerateAssignment
    from nbgrader.preprocessors import ClearHiddenTests

    root = Path(root)
    target = course.source_dir(root)
    target.mkdir(parents=True, exist_ok=True)
    for notebook in sorted(course.source_dir(source_root).glob("*.ipynb")):
        if without_hidden_tests:
            parsed = nbformat.read(str(notebook), as_version=4)
            parsed, _ = ClearHiddenTests().preprocess(parsed, {})
            nbformat.write(parsed, str(target / notebook.name))
        else:
            shutil.copy2(notebook, target / notebook.name)
    run_converter(GenerateAssignment, root, db_path=db_path, force=True, create_assignment=True)


def student_dir(root, step, student_id):
    """nbgrader's folder of one student's notebooks at ``step`` of the course in ``root``.

    Parameters
    ----------
    root : pathlib.Path
        The nbgrader course.
    step : {"submitted", "autograded", "feedback"}
    student_id : str

    Returns
    -------
    pathlib.Path
        As nbgrader's ``CourseDirectory.format_path`` makes it.
    """
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(root=str(Path(root).absolute()))
    return Path(coursedir.format_path(getattr(coursedir, f"{step}_directory"), student_id, course.ASSIGNMENT_ID))


def submission_dir(root, student_id):
    """Folder nbgrader reads a student's submitted notebooks from."""
    return student_dir(root, "submitted", student_id)


def autograde_student(root, student_id, db_path=None):
    """Run nbgrader ``autograde`` on one student of a prepared course."""
    from nbgrader.converters import Autograde

    run_converter(Autograde, root, student_id=student_id, db_path=db_path, force=True, create_student=True)


def student_scores(root, student_id, db_path=None):
    """Return ``{grade_id: (score, max_score, needs_manual_grade)}`` of a student.

    Parameters
    ----------
    root : pathlib.Path
        Prepared course root.
    student_id : str
    db_path : pathlib.Path, optional

    Returns
    -------
    dict
    """
    from nbgrader.api import Gradebook

    config = course.nbgrader_config(root=root, db_path=db_path)
    scores = {}
    with Gradebook(config.CourseDirectory.db_url, course.COURSE_ID) as gradebook:
        submission = gradebook.find_submission(course.ASSIGNMENT_ID, student_id)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                scores[grade.name] = (grade.score, grade.max_score, bool(grade.needs_manual_grade))
    return scores


def _submissions(root, student_ids, db_path=None):
    """Yield ``(student_id, submitted assignment)`` for the students the gradebook knows."""
    from nbgrader.api import Gradebook, MissingEntry

    config = course.nbgrader_config(root=root, db_path=db_path)
    with Gradebook(config.CourseDirectory.db_url, course.COURSE_ID) as gradebook:
        for student_id in student_ids:
            try:
                yield student_id, gradebook.find_submission(course.ASSIGNMENT_ID, student_id)
            except MissingEntry:
                continue


def gradebook_scores(root, student_ids, db_path=None):
    """Every student's scores as the gradebook holds them now, hand grades included.

    Returns
    -------
    dict
        student_id -> {grade_id: [score or None, max_score, pending]}, where
        ``pending`` marks a hand-graded cell not graded yet (its score None);
        students the gradebook does not know are left out.
    """
    found = {}
    for student_id, submission in _submissions(root, student_ids, db_path):
        scores = {}
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                pending = bool(grade.needs_manual_grade) and grade.manual_score is None
                scores[grade.name] = [None if pending else float(grade.score or 0.0), float(grade.max_score), pending]
        found[student_id] = scores
    return found


def hand_graded(root, student_ids, db_path=None):
    """The students of ``student_ids`` with a hand grade or a hand comment in the gradebook."""
    found = set()
    for student_id, submission in _submissions(root, student_ids, db_path):
        for notebook in submission.notebooks:
            if any(grade.manual_score is not None for grade in notebook.grades) or any(
                    comment.manual_comment for comment in notebook.comments):
                found.add(student_id)
    return found
