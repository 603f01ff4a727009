"""Running each grading kernel inside a bubblewrap sandbox.

The kernel (and the check interpreter it starts) sees:

* the system and the Python environment, read-only;
* of the submission's scratch folder only the notebooks' folder (writable),
  its copy of the frames and the recorded reference answers (read-only);
* an empty private ``/tmp``, and an empty home folder.

It does not see ``solutions/``, the grader's other scratch folders (other
students, the template course with the hidden tests), the results folder
with the gradebook, the submissions, or the instructor's home; it has no
network, no view of other processes, and memory and CPU-time limits.
Kernel messages travel over IPC sockets in the scratch folder, since the
sandbox has no network to carry TCP.

What it does not protect against: reading files that are world-readable
elsewhere on the system (they are part of the read-only view), using up the
scratch folder's disk space, or bugs in the kernel itself.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import course

#: Per-kernel limits: address space (bytes) and CPU time (seconds).
MEMORY_LIMIT_BYTES = 6 * 1024**3
CPU_LIMIT_S = 900

_AVAILABLE = {}


def bwrap_path():
    """Path of the bubblewrap program, or None."""
    return shutil.which("bwrap")


def available():
    """Whether bubblewrap can start a process here (cached per process).

    Returns
    -------
    (bool, str)
        Whether it works, and why not when it does not.
    """
    if "answer" not in _AVAILABLE:
        program = bwrap_path()
        if program is None:
            _AVAILABLE["answer"] = (False, "bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
        else:
            trial = subprocess.run(
                [program, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all",
                 "--die-with-parent", sys.executable, "-c", "pass"],
                capture_output=True, text=True, timeout=60,
            )
            ok = trial.returncode == 0
            why = "" if ok else f"bwrap cannot create a sandbox here: {trial.stderr.strip()[:200]}"
            _AVAILABLE["answer"] = (ok, why)
    return _AVAILABLE["answer"]


def _python_roots():
    """Folders the interpreter and its packages live in."""
    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent}
    return sorted({root.resolve() for root in roots})


def command(scratch, hidden=(), writable=(), readonly=(), memory_bytes=MEMORY_LIMIT_BYTES,
            cpu_seconds=CPU_LIMIT_S):
    """The command prefix that runs a program inside the sandbox.

    Parameters
    ----------
    scratch : pathlib.Path
        The submission's scratch folder: hidden, except for the paths below.
    hidden : iterable of pathlib.Path
        Further folders to hide (results, submissions).
    writable, readonly : iterable of pathlib.Path
        Paths inside ``scratch`` the program may write, or only read.
    memory_bytes, cpu_seconds : int
        Limits applied to the sandboxed program.

    Returns
    -------
    list of str
    """
    scratch = Path(scratch).resolve()
    home = Path.home().resolve()
    args = [
        bwrap_path(), "--die-with-parent", "--new-session", "--unshare-all",
        "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
        "--tmpfs", "/tmp", "--tmpfs", str(home),
    ]
    # The interpreter, the virtual environment and this package may live in the
    # home folder or in /tmp (pyenv, a CI clone): show them again, read-only.
    for root in _python_roots() + [course.REPO_ROOT.resolve()]:
        hidden_by_tmpfs = any(root == top or top in root.parents for top in (home, Path("/tmp")))
        if hidden_by_tmpfs:
            args += ["--ro-bind", str(root), str(root)]
    for secret in [course.REPO_ROOT / course.SOURCE_DIRNAME, course.REPO_ROOT / ".git", *hidden]:
        secret = Path(secret).resolve()
        if secret.exists() and secret.is_dir() and secret != scratch and secret not in scratch.parents:
            args += ["--tmpfs", str(secret)]
    # Of the scratch folder (gradebook, instructor notebooks, ...) only the listed paths show.
    args += ["--tmpfs", str(scratch)]
    for path in writable:
        args += ["--bind", str(Path(path).resolve()), str(Path(path).resolve())]
    for path in readonly:
        args += ["--ro-bind", str(Path(path).resolve()), str(Path(path).resolve())]
    args += ["--setenv", "HOME", str(home), "--chdir", str(scratch)]
    # The kernel cannot see its parent's pid from inside; --die-with-parent does that job.
    args += ["--unsetenv", "JPY_PARENT_PID"]
    limits = [shutil.which("prlimit") or "prlimit", f"--as={int(memory_bytes)}", f"--cpu={int(cpu_seconds)}", "--"]
    return args + ["--"] + limits


def install_kernel(scratch, hidden=(), writable=(), readonly=()):
    """Write a ``python3`` kernelspec that starts the kernel in the sandbox.

    The kernel's runtime folder (connection file, IPC sockets) is made and
    added to the writable paths.

    Returns
    -------
    dict
        Environment variables to set while grading (``JUPYTER_PATH``,
        ``JUPYTER_RUNTIME_DIR``), so that nbgrader's kernel starts this way.
    """
    scratch = Path(scratch)
    runtime = scratch / "runtime"
    runtime.mkdir(exist_ok=True)
    spec_dir = scratch / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    prefix = command(scratch, hidden, [runtime, *writable], readonly)
    argv = prefix + [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    # Interrupts travel as a message: a signal to bwrap would not reach the kernel's own session.
    spec = {"argv": argv, "display_name": "Python 3 (sandboxed grading)", "language": "python",
            "interrupt_mode": "message", "metadata": {"debugger": False}}
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return {"JUPYTER_PATH": str(scratch / "jupyter"), "JUPYTER_RUNTIME_DIR": str(runtime)}


def ipc_prefix(scratch):
    """Path prefix of the kernel's IPC sockets (in the scratch runtime folder)."""
    return str(Path(scratch).resolve() / "runtime" / "kernel-ipc")


def probe(scratch=None):
    """Run a tiny program in the sandbox; return its output (for tests)."""
    with tempfile.TemporaryDirectory(prefix="ccdlab-sandbox-") as folder:
        where = Path(scratch or folder)
        result = subprocess.run(command(where, writable=[where]) + [sys.executable, "-c", "import os; print(os.getcwd())"],
                                capture_output=True, text=True, timeout=60)
        return result.returncode, result.stdout + result.stderr
