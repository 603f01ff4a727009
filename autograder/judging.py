"""Verdicts for one student: their notebooks' code run in a runner, judged here.

After nbgrader has run a student's notebooks (for the feedback they will
read), :func:`judge_notebooks` decides every auto-graded cell's score on its
own, from nothing the student's kernel could touch:

1. a runner (:mod:`autograder.runner`) is started in the sandbox, holding no
   answers, with the frames and the grading run's second night to read and
   a throwaway folder to write;
2. each notebook's own code cells (not the grade cells) run there in order;
   at each grade cell ``test_X``, the graded variable or function ``X`` is
   judged by ``checks.DIAGNOSES[X]``, here, on the plain data the runner
   sends back (:mod:`autograder.candidates`);
3. the verdict -- passed or not, and a message for the student -- is what
   the cell scores.
"""

import dataclasses
import shutil
import sys
import tempfile
from pathlib import Path

from . import checks, course
from .candidates import CandidateFailed, RemoteFunction, Runner, RunnerStopped, decode

#: Items judged by value (a variable of the notebook); the others are functions.
VALUE_ITEMS = ("center_flux", "fifth_column_mean", "answer_bias_exptime", "answer_center_pixel",
               "answer_ninth_image")
#: Grade id of the cell that grades item X.
GRADE_ID_PREFIX = "test_"


@dataclasses.dataclass
class Verdict:
    """The comparator's decision on one auto-graded cell."""

    grade_id: str
    passed: bool
    message: str


def item_of(grade_id):
    """The graded item a grade cell judges (``test_combine_bias`` -> ``combine_bias``), or None."""
    if grade_id and grade_id.startswith(GRADE_ID_PREFIX) and grade_id[len(GRADE_ID_PREFIX):] in checks.DIAGNOSES:
        return grade_id[len(GRADE_ID_PREFIX):]
    return None


def plan(notebook, graded_ids):
    """Split a handed-in notebook into steps: ``[("cells", [source]), ("item", grade_id)]``.

    Parameters
    ----------
    notebook : dict
        The notebook as handed in (parsed JSON).
    graded_ids : list of str
        Grade ids of the notebook's auto-graded cells, in the instructor's order.

    Grade cells are never run (their tests are the grader's business).  An
    item is judged where its grade cell stands; one whose cell was deleted,
    after the last cell.
    """
    steps, pending, placed = [], [], set()
    for cell in notebook.get("cells", []) if isinstance(notebook, dict) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}) if isinstance(cell.get("metadata"), dict) else {}
        nbgrader = meta.get("nbgrader", {}) if isinstance(meta.get("nbgrader"), dict) else {}
        grade_id = nbgrader.get("grade_id")
        if grade_id in graded_ids and grade_id not in placed:
            steps.append(("cells", pending))
            steps.append(("item", grade_id))
            pending = []
            placed.add(grade_id)
        elif nbgrader.get("grade") and not nbgrader.get("solution"):
            continue
        else:
            pending.append(course.cell_source(cell))
    missing = [("item", grade_id) for grade_id in graded_ids if grade_id not in placed]
    if missing:  # cells after the last grade cell matter only to an item whose cell was deleted
        steps += [("cells", pending)] + missing
    return [step for step in steps if step != ("cells", [])]


def _after_stop(notebook, stop):
    """Grade ids at or after the cell that ran over the time limit, and the stop itself."""
    if stop is None:
        return set(), None
    found, after = False, set()
    for cell in notebook.get("cells", []):
        if isinstance(cell, dict) and course.cell_source(cell) == stop[0]:
            found = True
        if found and isinstance(cell, dict):
            meta = cell.get("metadata", {})
            grade_id = meta.get("nbgrader", {}).get("grade_id") if isinstance(meta, dict) else None
            if grade_id:
                after.add(grade_id)
    return after, stop


def _judge_item(item, runner, visible, timeout):
    """Problems with ``item`` in the runner's current notebook."""
    if item in VALUE_ITEMS:
        answer, blobs = runner.ask({"op": "value", "name": item}, timeout=timeout)
        try:
            value = decode(answer.get("result"), blobs)
        except CandidateFailed as failure:
            return [f"{item} {failure}"]
        return checks.DIAGNOSES[item](value)
    return checks.DIAGNOSES[item](RemoteFunction(runner, item, visible, timeout))


def judge_notebooks(notebooks, graded_ids, runner_argv, workdir, env, visible, timeout, stops=None):
    """Judge every auto-graded cell of a student's notebooks.

    Parameters
    ----------
    notebooks : dict
        Notebook name -> parsed notebook (the student's hand-in).
    graded_ids : dict
        Notebook name -> grade ids of its auto-graded cells.
    runner_argv : list of str
        Command that starts the runner (sandbox prefix included).
    workdir : pathlib.Path
        The runner's working folder.
    env : dict
        The runner's environment.
    visible : list of pathlib.Path
        Folders the runner reads at the same paths (frames, second night).
    timeout : float
        Seconds a cell or a call may take.
    stops : dict, optional
        Notebook name -> (source of the cell that ran over the time limit in
        the kernel, why): that cell and the cells after it are not run, the
        items after it fail "not run", as in the kernel.

    Returns
    -------
    dict
        grade_id -> :class:`Verdict`, for every id in ``graded_ids``.
    """
    stops = stops or {}
    verdicts = {}
    runner = Runner(runner_argv, workdir, env)
    try:
        for name in sorted(graded_ids):
            ids = list(graded_ids[name])
            if name not in notebooks:
                for grade_id in ids:
                    verdicts[grade_id] = Verdict(grade_id, False, f"{name} was not handed in or could not be read")
                continue
            broken = None
            try:
                runner.ask({"op": "reset"}, timeout=timeout)
            except (TimeoutError, RunnerStopped) as error:
                broken = f"the checker could not start ({error})"
            stopped_ids, stop = _after_stop(notebooks[name], stops.get(name))
            for kind, value in plan(notebooks[name], ids):
                if kind == "item" and value in stopped_ids:
                    verdicts[value] = Verdict(value, False, f"{item_of(value) or value}: not run: {stop[1]}")
                    continue
                if broken is not None:
                    if kind == "item":
                        verdicts[value] = Verdict(value, False, f"{item_of(value) or value} could not be checked: "
                                                                f"{broken}")
                    continue
                if kind == "cells":
                    cells = list(value)
                    if stop is not None and stop[0] in cells:
                        cells = cells[:cells.index(stop[0])]  # nothing after it matters: its items are not run
                    if not cells:
                        continue
                    try:
                        runner.ask({"op": "cells", "cells": cells, "timeout": timeout},
                                   timeout=timeout * max(1, len(cells)))
                    except TimeoutError:
                        broken = "a cell of the notebook above it did not finish in time"
                    except RunnerStopped:
                        broken = ("the notebook's code above it stopped the checking process "
                                  "(os._exit, a crash or out of memory)")
                    continue
                item = item_of(value)
                if item is None:
                    verdicts[value] = Verdict(value, False, f"{value} has no check")
                    continue
                started = (runner.process.pid if runner.alive() else None, runner.notebook_ends)
                checks.NOTES.clear()
                try:
                    problems = _judge_item(item, runner, visible, timeout)
                except (TimeoutError, RunnerStopped) as error:
                    problems = [f"{item} could not be checked: {error or 'no answer in time'}"]
                now = (runner.process.pid if runner.alive() else None, runner.notebook_ends)
                if started[0] is None or now != started:
                    broken = f"the notebook's process had to be stopped while {item} was checked"
                verdicts[value] = Verdict(value, not problems,
                                          "\n".join(problems or checks.NOTES) or f"{item}: correct")
    finally:
        runner.stop()
    return verdicts


def runner_command(scratch, data, second_night, sandboxed, cwd):
    """The runner's command, working folder, environment and visible folders.

    The runner script is copied into ``scratch``: inside the sandbox nothing of
    the ``autograder`` package exists.
    """
    from . import sandbox

    code = Path(scratch) / "runner-code"
    code.mkdir(exist_ok=True)
    script = code / "runner.py"
    for name in ("runner.py", "runner_encode.py"):  # the runner loads its encoder from beside it
        shutil.copyfile(Path(checks.__file__).with_name(name), code / name)
    visible = [Path(data).resolve(), Path(second_night).resolve()]
    env = {"CCDLAB_DATA": str(Path(data).resolve()),
           "CCDLAB_STUDENT_PATH": str(sandbox.student_package().resolve().parent)}
    argv = [sys.executable, "-I", str(script)]
    if sandboxed:
        argv = sandbox.command(cwd, writable=[cwd], readonly=visible + [code], env=env) + argv
        return argv, env, visible
    import os

    full_env = dict(os.environ, **env, MPLBACKEND="Agg", CCDLAB_RUNNER_FORBID="solutions,autograder")
    full_env.pop("PYTHONPATH", None)
    return argv, full_env, visible


def verdicts_as_json(verdicts):
    """Verdicts as plain JSON-able data (for the result and RESULTS)."""
    return {grade_id: dataclasses.asdict(verdict) for grade_id, verdict in verdicts.items()}


def new_second_night(seed):
    """Write the grading run's second night into a new folder; return the Night."""
    folder = Path(tempfile.mkdtemp(prefix="ccdlab-night-"))
    night = checks.second_night(folder, seed=seed)
    for path in folder.iterdir():
        path.chmod(0o444)
    return night
