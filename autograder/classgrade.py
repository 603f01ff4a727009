"""``ccdlab grade``: grade a whole class with nbgrader, in parallel.

The coordinator's steps, in order:

1. :func:`check_results_folder` -- RESULTS exists (or is made) and is writable.
2. :func:`~autograder.submissions.find_submissions` -- read every hand-in.
3. :func:`prepare_results_course` -- RESULTS becomes an nbgrader course
   (instructor notebooks, gradebook, ``nbgrader_config.py``), so the
   formgrader and ``nbgrader export`` work on it afterwards.
4. :func:`grade_all` -- one task per student through an executor (a local
   process pool by default); each task is
   :func:`autograder.worker.grade_submission`, isolated in its own scratch
   folder, and returns plain data.
5. :func:`merge_result` -- only the coordinator writes RESULTS: the
   notebooks, the HTML feedback and the gradebook (through nbgrader's own
   ``SaveAutoGrades`` preprocessor).
6. :mod:`autograder.report` -- ``grades.csv`` and ``summary.png``.

Running it again on the same folders reuses every student whose hand-in is
unchanged (``--force`` regrades them all) and never duplicates a row.
"""

import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from . import course, grading, options, report, worker
from .executors import ExecutorError, LocalExecutor  # noqa: F401  (LocalExecutor: part of this module's interface)
from .submissions import SubmissionsError, find_submissions

#: Remembers, per student, the fingerprint and result row of the last grading.
STATE_FILE = "grading-state.json"
#: nbgrader's exchange folder inside RESULTS (unused by ccdlab; the formgrader wants a writable one).
EXCHANGE_DIRNAME = ".exchange"
#: The grading run's settings that a regrade of the same RESULTS reuses (the second night's seed).
RUN_FILE = "grading-run.json"


def run_seed(out):
    """The seed of the second night of the grading run in ``out``: drawn afresh for a new RESULTS.

    Recorded in ``RESULTS/grading-run.json``, so grading into the same
    RESULTS again judges on the same night.
    """
    import secrets

    path = out / RUN_FILE
    try:
        seed = json.loads(path.read_text())["seed"]
        if type(seed) is int:
            return seed
    except (OSError, ValueError, KeyError, TypeError):
        pass
    seed = secrets.randbelow(2**31 - 1) + 1
    path.write_text(json.dumps({"seed": seed}, indent=1) + "\n")
    return seed


class ResultsError(RuntimeError):
    """RESULTS cannot be written."""



def check_results_folder(out):
    """Create ``out`` if needed and prove it is writable.

    Raises
    ------
    ResultsError
        Naming the folder when it cannot be created or written.
    """
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".ccdlab-write-test-"):
            pass
    except OSError as error:
        raise ResultsError(f"results folder {out} is not writable ({error.strerror or error})") from None
    return out.resolve()


def prepare_results_course(out, source_root=course.REPO_ROOT):
    """Make RESULTS an nbgrader course whose gradebook knows the assignment."""
    grading.prepare_course(out, source_root=source_root)
    config = out / "nbgrader_config.py"
    (out / EXCHANGE_DIRNAME).mkdir(exist_ok=True)
    config.write_text(
        "# Written by `ccdlab grade`: the formgrader and `nbgrader export` read this course.\n"
        "from pathlib import Path\n"
        "from autograder.course import nbgrader_config\n\n"
        "c = get_config()  # noqa: F821\n"
        "here = Path(__file__).resolve().parent\n"
        "c.merge(nbgrader_config(root=here))\n"
        f"c.Exchange.root = str(here / {EXCHANGE_DIRNAME!r})  # a writable exchange, for any user\n"
    )


def _load_state(out):
    path = out / STATE_FILE
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def _save_state(out, state):
    path = out / STATE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=1, sort_keys=True))
    temporary.replace(path)


def grade_all(submissions, executor, chosen, *, progress=True):
    """Grade ``submissions`` with the options ``chosen``; yield each :class:`~autograder.worker.StudentResult`."""
    from tqdm import tqdm

    failures = 0
    with tqdm(total=len(submissions), unit="student", disable=not progress, file=sys.stderr,
              desc="grading") as bar:
        for submission, outcome in executor.map_unordered(
            worker.grade_submission, submissions, options=chosen
        ):
            if isinstance(outcome, Exception):
                outcome = worker.StudentResult(
                    submission.student_id, submission.fingerprint(), status="kernel_died",
                    reasons=[f"the grader crashed: {type(outcome).__name__}: {outcome}"],
                )
            failures += outcome.status != "ok"
            if outcome.status != "ok" and progress:
                bar.write(f"  {outcome.student_id}: {outcome.status}: {outcome.reason[:200]}", file=sys.stderr)
            postfix = {"failures": failures}
            if getattr(executor, "retried", 0):
                postfix["retried"] = executor.retried
            bar.set_postfix(postfix, refresh=False)
            bar.update(1)
            yield submission, outcome


# ---------------------------------------------------------------------------
# Writing one student's results into RESULTS


def merge_result(out, submission, result):
    """Write a student's notebooks, feedback and grades into RESULTS."""
    from nbformat import reads
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import SaveAutoGrades

    student = result.student_id
    folders = {step: grading.student_dir(out, step, student) for step in ("submitted", "autograded", "feedback")}
    for folder in folders.values():
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    for name, content in submission.notebooks.items():
        (folders["submitted"] / name).write_bytes(content)
    for name, text in result.autograded.items():
        (folders["autograded"] / name).write_text(text)
    for stem, html in result.feedback.items():
        (folders["feedback"] / f"{stem}.html").write_text(html)

    db_url = course.nbgrader_config(root=out).CourseDirectory.db_url
    with Gradebook(db_url, course.COURSE_ID) as gradebook:
        gradebook.update_or_create_student(student)
        gradebook.update_or_create_submission(course.ASSIGNMENT_ID, student)
        notebook_ids = [nb.name for nb in gradebook.find_assignment(course.ASSIGNMENT_ID).notebooks]
    saver = SaveAutoGrades()
    for notebook_id in notebook_ids:
        text = result.autograded.get(f"{notebook_id}.ipynb")
        if text is not None:
            resources = {"nbgrader": {"notebook": notebook_id, "assignment": course.ASSIGNMENT_ID,
                                      "student": student, "db_url": db_url}}
            saver.preprocess(reads(text, as_version=4), resources)
            continue
        # nbgrader's rule for a notebook that was not graded: every grade is 0
        with Gradebook(db_url, course.COURSE_ID) as gradebook:
            graded = gradebook.find_submission_notebook(notebook_id, course.ASSIGNMENT_ID, student)
            for grade in graded.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
            gradebook.db.commit()


#: Kernel banners, library warnings and nbgrader's messages of each student, kept out of the terminal.
LOG_FILE = "grading.log"


@contextlib.contextmanager
def _warnings_to_log(out):
    """Library warnings of the coordinator (SQLAlchemy's, nbgrader's) go to RESULTS/grading.log."""
    import warnings

    with open(out / LOG_FILE, "a", encoding="utf-8") as handle, warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = lambda message, category, filename, lineno, file=None, line=None: handle.write(
            warnings.formatwarning(message, category, filename, lineno, line))
        yield


def _append_log(out, result):
    text = getattr(result, "log", "") or ""
    with open(out / LOG_FILE, "a", encoding="utf-8") as handle:
        handle.write(f"===== {result.student_id}: {result.status} {result.reason}\n{text}\n")


def main_formgrade(*, results, port=None, no_browser=False):
    """``ccdlab formgrade RESULTS``: JupyterLab with nbgrader's formgrader on a graded class."""
    from . import labserver

    results = Path(results)
    if not (results / "gradebook.db").is_file() or not (results / "nbgrader_config.py").is_file():
        print(f"ccdlab formgrade: {results} is not a RESULTS folder of `ccdlab grade` "
              "(no gradebook.db or nbgrader_config.py)", file=sys.stderr)
        return 2
    (results / EXCHANGE_DIRNAME).mkdir(exist_ok=True)
    print("ccdlab formgrade: in JupyterLab open Nbgrader > Formgrader > Manual Grading; "
          "then run `ccdlab grade` again to refresh grades.csv, the feedback and summary.png.")
    return labserver.main(port=port, no_browser=no_browser, root=results, verb="formgrade")


def refresh_feedback(out, student_ids):
    """Write the feedback of ``student_ids`` again from the gradebook (after hand grading)."""
    from nbgrader.converters import GenerateFeedback

    from .feedback import offline_math
    from .safefiles import read_regular, write_regular

    for student_id in student_ids:
        try:
            grading.run_converter(GenerateFeedback, out, student_id=student_id, force=True)
        except grading.GradingError as error:
            print(f"ccdlab grade: {student_id}: feedback not refreshed: {error}", file=sys.stderr)
            continue
        for page in sorted(grading.student_dir(out, "feedback", student_id).glob("*.html")):
            write_regular(page, offline_math(read_regular(page).decode("utf-8")).encode("utf-8"))


def record_result(out, submission, result, version=""):
    """Merge one student's result into RESULTS; return their state entry.

    A failure here (a result nbgrader cannot save) costs only this student:
    their row says ``error`` with the reason, and grading goes on.
    """
    entry = {
        "fingerprint": result.fingerprint,
        "course": version,
        "status": result.status,
        "reason": result.reason,
        "scores": result.scores,
        "seconds": round(result.seconds, 2),
    }
    try:
        merge_result(out, submission, result)
    except Exception as error:  # one student's records must not stop the class
        entry.update(status="error", fingerprint="", scores={},
                     reason=f"the results could not be saved: {type(error).__name__}: {str(error)[:200]}")
        print(f"ccdlab grade: {result.student_id}: {entry['reason']}", file=sys.stderr)
    return entry


def _rows(state, student_ids):
    return {student: entry for student, entry in state.items() if student in student_ids}


# ---------------------------------------------------------------------------
# The command


def grading_options(*, timeout, sandbox, out):
    """The run's :class:`~autograder.options.GradingOptions`.

    The sandbox is decided here, once (a warning printed where "auto" grades
    without it); the second night's seed is the one RESULTS records.

    Raises
    ------
    SandboxUnavailable
        ``--sandbox=require`` where bubblewrap cannot run.
    ValueError
        An option out of its range.
    """
    sandboxed, warning = options.resolve_sandbox(sandbox)
    if warning:
        print(f"ccdlab grade: {warning}", file=sys.stderr)
    return options.GradingOptions(cell_timeout_s=timeout, sandboxed=sandboxed, seed=run_seed(out))


def main(*, submissions, out, jobs=None, timeout=options.DEFAULT_CELL_TIMEOUT_S, force=False, executor=None,
         progress=True, scheduler=None, sandbox="auto"):
    """``ccdlab grade SUBMISSIONS --out RESULTS``; returns the exit status.

    ``scheduler`` (``local:N``, a Dask scheduler address or scheduler file)
    grades on a Dask cluster instead of the local process pool.
    """
    try:
        if scheduler is not None and executor is None:
            if jobs is not None:
                raise ExecutorError("--jobs is for local grading; with --scheduler the workers set the pace "
                                    "(local:N starts N)")
            from .dask_executor import DaskExecutor

            executor = DaskExecutor(scheduler)
        out = check_results_folder(out)
        found = find_submissions(submissions)
    except (SubmissionsError, ResultsError, ExecutorError) as error:
        print(f"ccdlab grade: {error}", file=sys.stderr)
        return 2
    if Path(submissions).resolve() == out or out in Path(submissions).resolve().parents:
        print(f"ccdlab grade: RESULTS {out} must not be inside SUBMISSIONS {submissions}", file=sys.stderr)
        return 2
    try:
        chosen = grading_options(timeout=timeout, sandbox=sandbox, out=out)
    except (options.SandboxUnavailable, ValueError) as error:
        print(f"ccdlab grade: {error}", file=sys.stderr)
        return 2
    with _warnings_to_log(out):
        return _grade_class(out, found, executor, jobs, force, progress, chosen)


def _grade_class(out, found, executor, jobs, force, progress, chosen):
    """The part of :func:`main` after the arguments are checked."""
    executor = executor or LocalExecutor(jobs or os.cpu_count() or 1)
    course.ensure_tools_on_path()
    prepare_results_course(out)
    state = _load_state(out)
    version = course.fingerprint()
    stale = {s.student_id for s in found if s.student_id in state and state[s.student_id].get("course") != version
             and state[s.student_id].get("fingerprint") == s.fingerprint()}
    todo = [s for s in found if force or state.get(s.student_id, {}).get("fingerprint") != s.fingerprint()
            or s.student_id in stale]
    reused = len(found) - len(todo)
    graded_ids = {s.student_id for s in found}
    grade_ids = report.grade_ids_in_order()
    try:
        for submission, result in grade_all(todo, executor, chosen, progress=progress):
            state[result.student_id] = record_result(out, submission, result, version)
            _append_log(out, result)
            _save_state(out, state)
            # Written as results arrive: an interrupted run keeps what it graded.
            report.write_csv(out / report.CSV_FILE, _rows(state, graded_ids), grade_ids)
    except ExecutorError as error:
        print(f"ccdlab grade: {error}", file=sys.stderr)
        return 2
    # The feedback a worker wrote knows no hand grade: write it again where the gradebook has one.
    refresh_feedback(out, sorted(grading.hand_graded(out, graded_ids)))
    rows = _rows(state, graded_ids)
    for student, scores in grading.gradebook_scores(out, graded_ids).items():
        if rows[student].get("status") != "error":
            rows[student] = dict(rows[student], scores=scores)  # hand grades included, pending marked
    report.write_csv(out / report.CSV_FILE, rows, grade_ids)
    report.write_summary_plot(out / report.SUMMARY_FILE, rows, grade_ids)
    statuses = {}
    for entry in rows.values():
        statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
    counts = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    retried = getattr(executor, "retried", None)
    graded = f"{len(todo)} graded" + (f" ({retried} retried)" if retried is not None else "")
    if stale:
        graded += f" ({len(stale)} again because the course changed since they were graded)"
    print(
        f"ccdlab grade: {graded}, {reused} unchanged and reused ({counts}); "
        f"wrote {out / report.CSV_FILE}, {out / report.SUMMARY_FILE}, feedback in {out / 'feedback'}"
    )
    return 0
