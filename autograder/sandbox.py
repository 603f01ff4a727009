"""Running a student's code inside a bubblewrap sandbox that starts from nothing.

The sandbox's root is empty.  Into it go, read-only: the system's programs
and libraries (``/usr``, ``/etc`` and the ``/bin``, ``/lib`` links), the
Python interpreter and its environment, the package students import
(``convenience_functions``), and the frames; read-write: only the folders
the caller names (the kernel's or runner's own throwaway folder).  Nothing
else of the machine exists inside: not the repository (``solutions/``,
``autograder/``, the gradebook), not the results or submissions, not the
grader's scratch folders of this or any other student, whatever ``TMPDIR``
is.  ``/tmp`` and ``/dev/shm`` are small private tmpfs; there is no network
and no view of other processes; the environment is cleared; address space,
CPU time and (where the pids cgroup can be written) the number of processes
are limited.

Kernel messages travel over IPC sockets in the runtime folder, since the
sandbox has no network to carry TCP.

What it does not protect against: bugs in the kernel (Linux) or in
bubblewrap, reading what is in ``/usr`` and ``/etc`` (system files, no
course data), or using up the CPU time and memory it is allowed.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import course

#: Per-process limits: address space (bytes) and CPU time (seconds).
MEMORY_LIMIT_BYTES = 6 * 1024**3
CPU_LIMIT_S = 900
#: Size of the private /tmp and /dev/shm (bytes).
TMP_BYTES = 256 * 1024**2
#: Processes and threads a sandbox may hold at once (pids cgroup, where writable).
PIDS_LIMIT = 256
#: The system folders shown read-only (those that exist; links are recreated as links).
SYSTEM_PATHS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: Environment variables passed through when set (all others are cleared).
PASSED_ENV = ("LANG", "LC_ALL", "TZ")

_AVAILABLE = {}


def bwrap_path():
    """Path of the bubblewrap program, or None."""
    return shutil.which("bwrap")


def python_roots():
    """Folders the interpreter and its packages live in."""
    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent}
    return sorted({root.resolve() for root in roots})


def student_package():
    """The folder of the package students import (``convenience_functions``)."""
    return course.REPO_ROOT / "convenience_functions"


def command(cwd, writable=(), readonly=(), env=None, memory_bytes=MEMORY_LIMIT_BYTES,
            cpu_seconds=CPU_LIMIT_S):
    """The command prefix that runs a program inside the sandbox.

    Parameters
    ----------
    cwd : pathlib.Path
        Working folder inside the sandbox (one of ``writable``).
    writable : iterable of pathlib.Path or (host, inside) pairs
        Folders the program may write; a pair shows ``host`` at ``inside``.
    readonly : iterable of pathlib.Path
        Further paths the program may read (the frames).
    env : dict, optional
        The program's whole environment (besides ``HOME``, ``TMPDIR``, ``PATH``).
    memory_bytes, cpu_seconds : int
        Limits applied to the sandboxed program.

    Returns
    -------
    list of str
    """
    args = [bwrap_path(), "--die-with-parent", "--new-session", "--unshare-all", "--clearenv"]
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--dev", "/dev", "--proc", "/proc",
             "--size", str(TMP_BYTES), "--tmpfs", "/tmp", "--size", str(TMP_BYTES), "--tmpfs", "/dev/shm"]
    # After /tmp: the interpreter, a CI clone or the frames may live there.
    shown = python_roots() + [student_package().resolve()] + [Path(p).resolve() for p in readonly]
    for path in shown:
        args += ["--ro-bind", str(path), str(path)]
    for entry in writable:
        host, inside = entry if isinstance(entry, tuple) else (entry, entry)
        args += ["--bind", str(Path(host).resolve()), str(Path(inside).resolve())]
    environment = {"HOME": "/tmp", "TMPDIR": "/tmp", "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
                   "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
                   # the package students import, from this course (not wherever it was installed from)
                   "PYTHONPATH": str(student_package().resolve().parent)}
    environment.update({key: os.environ[key] for key in PASSED_ENV if key in os.environ})
    environment.update(env or {})
    for key, value in environment.items():
        args += ["--setenv", key, str(value)]
    args += ["--chdir", str(Path(cwd).resolve())]
    limits = [shutil.which("prlimit") or "prlimit", f"--as={int(memory_bytes)}", f"--cpu={int(cpu_seconds)}", "--"]
    return pids_prefix() + args + ["--"] + limits


# ---------------------------------------------------------------------------
# The process limit: a pids cgroup when this process may make one


def pids_prefix():
    """``[python, -I, pidlimit.py, N]``, or [] where no pids cgroup can be made here."""
    from . import pidlimit

    if "pids" not in _AVAILABLE:
        works = False
        if pidlimit.pids_root() is not None:
            trial = subprocess.run([sys.executable, "-I", pidlimit.__file__, "8", "true"], capture_output=True,
                                   timeout=30)
            works = trial.returncode == 0
        _AVAILABLE["pids"] = works
    if not _AVAILABLE["pids"]:
        return []
    return [sys.executable, "-I", str(Path(pidlimit.__file__).resolve()), str(PIDS_LIMIT)]


def available():
    """Whether bubblewrap can start a sandbox here (cached per process).

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
            with tempfile.TemporaryDirectory(prefix="ccdlab-sandbox-") as folder:
                trial = subprocess.run(command(folder, writable=[folder]) + [sys.executable, "-c", "pass"],
                                       capture_output=True, text=True, timeout=60)
            ok = trial.returncode == 0
            why = "" if ok else f"bwrap cannot create a sandbox here: {trial.stderr.strip()[:200]}"
            _AVAILABLE["answer"] = (ok, why)
    return _AVAILABLE["answer"]


def kernel_argv(scratch, cwd, kernel_cwd, readonly=(), env=None, zygote=None, limits=None):
    """The command of a kernel started in the sandbox (for its kernelspec: :mod:`autograder.kernels`).

    Parameters
    ----------
    scratch : pathlib.Path
        The grader's scratch folder for this student (never shown inside).
    cwd : pathlib.Path
        The folder nbgrader runs the notebook in (the autograded folder).
    kernel_cwd : pathlib.Path
        A throwaway folder shown at ``cwd`` inside: the only place the kernel
        writes, never read by the grader.
    readonly : iterable of pathlib.Path
        The frames.
    env : dict
        The kernel's environment (``CCDLAB_DATA``).
    zygote : KernelZygote, optional
        The student's kernel zygote (:func:`start_zygote`): kernels are then
        forked from it, and started afresh only when it cannot be reached.
    limits : dict, optional
        ``memory_bytes`` and ``cpu_seconds`` for :func:`command`.

    Returns
    -------
    list of str
    """
    runtime = Path(scratch) / "runtime"
    runtime.mkdir(exist_ok=True)
    prefix = command(cwd, [runtime, (kernel_cwd, cwd)], readonly, env, **(limits or {}))
    argv = prefix + [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    if zygote is not None:
        client = Path(__file__).resolve().with_name("kernelclient.py")
        argv = [sys.executable, "-I", "-S", str(client), zygote.socket, "{connection_file}",
                str(ZYGOTE_WAIT_S), "--"] + argv
    return argv


#: Seconds a kernel waits for the zygote to be ready before it starts on its own.
ZYGOTE_WAIT_S = 30


class KernelZygote:
    """A student's kernel zygote (:mod:`autograder.kernelzygote`) running in the sandbox.

    Attributes
    ----------
    socket : str
        Where kernels are asked for.
    process : subprocess.Popen
        The sandbox holding it; :meth:`stop` ends it and every kernel in it.
    """

    def __init__(self, socket_path, process):
        self.socket = socket_path
        self.process = process

    def stop(self):
        """End the zygote's sandbox (its kernels die with it)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def start_zygote(scratch, cwd, kernel_cwd, readonly=(), env=None, limits=None):
    """Start the student's kernel zygote in a sandbox like a kernel's own; return a :class:`KernelZygote`.

    The zygote gets exactly the folders, environment and limits of a kernel
    (:func:`kernel_argv`); its code comes on the command line (``python
    -c``), so nothing more is shown inside.  It does not wait for the zygote
    to be ready: a kernel asked for meanwhile waits (up to ``ZYGOTE_WAIT_S``).
    """
    scratch = Path(scratch)
    runtime = scratch / "runtime"
    runtime.mkdir(exist_ok=True)
    source = Path(__file__).resolve().with_name("kernelzygote.py").read_text(encoding="utf-8")
    socket_path = str(runtime.resolve() / "zygote.sock")
    prefix = command(cwd, [runtime, (kernel_cwd, cwd)], readonly, env, **(limits or {}))
    process = subprocess.Popen(prefix + [sys.executable, "-c", source, socket_path], stdin=subprocess.DEVNULL)
    return KernelZygote(socket_path, process)


def ipc_prefix(scratch):
    """Path prefix of the kernel's IPC sockets (in the scratch runtime folder)."""
    return str(Path(scratch).resolve() / "runtime" / "kernel-ipc")


def probe(code, readonly=()):
    """Run Python ``code`` in a sandbox of a fresh folder; return (exit status, output)."""
    with tempfile.TemporaryDirectory(prefix="ccdlab-sandbox-") as folder:
        result = subprocess.run(command(folder, writable=[folder], readonly=readonly)
                                + [sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        return result.returncode, result.stdout + result.stderr
