"""Grading one student, in isolation, as a function of plain data.

:func:`grade_submission` takes a :class:`~autograder.submissions.Submission`
and the run's :class:`~autograder.options.GradingOptions` and returns a
:class:`StudentResult`: scores, verdicts, status, the autograded notebooks
and the HTML feedback, all as data.  Being a pure function of data, it runs
the same in a local process pool or on a remote worker.

The steps, in order:

1. :func:`autograder.inspection.inspect_notebooks` -- parse each notebook;
   find tampering.
2. :func:`_scratch_course` -- a copy of the prepared course (its grade cells
   without hidden tests) in a scratch folder of the student's own.
3. :func:`_autograde_each` -- nbgrader autograde, one notebook at a time, in
   the sandbox; the kernel writes only a throwaway folder.  Its outputs are
   the feedback, never the score; the executed cells' errors give the
   status (:func:`notebook_status`).
4. :func:`autograder.judging.judge_notebooks` -- the notebooks' code in a
   runner (sandboxed, no answers), judged outside by the comparator;
   :func:`autograder.verdicts.apply_verdicts` writes the verdicts into the
   autograded notebooks and the gradebook.
5. :func:`_collect` -- scores from the scratch gradebook, feedback HTML.
"""

import contextlib
import dataclasses
import json
import logging
import multiprocessing.util
import os
import shutil
import tempfile
import time
from pathlib import Path

from . import checks, course, grading
from .feedback import offline_math
from .inspection import inspect_notebooks
from .options import GradingOptions, ensure_sandbox
from .safefiles import read_regular, remove_tree, write_regular
from .verdicts import apply_verdicts

#: Statuses, most serious first: the first that applies is reported.
STATUSES = ("kernel_died", "timeout", "flagged", "unreadable_notebook", "missing_notebook", "ok")


@dataclasses.dataclass
class StudentResult:
    """What grading one student produced (plain data, picklable)."""

    student_id: str
    fingerprint: str
    status: str = "ok"
    reasons: list = dataclasses.field(default_factory=list)
    #: grade_id -> [score, max_score, needs_manual_grade]
    scores: dict = dataclasses.field(default_factory=dict)
    #: notebook name -> autograded notebook JSON text
    autograded: dict = dataclasses.field(default_factory=dict)
    #: notebook name (without .ipynb) -> feedback HTML text
    feedback: dict = dataclasses.field(default_factory=dict)
    #: grade_id -> {"grade_id", "passed", "message"}: the comparator's verdicts
    verdicts: dict = dataclasses.field(default_factory=dict)
    #: What the kernels and libraries wrote to standard error while grading (for RESULTS/grading.log)
    log: str = ""
    seconds: float = 0.0

    @property
    def reason(self):
        """The reasons as one short line."""
        return "; ".join(dict.fromkeys(self.reasons))


# ---------------------------------------------------------------------------
# Step 2: a scratch course of the student's own

_TEMPLATES = {}

#: Imported first by every unsandboxed grading kernel: it hides solutions/.
_GUARD = "from autograder.guard import forbid_reference_solutions\n\nforbid_reference_solutions()\n"


def template_course(source_root=course.REPO_ROOT, seed=None):
    """Return a prepared course (sources without hidden tests + gradebook) and the run's second night.

    Built once per process and ``seed``.

    Returns
    -------
    (pathlib.Path, checks.Night)
    """
    from . import judging

    seed = checks.DEFAULT_SECOND_SEED if seed is None else int(seed)
    key = (str(Path(source_root).resolve()), seed)
    if key not in _TEMPLATES or not Path(_TEMPLATES[key][0]).exists():
        folder = Path(tempfile.mkdtemp(prefix="ccdlab-template-"))
        grading.prepare_course(folder, source_root=source_root, without_hidden_tests=True)
        night = judging.new_second_night(seed)
        _TEMPLATES[key] = (folder, night)
        # Removed when this process ends (a pool worker too, unless it is killed).
        for path in (folder, night.folder):
            multiprocessing.util.Finalize(None, remove_tree, args=(path,), exitpriority=10)
    return Path(_TEMPLATES[key][0]), _TEMPLATES[key][1]


def _frames_only(folder, names):
    """shutil.copytree's ignore: hidden files and JSON files but the night's description (no truth, ever)."""
    from convenience_functions.night import NIGHT_FILE

    return [name for name in names if name.startswith(".") or (name.endswith(".json") and name != NIGHT_FILE)]


def _scratch_course(scratch, template, data_source, copy_data):
    root = scratch / "course"
    shutil.copytree(template, root, ignore=shutil.ignore_patterns("labs"))
    if not copy_data:
        return root, Path(data_source)  # shown read-only inside the sandbox
    guard = scratch / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(_GUARD)
    return root, _copy_frames(data_source, scratch / "data")


def _runner_frames(options, scratch, kernels_frames, data_source):
    """The frames the runner reads: the kernels' in the sandbox (read-only there), else a copy of its own.

    Without the sandbox the kernels ran with a copy they could write (as root,
    read-only modes are no bar): a notebook that deleted it must not take the
    runner's checks with it.
    """
    if options.sandboxed:
        return kernels_frames
    return _copy_frames(data_source, scratch / "runner-data")


def _copy_frames(data_source, data):
    """A read-only copy of the night's frames at ``data`` (no truth); return ``data``."""
    shutil.copytree(data_source, data, ignore=_frames_only)
    for path in sorted(data.rglob("*"), reverse=True):  # files before their folders
        path.chmod(0o555 if path.is_dir() else 0o444)
    data.chmod(0o555)
    return data


# ---------------------------------------------------------------------------
# Step 3: nbgrader autograde, one notebook at a time


class _LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _autograde_each(root, student_id, names, timeout, extra_config=None):
    """Autograde each notebook; return {name: failure text or None}."""
    from nbgrader.converters import Autograde

    failures = {}
    logger = logging.getLogger("traitlets")
    for name in names:
        capture = _LogCapture()
        logger.addHandler(capture)
        config = None
        if extra_config is not None:
            from traitlets.config import Config

            config = Config(extra_config)
            if "KernelManager" in extra_config and "ip" in extra_config.KernelManager:
                # The sandboxed kernel must find its connection file in the scratch folder.
                runtime = Path(extra_config.KernelManager.ip).parent
                config.KernelManager.connection_file = str(runtime / f"kernel-{Path(name).stem}.json")
        try:
            grading.run_converter(
                Autograde, root, student_id=student_id, notebook_id=Path(name).stem,
                force=True, create_student=True, cell_timeout=timeout, extra_config=config,
            )
            failures[name] = None
        except grading.GradingError:
            failures[name] = "\n".join(capture.lines)
        finally:
            logger.removeHandler(capture)
    return failures


def notebook_status(notebook_text, seconds):
    """What an executed notebook's cells say of its run: the flags and the cell that ran over time.

    Parameters
    ----------
    notebook_text : str
        The autograded (executed) notebook, before the verdicts rewrite it.
    seconds : float
        The cell timeout it ran with.

    Returns
    -------
    flags : dict
        ``timeout`` and/or ``kernel_died`` -> reasons (empty when it ran through).
    stop : tuple or None
        ``(source, description)`` of the cell nbgrader interrupted for running
        over the time limit (:func:`autograder.preprocessors.timeout_description`).
    """
    import nbformat

    from .preprocessors import timeout_description

    notebook = nbformat.reads(notebook_text, as_version=4)
    flags, stop, died = {}, None, False
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            if output.get("ename") == "CellTimeoutError" and stop is None:
                stop = cell.source, timeout_description(cell, index, seconds)
            died = died or output.get("ename") == "DeadKernelError"
    if stop is not None:
        flags["timeout"] = [f"{stop[1]}; the cells after it were not run"]
    if died:
        flags["kernel_died"] = ["the kernel died; later cells scored 0"]
    return flags, stop


def _restore_replaced(autograded, readable, flags):
    """Undo what a kernel did to the notebooks nbgrader writes beside it (grading without the sandbox).

    Without the sandbox a kernel runs in the folder of the autograded
    notebooks and may replace one by a link or plant another.  A graded
    notebook that is no longer a regular file is written again from the
    notebook handed in (its verdicts still come from the runner); any other
    notebook there is removed.  Either flags the student.
    """
    if not autograded.is_dir():
        return
    for path in sorted(autograded.glob("*.ipynb")):
        regular = path.is_file() and not path.is_symlink()
        if path.name in readable and regular:
            continue
        if path.is_dir() and not path.is_symlink():
            remove_tree(path)
        else:
            path.unlink()
        if path.name in readable:
            write_regular(path, readable[path.name])
            flags.setdefault("flagged", []).append(
                f"{path.name}: its run replaced the graded notebook (graded from the notebook handed in)")
        else:
            flags.setdefault("flagged", []).append(f"{path.name}: planted beside the graded notebooks by a run")


# ---------------------------------------------------------------------------
# Step 5: collecting scores and feedback


def _collect(root, student_id, result):
    from nbgrader.converters import GenerateFeedback

    autograded = grading.student_dir(root, "autograded", student_id)
    for path in sorted(autograded.glob("*.ipynb")):
        result.autograded[path.name] = read_regular(path).decode("utf-8")
    from nbgrader.api import MissingEntry

    try:
        scores = grading.student_scores(root, student_id)
    except MissingEntry:
        # Nothing could be graded (no readable notebook): nbgrader's rule for a
        # notebook that was not handed in is a score of 0 on every grade cell.
        from .report import grade_ids_in_order

        scores = {grade_id: (0.0, float(points), False) for grade_id, points in grade_ids_in_order(root)}
    result.scores = {grade_id: [score, maximum, manual] for grade_id, (score, maximum, manual) in scores.items()}
    if result.autograded:
        try:
            grading.run_converter(GenerateFeedback, root, student_id=student_id, force=True)
        except grading.GradingError as error:
            result.reasons.append(f"feedback not generated: {error}")
        feedback = grading.student_dir(root, "feedback", student_id)
        for path in sorted(feedback.glob("*.html")):
            result.feedback[path.stem] = offline_math(read_regular(path).decode("utf-8"))


# ---------------------------------------------------------------------------
# The whole of it


def _graded_ids(source_root):
    """Notebook name -> grade ids of its auto-graded code cells (instructor's order)."""
    from .judging import item_of

    found = {}
    for path in sorted(course.source_dir(source_root).glob("*.ipynb")):
        ids = []
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution") and cell["cell_type"] == "code":
                if item_of(meta.get("grade_id")):
                    ids.append(meta["grade_id"])
        found[path.name] = ids
    return found


def grade_submission(submission, options=GradingOptions()):
    """Grade one student's submission in a scratch folder of its own.

    Parameters
    ----------
    submission : Submission
    options : GradingOptions
        The run's options (timeouts, sandbox, second night, frames).

    Returns
    -------
    StudentResult

    Raises
    ------
    SandboxUnavailable
        The options ask for the sandbox and bubblewrap cannot run here.
    """
    ensure_sandbox(options)
    with _stderr_to_log() as log:
        result = _grade(submission, options)
    result.log = log.text
    return result


class _Log:
    text = ""


@contextlib.contextmanager
def _stderr_to_log(limit=200_000):
    """Send this process's standard output and error (and its kernels') to a file; keep its end as ``.text``."""
    import sys
    import warnings

    log = _Log()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with tempfile.TemporaryFile() as capture, warnings.catch_warnings():
        warnings.simplefilter("default")
        for fd in saved:
            os.dup2(capture.fileno(), fd)  # the kernels inherit both
        try:
            yield log
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, kept in saved.items():
                os.dup2(kept, fd)
                os.close(kept)
            capture.seek(0, os.SEEK_END)
            size = capture.tell()
            capture.seek(max(0, size - limit))
            log.text = capture.read().decode("utf-8", "replace")


def _kernel_config(options, scratch, handed_in, data):
    """Write the student's kernelspec (and start its zygote); return (nbgrader config, zygote or None)."""
    from convenience_functions.paths import DATA_ENV_VAR

    from . import kernels, sandbox

    env = {DATA_ENV_VAR: str(data)}
    if not options.sandboxed:
        env["PYTHONPATH"] = str(scratch / "guard")  # its sitecustomize hides solutions/
        return kernels.install_kernelspec(scratch / "jupyter", kernels.plain_argv(), env), None
    limits = {"memory_bytes": options.memory_limit_bytes, "cpu_seconds": options.cpu_limit_s}
    kernel_cwd = scratch / "kernel-cwd"
    kernel_cwd.mkdir()
    zygote = sandbox.start_zygote(scratch, handed_in, kernel_cwd, readonly=[data], env=env, limits=limits)
    argv = sandbox.kernel_argv(scratch, handed_in, kernel_cwd, readonly=[data], env=env, zygote=zygote,
                               limits=limits)
    config = kernels.install_kernelspec(scratch / "jupyter", argv, display_name="Python 3 (sandboxed grading)")
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = sandbox.ipc_prefix(scratch)
    return config, zygote


def _grade(submission, options):
    from convenience_functions.paths import data_dir

    from . import judging

    started = time.monotonic()
    result = StudentResult(submission.student_id, submission.fingerprint())
    readable, flags = inspect_notebooks(submission, options.source_root)
    template, night = template_course(options.source_root, options.seed)
    checks.use_second_night(night)
    # Short: the kernel's IPC socket paths live in it (Unix sockets allow ~107 bytes).
    scratch = Path(tempfile.mkdtemp(prefix="ccdlab-"))
    zygote = None
    try:
        data_source = Path(options.data_source or data_dir()).resolve()
        root, data = _scratch_course(scratch, template, data_source, copy_data=not options.sandboxed)
        handed_in = grading.submission_dir(root, submission.student_id)
        handed_in.mkdir(parents=True)
        for name, content in readable.items():
            (handed_in / name).write_bytes(content)
        config, zygote = _kernel_config(options, scratch, handed_in, data)
        names = sorted(readable)
        failures = _autograde_each(root, submission.student_id, names, options.cell_timeout_s, config)
        if zygote is not None:
            zygote.stop()
        autograded = grading.student_dir(root, "autograded", submission.student_id)
        _restore_replaced(autograded, readable, flags)
        # What the kernels' runs say, read before the verdicts rewrite the grade cells' outputs.
        stops = {}
        for name in names:
            path = autograded / name
            found, stop = {}, None
            if path.is_file():
                found, stop = notebook_status(read_regular(path).decode("utf-8"), options.cell_timeout_s)
            if failures[name] is not None and not found:  # nbgrader stopped, not on a cell of the notebook
                found = {"kernel_died": [_short(failures[name])]}
            for status, reasons in found.items():
                flags.setdefault(status, []).extend(f"{name}: {reason}" for reason in reasons)
            if stop is not None:
                stops[name] = stop
        runner_cwd = scratch / "runner-cwd"
        runner_cwd.mkdir()
        data = _runner_frames(options, scratch, data, data_source)
        argv, env, visible = judging.runner_command(scratch, data, night.folder, options.sandboxed, runner_cwd)
        parsed = {name: json.loads(content) for name, content in readable.items()}
        verdicts = judging.judge_notebooks(parsed, _graded_ids(options.source_root), argv, runner_cwd, env,
                                           visible, options.cell_timeout_s, stops)
        apply_verdicts(root, submission.student_id, verdicts,
                       {str(handed_in.resolve()): ".", str(scratch.resolve()): "(grader)", str(scratch): "(grader)"})
        result.verdicts = judging.verdicts_as_json(verdicts)
        _collect(root, submission.student_id, result)
        for name, text in result.autograded.items():
            if "[output capped by the grader" in text:
                flags.setdefault("note", []).append(f"{name}: output capped")
    finally:
        if zygote is not None:
            zygote.stop()
        if not options.keep_scratch:
            remove_tree(scratch)
    for status in STATUSES:
        if flags.get(status):
            result.status = status
            break
    for status in STATUSES + ("note",):
        result.reasons += flags.get(status, [])
    result.seconds = time.monotonic() - started
    return result


def _short(log_text):
    """The line of nbgrader's log that says why a notebook could not be run."""
    for line in reversed(log_text.splitlines()):
        if "Error" in line or "died" in line:
            return line.strip()[:160]
    return (log_text.strip().splitlines() or ["nbgrader could not run it"])[-1][:160]
