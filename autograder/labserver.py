"""``ccdlab lab``: JupyterLab on the lab notebooks, with nbgrader's extensions.

The server runs this virtual environment's Jupyter (``python -m jupyter lab``)
from the repository root, so nbgrader finds the course's
``nbgrader_config.py``, and opens on the student notebooks.  A random token
protects it; the address printed (and opened) carries that token.

:func:`running_lab` starts the same server headless for tests (and for the
browser tests of later issues): a free localhost port, its own runtime and
config folders in a temporary directory, and a clean stop that leaves no
process behind.

The command line, the server's environment and its address come from
:mod:`autograder.labcommand`; their names are importable from here too.
"""

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import webbrowser
from dataclasses import dataclass
from pathlib import Path

from .labcommand import (  # noqa: F401  (re-exported: labserver.HOST, labserver.lab_command, ...)
    HOST, NBGRADER_SERVER_EXTENSIONS, REPO_ROOT, free_port, lab_command, lab_path, server_environment, start_folder,
)

#: Seconds to wait for the server to answer before giving up.
START_TIMEOUT_S = 120.0

#: Seconds a server gets to shut down (and stop its kernels) after SIGTERM.
STOP_TIMEOUT_S = 15.0


def wait_until_ready(url, token, process, timeout=START_TIMEOUT_S):
    """Poll ``url``'s ``/api/status`` until the server answers.

    Raises
    ------
    RuntimeError
        If the server process ends first, or after ``timeout`` seconds.
    """
    request = urllib.request.Request(url + "api/status", headers={"Authorization": f"token {token}"})
    deadline = time.monotonic() + timeout
    while True:
        code = process.poll()
        if code is not None:
            raise RuntimeError(f"JupyterLab exited with status {code} before it was ready")
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"JupyterLab did not answer at {url} within {timeout:.0f} s")
        time.sleep(0.2)


def _descendants(pid):
    """Return the processes started (directly or not) by ``pid``, if knowable."""
    try:
        import psutil
    except ImportError:  # psutil comes with ipykernel; without it, skip the sweep
        return []
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def stop_server(process, timeout=STOP_TIMEOUT_S):
    """Stop a server started by this module and every process it started.

    Jupyter shuts its kernels down on SIGTERM; whatever is still running
    after ``timeout`` seconds (the server, a stuck kernel) is killed.

    Parameters
    ----------
    process : subprocess.Popen
    timeout : float
        Seconds to wait for a clean shutdown.

    Returns
    -------
    int
        The server's exit status.
    """
    children = _descendants(process.pid)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for child in children:
        with contextlib.suppress(Exception):
            child.wait(timeout=2)
        with contextlib.suppress(Exception):
            if child.is_running():
                child.kill()
                child.wait(timeout=5)
    return process.returncode


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab server started by :func:`running_lab`."""

    #: Base address, ending in ``/``, e.g. ``http://127.0.0.1:8888/``.
    url: str
    #: The token every request needs (``?token=`` or an Authorization header).
    token: str
    #: Port it listens on.
    port: int
    #: Folder it serves.
    root_dir: Path
    #: Address of the lab opened on the start folder, with the token.
    lab_url: str
    #: The ``jupyter lab`` process.
    process: subprocess.Popen
    #: File that receives the server's log.
    log_path: Path

    def api(self, path):
        """Return the address of ``path`` on this server (no token)."""
        return self.url + path.lstrip("/")

    def get(self, path, timeout=10):
        """GET ``path`` with the token; return ``(status, body bytes)``."""
        return self.request("GET", path, timeout=timeout)

    def request(self, method, path, data=None, timeout=10):
        """Send ``data`` (JSON-encodable or None) to ``path`` with the token.

        Returns
        -------
        tuple
            ``(status, body bytes)``; an HTTP error status is returned, not raised.
        """
        headers = {"Authorization": f"token {self.token}"}
        body = None
        if data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.api(path), data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()


@contextlib.contextmanager
def running_lab(root_dir=None, port=None, token=None, *, start=None, extra_args=(), timeout=START_TIMEOUT_S):
    """Run a headless JupyterLab for the duration of a ``with`` block.

    Jupyter's runtime, config and data folders, IPython's folder and the
    notebook checkpoints all live in a temporary directory, so the server
    neither reads the user's Jupyter settings nor writes into ``root_dir``
    (beyond what a client asks it to do).  On leaving the block the server
    and every process it started are stopped.

    Parameters
    ----------
    root_dir : str or pathlib.Path, optional
        Folder to serve; the repository root by default.
    port : int, optional
        Port on 127.0.0.1; a free one by default.
    token : str, optional
        Access token; a random one by default.
    start : str or pathlib.Path, optional
        Folder the lab opens on; :func:`start_folder` of ``root_dir`` by default.
    extra_args : sequence of str
        Further ``jupyter lab`` options.
    timeout : float
        Seconds to wait for the server to answer.

    Yields
    ------
    LabServer

    Raises
    ------
    RuntimeError
        If the server does not start; the message ends with its log.
    """
    root_dir = Path(REPO_ROOT if root_dir is None else root_dir).resolve()
    if not root_dir.is_dir():
        raise FileNotFoundError(f"root_dir {root_dir} is not a folder")
    start = start_folder(root_dir) if start is None else Path(start)
    token = secrets.token_hex(24) if token is None else token
    with tempfile.TemporaryDirectory(prefix="ccdlab-lab-") as scratch:
        scratch = Path(scratch)
        env = server_environment(token)
        env.update(
            JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
            JUPYTER_CONFIG_DIR=str(scratch / "config"),
            JUPYTER_DATA_DIR=str(scratch / "data"),
            IPYTHONDIR=str(scratch / "ipython"),
        )
        env.pop("JUPYTER_CONFIG_PATH", None)
        isolation = [
            # Checkpoints and LSP copies go to the scratch folder, not root_dir.
            f"--FileCheckpoints.root_dir={scratch / 'checkpoints'}",
            f"--LanguageServerManager.virtual_documents_dir={scratch / 'virtual_documents'}",
            # No calls to the internet: no news, update checks or PyPI lookups.
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]
        chosen = free_port() if port is None else port
        command = lab_command(root_dir=root_dir, port=chosen, start=start, extra_args=isolation + list(extra_args))
        log_path = scratch / "jupyter.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command, cwd=root_dir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            url = f"http://{HOST}:{chosen}/"
            try:
                wait_until_ready(url, token, process, timeout)
            except RuntimeError as err:
                stop_server(process)
                tail = log_path.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"{err}; command: {' '.join(command)}\n--- log ---\n{tail}") from None
            yield LabServer(
                url=url,
                token=token,
                port=chosen,
                root_dir=root_dir,
                lab_url=f"{url}{lab_path(root_dir, start)}?token={token}",
                process=process,
                log_path=log_path,
            )
        finally:
            stop_server(process)


def _has_display():
    """Whether a web browser can be shown (not a bare SSH or CI shell)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class _Stop(Exception):
    """Raised by the signal handler to leave the wait loop."""


def main(*, port=None, no_browser=False, extra_args=(), root=None, verb="lab"):
    """Start JupyterLab on the lab notebooks (or on ``root``) and wait until Ctrl-C.

    Parameters
    ----------
    port : int, optional
        Port on 127.0.0.1; a free one by default.
    no_browser : bool
        Only print the address; do not open a web browser.
    extra_args : sequence of str
        Further ``jupyter lab`` options (a leading ``--`` is dropped).
    root : pathlib.Path, optional
        Folder to serve and open (default: the repository, opening the labs).
    verb : str
        The command's name in messages (``lab``, ``formgrade``).

    Returns
    -------
    int
        0 after a stop by Ctrl-C, otherwise the server's exit status.
    """
    extra = list(extra_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    for arg in extra:
        if arg.split("=")[0] in ("--port", "--ServerApp.port"):
            print(f"ccdlab {verb}: use `ccdlab {verb} --port N` instead of {arg}", file=sys.stderr)
            return 2
    if port is not None and not 0 < port < 65536:
        print(f"ccdlab {verb}: --port must be between 1 and 65535, not {port}", file=sys.stderr)
        return 2

    if root is None:
        root = REPO_ROOT
        start = start_folder(root)
    else:
        root = start = Path(root).resolve()
    port = free_port() if port is None else port
    token = secrets.token_hex(24)
    url = f"http://{HOST}:{port}/"
    lab_url = f"{url}{lab_path(root, start)}?token={token}"

    command = lab_command(root_dir=root, port=port, start=start, extra_args=extra)
    # A session of its own: Ctrl-C reaches only ccdlab, which then shuts the
    # server down cleanly instead of Jupyter asking for confirmation.
    process = subprocess.Popen(command, cwd=root, env=server_environment(token), start_new_session=True)

    def _on_signal(signum, frame):
        raise _Stop()

    # Ctrl-C stops the server even when this process was started with SIGINT
    # ignored (by a shell's nohup, an IDE, a test runner): Python then installs
    # no KeyboardInterrupt handler of its own.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if sig}
    try:
        try:
            wait_until_ready(url, token, process)
        except RuntimeError as err:
            print(f"ccdlab {verb}: {err}", file=sys.stderr)
            return stop_server(process) or 1
        print(f"\nccdlab: JupyterLab is running; open this address in a web browser:\n\n    {lab_url}\n", flush=True)
        if not no_browser:
            if _has_display() and webbrowser.open(lab_url):
                print("ccdlab: opened it in your web browser.", flush=True)
            else:
                print("ccdlab: no web browser found; copy the address above.", flush=True)
        print("ccdlab: press Ctrl-C to stop the server.", flush=True)
        return process.wait()
    except (KeyboardInterrupt, _Stop):
        print("\nccdlab: stopping JupyterLab ...", flush=True)
        stop_server(process)
        print("ccdlab: stopped.", flush=True)
        return 0
    finally:
        if process.poll() is None:
            stop_server(process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
