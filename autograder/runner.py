"""The runner: executes a student's code and answers with plain data only.

This file runs as a script (``python -I runner.py``) inside the grading
sandbox, one process per student.  It holds no reference answer, no verdict
and no file descriptor but its two pipes: the grader (outside the sandbox)
sends requests on standard input and reads answers on standard output.  It
imports nothing of ``autograder`` or ``solutions``: it is copied into the
sandbox with one file, its encoder ``runner_encode.py`` (loaded from beside it).

Everything it answers is treated by the grader as the student's claim: a
student's code in this process can change what it says, but only about its
own answers, which the comparator then judges on inputs it chose.

Messages travel length-prefixed (8 bytes, big-endian): first a JSON header,
then as many binary blobs as the header's ``"blobs"`` says.  Arrays travel as
``.npy`` bytes (never pickled), numbers and text as JSON.

Requests (each carries an ``"id"`` echoed in its answer):

``{"op": "reset"}``
    Forget the namespace: the next cells start a new notebook.
``{"op": "cells", "cells": [source, ...], "timeout": s}``
    Run notebook cells in order; a cell that raises or runs over ``timeout``
    seconds is reported and the next one runs.
``{"op": "value", "name": name}``
    The value of a variable of the notebook.
``{"op": "call", "name": name, "args": [...], "kwargs": {...}, "timeout": s}``
    Call a function of the notebook.  Arguments are JSON values, or
    ``{"__array__": i}`` (blob ``i``), ``{"__file__": i, "name": n}`` (blob
    ``i`` written to a file first), ``{"__output__": n}`` (a path to write,
    whose bytes come back), ``{"__axes__": true}`` (a fresh matplotlib Axes).
"""

import contextlib
import io
import json
import os
import signal
import struct
import sys

_HEADER = struct.Struct(">Q")


class _CellTimeout(BaseException):
    """Raised in the student's code when a cell or call runs over its time."""


def _on_alarm(_signum, _frame):
    raise _CellTimeout()


def read_message(fd):
    """Read one message: (header dict, list of blobs); None at end of input."""
    def exactly(size):
        chunks, missing = [], size
        while missing:
            chunk = os.read(fd, min(missing, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def frame():
        size = exactly(_HEADER.size)
        return None if size is None else exactly(_HEADER.unpack(size)[0])

    header = frame()
    if header is None:
        return None
    header = json.loads(header)
    blobs = [frame() for _ in range(int(header.get("blobs", 0)))]
    return header, blobs


def write_message(fd, header, blobs=()):
    """Write one message (header dict and blobs)."""
    header = dict(header, blobs=len(blobs))
    for data in [json.dumps(header, allow_nan=True).encode()] + list(blobs):
        view = memoryview(_HEADER.pack(len(data)) + data)
        while view:
            view = view[os.write(fd, view):]


# ---------------------------------------------------------------------------
# Plain data out of whatever the student's code returned (runner_encode.py, beside this file)


def _beside(name):
    """The module in the file ``name.py`` beside this script (``-I`` keeps this folder off sys.path)."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_ccdlab_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ENCODING = _beside("runner_encode")
encode = _ENCODING.encode
MAX_BLOB_BYTES, MAX_PRINTED = _ENCODING.MAX_BLOB_BYTES, _ENCODING.MAX_PRINTED


# ---------------------------------------------------------------------------
# Running the notebook's code


class _Stub:
    """``get_ipython()`` of the runner: magics and shell commands do nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _python(source):
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _timed(seconds, function):
    """Run ``function()`` with an alarm after ``seconds``; return (value, printed, error)."""
    printed = io.StringIO()
    signal.setitimer(signal.ITIMER_REAL, max(float(seconds), 0.01))
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            value = function()
        error = None
    except _CellTimeout:
        value, error = None, {"ename": "TimeoutError", "evalue": f"ran longer than {seconds:g} s"}
    except (Exception, SystemExit, KeyboardInterrupt) as caught:  # the student's error, as text
        value, error = None, {"ename": type(caught).__name__, "evalue": str(caught)[:MAX_PRINTED]}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return value, printed.getvalue()[-MAX_PRINTED:], error


def _new_namespace():
    import matplotlib.pyplot as plt

    plt.close("all")
    stub = _Stub()
    return {"__name__": "__main__", "__builtins__": __builtins__, "get_ipython": lambda: stub,
            "display": lambda *args, **kwargs: None}


def _argument(spec, blobs, workdir, outputs, given):
    import numpy as np

    if isinstance(spec, list):
        return [_argument(item, blobs, workdir, outputs, given) for item in spec]
    if not isinstance(spec, dict):
        return spec
    if "__array__" in spec:
        return np.load(io.BytesIO(blobs[spec["__array__"]]), allow_pickle=False)
    if "__file__" in spec:
        path = os.path.join(workdir, "in", os.path.basename(spec["name"]))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(blobs[spec["__file__"]])
        return path
    if "__output__" in spec:
        path = os.path.join(workdir, "out", os.path.basename(spec["__output__"]))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            os.remove(path)
        outputs.append(path)
        return path
    if spec.get("__axes__"):
        import matplotlib.pyplot as plt

        _figure, ax = plt.subplots()
        given.append(ax)
        return ax
    raise ValueError(f"unknown argument {spec}")


def _read_back(path):
    """Bytes of an output file the call wrote, or None."""
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_BLOB_BYTES + 1)[:MAX_BLOB_BYTES + 1]
    except OSError:
        return None


def handle(request, blobs, state):
    """Answer one request; return (header, blobs)."""
    op = request.get("op")
    answer, out = {"id": request.get("id")}, []
    if op == "reset":
        state["namespace"] = _new_namespace()
    elif op == "cells":
        reports = []
        for source in request["cells"]:
            _value, _printed, error = _timed(request["timeout"], lambda: exec(
                compile(_python(source), "<cell>", "exec"), state["namespace"]))
            reports.append(error)
        answer["cells"] = reports
    elif op == "value":
        namespace = state["namespace"]
        answer["result"] = encode(namespace[request["name"]], out) if request["name"] in namespace else {
            "kind": "undefined"}
    elif op == "call":
        function = state["namespace"].get(request["name"])
        if function is None:
            answer["result"] = {"kind": "undefined"}
        else:
            outputs, given = [], []
            args = [_argument(a, blobs, state["workdir"], outputs, given) for a in request.get("args", [])]
            kwargs = {k: _argument(v, blobs, state["workdir"], outputs, given)
                      for k, v in request.get("kwargs", {}).items()}
            value, printed, error = _timed(request["timeout"], lambda: function(*args, **kwargs))
            answer["printed"] = printed
            if error:
                answer["error"] = error
            else:
                answer["result"] = encode(value, out, given[0] if given else None)
            files = {}
            for path in outputs:
                data = _read_back(path)
                if data is not None and len(data) <= MAX_BLOB_BYTES:
                    out.append(data)
                    files[os.path.basename(path)] = len(out) - 1
            answer["files"] = files
            import matplotlib.pyplot as plt

            plt.close("all")
    else:
        answer["error"] = {"ename": "ProtocolError", "evalue": f"unknown op {op!r}"}
    return answer, out


class _Forbid:
    """An import hook refusing the grader's own packages (when no sandbox hides them)."""

    def __init__(self, names):
        self.names = names

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ImportError(f"{name} is not available while grading")
        return None


def _serve_notebook(requests, answers):
    """In a forked child: answer one notebook's requests until the pipe closes."""
    state = {"namespace": _new_namespace(), "workdir": os.getcwd()}
    while True:
        message = read_message(requests)
        if message is None:
            os._exit(0)
        header, blobs = message
        answer, out = handle(header, blobs, state)
        write_message(answers, answer, out)


def _new_child(requests, answers):
    """Fork the child that runs one notebook; return (pid, its request fd, its answer fd)."""
    child_reads, parent_writes = os.pipe()
    parent_reads, child_writes = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        # The student's code runs here: the grader's pipes are closed in this process.
        for fd in (requests, answers, parent_writes, parent_reads):
            os.close(fd)
        try:
            _serve_notebook(child_reads, child_writes)
        finally:
            os._exit(0)
    os.close(child_reads)
    os.close(child_writes)
    return pid, parent_writes, parent_reads


def _end_child(child):
    if child is None:
        return
    pid, to_child, to_parent = child
    for fd in (to_child, to_parent):
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


def serve():
    """Answer requests on standard input until it closes.

    This process imports the libraries once and runs no student code: each
    notebook runs in a child forked from it (a fresh process, as a fresh
    kernel would be), which talks only to this process; this process relays
    the child's answers, stamped with the request's id, and ends the child
    at the next ``reset``.
    """
    requests, answers = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # the student's prints never reach the grader's pipe
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    from astropy.io import fits  # noqa: F401
    from IPython.core.inputtransformer2 import TransformerManager  # noqa: F401

    # -I ignores PYTHONPATH: the course's own student package is put first here.
    if os.environ.get("CCDLAB_STUDENT_PATH"):
        sys.path.insert(0, os.environ["CCDLAB_STUDENT_PATH"])
    forbidden = [name for name in os.environ.pop("CCDLAB_RUNNER_FORBID", "").split(",") if name]
    if forbidden:
        sys.meta_path.insert(0, _Forbid(forbidden))
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    child = None
    while True:
        message = read_message(requests)
        if message is None:
            _end_child(child)
            return
        header, blobs = message
        if header.get("op") == "reset" or child is None:
            _end_child(child)
            child = _new_child(requests, answers)
        if header.get("op") == "reset":
            write_message(answers, {"id": header.get("id")})
            continue
        try:
            write_message(child[1], header, blobs)
            reply = read_message(child[2])
        except OSError:
            reply = None
        if reply is None:
            _end_child(child)
            child = None
            write_message(answers, {"id": header.get("id"), "stopped": "the notebook's code ended its process"})
            continue
        answer, out = reply
        answer["id"] = header.get("id")
        write_message(answers, answer, out)


if __name__ == "__main__":
    serve()
