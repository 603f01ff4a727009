"""The grader's side of the runner: student answers as plain data.

The checks in :mod:`autograder.checks` call a candidate like a function.
Here are the two kinds of candidate they receive:

:class:`RemoteFunction`
    While grading: each call is sent to the student's runner process
    (:mod:`autograder.runner`, in the sandbox); what comes back is plain
    data -- arrays loaded from ``.npy`` bytes without pickle, exact
    ``float``/``int``/``bool``/``str``, an :class:`AxesRecord`, the bytes of
    files the call wrote.  No object of the student's ever exists here.
:class:`LocalFunction`
    In tests and in a notebook's own hidden tests: the function is called in
    this process, and its result goes through the same encoding, so the
    checks see the same kinds of data either way.

:class:`Runner` starts and talks to one runner process: request ids on every
message, a deadline on every answer, the process killed when it is missed.

What comes back is read by :func:`autograder.plaindata.decode` (its names
are importable from here too).
"""

import contextlib
import io
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import runner as codec
from .plaindata import (  # noqa: F401  (re-exported: candidates.decode, candidates.CandidateFailed, ...)
    MAX_DEPTH, MAX_ITEMS, AxesRecord, CandidateFailed, Unsupported, decode,
)

#: Largest header (bytes) and blob accepted from a runner.
MAX_HEADER_BYTES = 4 * 1024 * 1024
MAX_BLOB_BYTES = codec.MAX_BLOB_BYTES
#: Seconds a runner may take beyond a request's own timeout before it is killed.
GRACE_S = 10.0

#: Passed for a plotting function's ``ax``: a fresh Axes made where the function runs.
NEW_AXES = object()


class RunnerStopped(CandidateFailed):
    """The runner process ended or stopped answering."""


class NotebookStopped(RunnerStopped):
    """The notebook's process in the runner ended (the runner itself goes on)."""


class OutputPath(str):
    """A path the checked function must write (its bytes come back from the runner)."""


# ---------------------------------------------------------------------------
# In this process (tests, a notebook's own hidden tests)


class LocalFunction:
    """A function called here, its result passed through the runner's encoding."""

    def __init__(self, function):
        self.function = function

    def call(self, name, args, kwargs, timeout=None):
        """Return (plain result, printed text); raise CandidateFailed with the reason."""
        import matplotlib.pyplot as plt

        if not callable(self.function):
            raise CandidateFailed(f"{name} is not a function (got {type(self.function).__name__})")
        given = []

        def local(value):
            if value is NEW_AXES:
                given.append(plt.subplots()[1])
                return given[-1]
            if isinstance(value, list):
                return [local(item) for item in value]
            return str(value) if isinstance(value, OutputPath) else value

        args = [local(a) for a in args]
        kwargs = {k: local(v) for k, v in kwargs.items()}
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                value = self.function(*args, **kwargs)
        except NotImplementedError:
            raise CandidateFailed(f"{name} is not written yet: it still raises NotImplementedError") from None
        except Exception as error:  # the student's error, as text
            raise CandidateFailed(_error_text(name, type(error).__name__, str(error))) from None
        blobs = []
        encoded = codec.encode(value, blobs, given[0] if given else None)
        plt.close("all")
        return decode(json.loads(json.dumps(encoded)), blobs), printed.getvalue()


def _error_text(name, ename, evalue):
    if ename == "NotImplementedError":
        return f"{name} is not written yet: it still raises NotImplementedError"
    if ename == "TimeoutError" and evalue.startswith("ran longer"):
        return f"{name} {evalue}: is there an endless loop?"
    hint = ""
    text = f"{ename} {evalue}"
    if ename in ("ValueError", "IndexError") and "shape" in text:
        hint = " (is a frame size hard-coded? the frames here are not 1024x1024)"
    elif "broadcast" in text or ("index" in text and "out of bounds" in text):
        hint = " (is the frame shape hard-coded? read it from the data instead)"
    return f"{name} raised {ename}: {evalue}{hint}"


# ---------------------------------------------------------------------------
# In the student's runner


class Runner:
    """One runner process and its pipes.

    Parameters
    ----------
    argv : list of str
        The command (a sandbox prefix and the interpreter running the script).
    cwd : pathlib.Path
        Its working folder (its scratch, the only place it writes).
    env : dict
        Its environment.
    """

    def __init__(self, argv, cwd, env):
        self.argv, self.cwd, self.env = list(argv), Path(cwd), dict(env)
        self.process = None
        self.next_id = 0
        self.log = None
        #: How many times a notebook's process ended inside the runner.
        self.notebook_ends = 0

    def start(self):
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, cwd=self.cwd,
            env=self.env, start_new_session=True, close_fds=True,
        )

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()
        self.process = None

    def why_stopped(self):
        if self.log is None:
            return "the checker did not start"
        self.log.seek(0)
        lines = self.log.read().decode("utf-8", "replace").strip().splitlines()
        return " ".join(lines[-2:])[:300] or "the notebook's code ended the checking process"

    def _read_frame(self, fd, deadline, limit):
        size = self._read_exactly(fd, 8, deadline)
        length = int.from_bytes(size, "big")
        if length > limit:
            raise RunnerStopped("the checker received an answer too large to read")
        return self._read_exactly(fd, length, deadline)

    @staticmethod
    def _read_exactly(fd, size, deadline):
        chunks, missing = [], size
        while missing:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError()
            chunk = os.read(fd, min(missing, 1 << 20))
            if not chunk:
                raise RunnerStopped("the checking process ended")
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def ask(self, request, blobs=(), timeout=30.0):
        """Send one request; return (answer header, blobs).

        Raises
        ------
        TimeoutError
            No answer within ``timeout`` + :data:`GRACE_S` (the runner is stopped).
        RunnerStopped
            The runner ended, or answered out of turn (it is stopped).
        """
        if not self.alive():
            self.stop()
            self.start()
        self.next_id += 1
        request = dict(request, id=self.next_id)
        deadline = time.monotonic() + float(timeout) + GRACE_S
        try:
            codec.write_message(self.process.stdin.fileno(), request, list(blobs))
            out = self.process.stdout.fileno()
            header = json.loads(self._read_frame(out, deadline, MAX_HEADER_BYTES))
            if not isinstance(header, dict) or header.get("id") != self.next_id:
                raise RunnerStopped("the checker received an answer out of turn")
            count = header.get("blobs", 0)
            if type(count) is not int or not 0 <= count <= 10_000:
                raise RunnerStopped("the checker received a malformed answer")
            answer_blobs = [self._read_frame(out, deadline, MAX_BLOB_BYTES) for _ in range(count)]
            if "stopped" in header:
                # The notebook's process ended; the runner itself goes on.
                self.notebook_ends += 1
                raise NotebookStopped(str(header["stopped"])[:300])
        except TimeoutError:
            self.stop()
            raise
        except NotebookStopped:
            raise
        except RunnerStopped as error:
            self.stop()
            raise RunnerStopped(self.why_stopped() if "ended" in str(error) else str(error)) from None
        except (OSError, ValueError):
            why = self.why_stopped()
            self.stop()
            raise RunnerStopped(why) from None
        return header, answer_blobs


class RemoteFunction:
    """A function of the student's notebook, called in their runner.

    Parameters
    ----------
    runner : Runner
    name : str
        The function's name in the notebook.
    visible : list of pathlib.Path
        Folders the runner sees at the same path; other input files are sent.
    timeout : float
        Seconds one call may take.
    """

    def __init__(self, runner, name, visible, timeout):
        self.runner, self.name, self.timeout = runner, name, float(timeout)
        self.visible = [Path(v).resolve() for v in visible]

    def _spec(self, value, blobs, outputs):
        if value is NEW_AXES:
            return {"__axes__": True}
        if isinstance(value, OutputPath):
            outputs[Path(value).name] = Path(value)
            return {"__output__": Path(value).name}
        if isinstance(value, (list, tuple)):
            return [self._spec(item, blobs, outputs) for item in value]
        if isinstance(value, np.ndarray):
            buffer = io.BytesIO()
            np.save(buffer, value, allow_pickle=False)
            blobs.append(buffer.getvalue())
            return {"__array__": len(blobs) - 1}
        if isinstance(value, Path):
            value = str(value)
        if isinstance(value, str) and os.sep in value and Path(value).is_file():
            path = Path(value).resolve()
            if not any(root == path or root in path.parents for root in self.visible):
                blobs.append(path.read_bytes())
                return {"__file__": len(blobs) - 1, "name": path.name}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise TypeError(f"cannot send {type(value).__name__} to the runner")

    def call(self, name, args, kwargs, timeout=None):
        """Return (plain result, printed text); raise CandidateFailed with the reason."""
        blobs, outputs = [], {}
        request = {"op": "call", "name": self.name, "timeout": timeout or self.timeout,
                   "args": [self._spec(a, blobs, outputs) for a in args],
                   "kwargs": {k: self._spec(v, blobs, outputs) for k, v in kwargs.items()}}
        try:
            answer, answer_blobs = self.runner.ask(request, blobs, timeout or self.timeout)
        except TimeoutError:
            raise CandidateFailed(f"{name} did not return within {timeout or self.timeout:g} s: "
                                  "is there an endless loop?") from None
        except RunnerStopped as stopped:
            raise CandidateFailed(f"{name} could not be checked: {stopped}") from None
        files = answer.get("files") if isinstance(answer.get("files"), dict) else {}
        for file_name, index in files.items():
            if file_name in outputs and type(index) is int and 0 <= index < len(answer_blobs):
                _write_new(outputs[file_name], answer_blobs[index])
        error = answer.get("error")
        if isinstance(error, dict):
            raise CandidateFailed(_error_text(name, str(error.get("ename", "Error"))[:80],
                                              str(error.get("evalue", ""))[:500]))
        printed = answer.get("printed") if type(answer.get("printed")) is str else ""
        return decode(answer.get("result"), answer_blobs), printed


def _write_new(path, data):
    """Write ``data`` to a new file at ``path`` (never through a symlink)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
