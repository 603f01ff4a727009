"""Grading one student, in isolation, as a function of plain data.

:func:`grade_submission` takes a :class:`~autograder.submissions.Submission`
and returns a :class:`StudentResult`: scores, verdicts, status, the
autograded notebooks and the HTML feedback, all as data.  Being a pure
function of data, it runs the same in a local process pool or on a remote
worker.

The steps, in order:

1. :func:`inspect_notebooks` -- parse each notebook; find tampering.
2. :func:`_scratch_course` -- a copy of the prepared course (its grade cells
   without hidden tests) in a scratch folder of the student's own.
3. :func:`_autograde_each` -- nbgrader autograde, one notebook at a time, in
   the sandbox; the kernel writes only a throwaway folder.  Its outputs are
   the feedback, never the score.
4. :func:`autograder.judging.judge_notebooks` -- the notebooks' code in a
   runner (sandboxed, no answers), judged outside by the comparator.
5. :func:`apply_verdicts` -- the verdicts into the autograded notebooks and
   the gradebook.
6. :func:`_collect` -- scores from the scratch gradebook, feedback HTML.
"""

import contextlib
import dataclasses
import json
import logging
import multiprocessing.util
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from . import checks, course, grading
from .feedback import offline_math
from .safefiles import read_regular, remove_tree, write_regular
from .submissions import read_notebook_json

#: Statuses, most serious first: the first that applies is reported.
STATUSES = ("kernel_died", "timeout", "flagged", "unreadable_notebook", "missing_notebook", "ok")

#: Default per-cell timeout, in seconds (the slowest reference cell takes ~5 s).
DEFAULT_CELL_TIMEOUT_S = 30

#: Names of instructor code a submission must not reach for.
_FORBIDDEN_IMPORT = re.compile(
    r"""(?:^|[\s;])(?:import|from)\s+(solutions|autograder)\b"""
    r"""|(?:import_module|__import__)\(\s*['"](solutions|autograder)"""
    r"""|sys\.modules\[\s*['"](solutions|autograder)""",
    re.MULTILINE,
)


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
# Step 1: reading the notebooks and spotting tampering


def _grade_cells(notebook):
    """Cells a student may not edit: grade cells and locked cells (not answers)."""
    cells = {}
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if (meta.get("grade") or meta.get("locked")) and not meta.get("solution"):
            if "grade_id" in meta:
                cells[meta["grade_id"]] = cell
    return cells


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


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
            if _source(theirs).strip() != _source(cell).strip():
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
            match = _FORBIDDEN_IMPORT.search(_source(cell))
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


def _scratch_course(scratch, template, data_source, copy_data):
    root = scratch / "course"
    shutil.copytree(template, root, ignore=shutil.ignore_patterns("labs"))
    if not copy_data:
        return root, Path(data_source)  # shown read-only inside the sandbox
    guard = scratch / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(_GUARD)
    data = scratch / "data"
    shutil.copytree(data_source, data, ignore=shutil.ignore_patterns(".*", "*.json"))
    for path in data.iterdir():
        path.chmod(0o444)
    data.chmod(0o555)
    return root, data


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


def _cell_errors(notebook_text):
    names = set()
    for cell in json.loads(notebook_text).get("cells", []):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                names.add(output.get("ename", ""))
    return names


def _timed_out(notebook_text, seconds):
    """(source, description) of the cell nbgrader interrupted for running over the time limit, or None.

    The description names the cell and the function that did not return
    (:func:`autograder.preprocessors.timeout_description`).
    """
    import nbformat

    from .preprocessors import timeout_description

    notebook = nbformat.reads(notebook_text, as_version=4)
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") == "CellTimeoutError":
                return cell.source, timeout_description(cell, index, seconds)
    return None


# ---------------------------------------------------------------------------
# Step 4: the verdicts decide the auto-graded cells


def _verdict_outputs(cell, verdict):
    """The grade cell's outputs with the kernel's verdict-like outputs neutralized and the verdict added.

    Only the verdict may decide the score (nbgrader scores an error output 0
    and reads a number from an ``execute_result``): the kernel's errors and
    results become plain text, then the verdict follows.
    """
    import nbformat

    kept = []
    visible_failed = any(output.get("output_type") == "error" for output in cell.get("outputs", []))
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            kept.append(nbformat.v4.new_output("stream", name="stderr",
                                               text=f"{output.get('ename', '')}: {output.get('evalue', '')}\n"))
        elif output.get("output_type") == "execute_result":
            kept.append(nbformat.v4.new_output("display_data", data=output.get("data", {})))
        else:
            kept.append(output)
    if verdict.passed:
        kept.append(nbformat.v4.new_output("stream", name="stdout", text="The grader's tests passed.\n"))
    else:
        said = f"the grader's tests found: {verdict.message}"
        if not visible_failed:
            said = f"visible tests passed; {said}"
        kept.append(nbformat.v4.new_output("error", ename="GraderTestsFailed", evalue=said,
                                           traceback=[f"GraderTestsFailed: {said}"]))
    return kept


def _scrub_outputs(cell, replacements):
    """The grader's scratch paths out of a cell's outputs (the student reads them in the feedback)."""
    from .feedback import scrub_paths

    for output in cell.get("outputs", []):
        if "text" in output:
            output["text"] = scrub_paths(output["text"], replacements)
        if "evalue" in output:
            output["evalue"] = scrub_paths(output["evalue"], replacements)
        if "traceback" in output:
            output["traceback"] = [scrub_paths(line, replacements) for line in output["traceback"]]
        data = output.get("data", {})
        if isinstance(data.get("text/plain"), str):
            data["text/plain"] = scrub_paths(data["text/plain"], replacements)


def apply_verdicts(root, student_id, verdicts, replacements=None):
    """Write the verdicts into the autograded notebooks and the scratch gradebook.

    Parameters
    ----------
    root : pathlib.Path
        The scratch course.
    student_id : str
    verdicts : dict
        grade_id -> :class:`~autograder.judging.Verdict`.
    """
    import nbformat
    from nbgrader.preprocessors import SaveAutoGrades

    db_url = course.nbgrader_config(root=root).CourseDirectory.db_url
    for path in sorted(_autograded_dir(root, student_id).glob("*.ipynb")):
        notebook = nbformat.reads(read_regular(path).decode("utf-8"), as_version=4)
        for cell in notebook.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if cell.cell_type != "code":
                continue
            if replacements:
                _scrub_outputs(cell, replacements)
            if grade_id in verdicts:
                cell.outputs = _verdict_outputs(cell, verdicts[grade_id])
        resources = {"nbgrader": {"notebook": path.stem, "assignment": course.ASSIGNMENT_ID,
                                  "student": student_id, "db_url": db_url}}
        SaveAutoGrades().preprocess(notebook, resources)
        write_regular(path, nbformat.writes(notebook).encode("utf-8"))


# ---------------------------------------------------------------------------
# Step 5: collecting scores and feedback


def _autograded_dir(root, student_id):
    return Path(root) / "autograded" / student_id / course.ASSIGNMENT_ID


def _collect(root, student_id, result):
    from nbgrader.converters import GenerateFeedback

    autograded = _autograded_dir(root, student_id)
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
        feedback = Path(root) / "feedback" / student_id / course.ASSIGNMENT_ID
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


def grade_submission(submission, *, cell_timeout=DEFAULT_CELL_TIMEOUT_S, source_root=course.REPO_ROOT,
                     data_source=None, keep_scratch=False, sandbox="auto", hidden=(), seed=None):
    """Grade one student's submission in a scratch folder of its own.

    Parameters
    ----------
    submission : Submission
    cell_timeout : float
        Seconds one cell (or one call of a checked function) may run.
    source_root : pathlib.Path
        Repository holding the instructor and student notebooks.
    data_source : pathlib.Path, optional
        Folder of frames (default: the bundled one).
    keep_scratch : bool
        Leave the scratch folder behind (for debugging).
    sandbox : {"auto", "require", "off"}
        Run the kernels and the runner under bubblewrap: where it works
        ("auto"), always (fail where it cannot: "require"), or never ("off").
    hidden : iterable of pathlib.Path
        Unused (the sandbox shows nothing it is not told to); kept for callers.
    seed : int, optional
        Seed of the grading run's second night.

    Returns
    -------
    StudentResult
    """
    with _stderr_to_log() as log:
        result = _grade(submission, cell_timeout, source_root, data_source, keep_scratch, sandbox, seed)
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


def _grade(submission, cell_timeout, source_root, data_source, keep_scratch, sandbox, seed):
    from convenience_functions.paths import DATA_ENV_VAR, data_dir

    from . import judging

    started = time.monotonic()
    result = StudentResult(submission.student_id, submission.fingerprint())
    readable, flags = inspect_notebooks(submission, source_root)
    template, night = template_course(source_root, seed)
    checks.use_second_night(night)
    # Short: the kernel's IPC socket paths live in it (Unix sockets allow ~107 bytes).
    scratch = Path(tempfile.mkdtemp(prefix="ccdlab-"))
    use_sandbox = _use_sandbox(sandbox)
    saved_env = dict(os.environ)
    zygote = None
    try:
        root, data = _scratch_course(scratch, template, Path(data_source or data_dir()).resolve(),
                                     copy_data=not use_sandbox)
        handed_in = grading.submission_dir(root, submission.student_id)
        handed_in.mkdir(parents=True)
        for name, content in readable.items():
            (handed_in / name).write_bytes(content)
        extra = None
        if use_sandbox:
            from traitlets.config import Config

            from . import sandbox as bwrap

            kernel_cwd = scratch / "kernel-cwd"
            kernel_cwd.mkdir()
            zygote = bwrap.start_zygote(scratch, handed_in, kernel_cwd, readonly=[data],
                                        env={DATA_ENV_VAR: str(data)})
            os.environ.update(bwrap.install_kernel(scratch, handed_in, kernel_cwd, readonly=[data],
                                                   env={DATA_ENV_VAR: str(data)}, zygote=zygote))
            extra = Config()
            extra.KernelManager.transport = "ipc"
            extra.KernelManager.ip = bwrap.ipc_prefix(scratch)
        else:
            os.environ[DATA_ENV_VAR] = str(data)
            os.environ["PYTHONPATH"] = str(scratch / "guard")
        names = sorted(readable)
        failures = _autograde_each(root, submission.student_id, names, cell_timeout, extra) if names else {}
        if zygote is not None:
            zygote.stop()
        for name, failure in failures.items():
            if failure is not None:
                died = "DeadKernelError" in failure or "died" in failure.lower()
                status = "kernel_died" if died else "timeout" if "timeout" in failure.lower() else "kernel_died"
                flags.setdefault(status, []).append(f"{name}: {_short(failure)}")
        # What the kernels' runs say, read before the verdicts rewrite the grade cells' outputs.
        stops = {}
        for path in sorted(_autograded_dir(root, submission.student_id).glob("*.ipynb")):
            text = read_regular(path).decode("utf-8")
            errors = _cell_errors(text)
            found = _timed_out(text, cell_timeout)
            if found:
                stops[path.name] = found
                flags.setdefault("timeout", []).append(f"{path.name}: {found[1]}; the cells after it were not run")
            if "DeadKernelError" in errors:
                flags.setdefault("kernel_died", []).append(f"{path.name}: the kernel died; later cells scored 0")
        runner_cwd = scratch / "runner-cwd"
        runner_cwd.mkdir()
        argv, env, visible = judging.runner_command(scratch, data, night.folder, use_sandbox, runner_cwd)
        parsed = {name: json.loads(content) for name, content in readable.items()}
        verdicts = judging.judge_notebooks(parsed, _graded_ids(source_root), argv, runner_cwd, env, visible,
                                           cell_timeout, stops)
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
        os.environ.clear()
        os.environ.update(saved_env)
        if not keep_scratch:
            remove_tree(scratch)
    for status in STATUSES:
        if flags.get(status):
            result.status = status
            break
    for status in STATUSES + ("note",):
        result.reasons += flags.get(status, [])
    result.seconds = time.monotonic() - started
    return result


class SandboxUnavailable(RuntimeError):
    """``sandbox="require"`` but bubblewrap cannot run here."""


def _use_sandbox(mode):
    if mode == "off":
        return False
    from . import sandbox as bwrap

    works, why = bwrap.available()
    if not works and mode == "require":
        raise SandboxUnavailable(why)
    return works


def _short(log_text):
    for line in reversed(log_text.splitlines()):
        if "Error" in line or "died" in line:
            return line.strip()[:160]
    return (log_text.strip().splitlines() or ["nbgrader failed"])[-1][:160]
