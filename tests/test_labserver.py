"""Tests of autograder.labserver: the JupyterLab server behind ``ccdlab lab``."""

import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import labbrowser
from autograder import course, labserver

psutil = pytest.importorskip("psutil")

NBGRADER_LABEXTENSION = "@jupyter/nbgrader"


#: Files other work in the same checkout adds while a test runs (modules,
#: notebooks, frames); a server never writes these unasked.  Anything under a
#: dot-folder or dot-file (.ipynb_checkpoints, .virtual_documents,
#: .nbgrader.log, ...) always counts.
SOURCE_SUFFIXES = {".py", ".ipynb", ".md", ".fit", ".fits", ".json", ".txt", ".toml", ".sh", ".zip"}


def untracked_files(root):
    """Untracked and ignored files of the git checkout ``root`` (None without git).

    Tracked files are not looked at (a server does not edit them unasked;
    other work in the same checkout may), nor the folders tests and tools
    write on their own (``labbrowser.UNWATCHED``: ``.venv``, ``.git``, the
    screenshots of tests running beside this one) and Python's
    ``__pycache__`` folders.
    """
    if shutil.which("git") is None or not (Path(root) / ".git").exists():
        return None
    result = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"], cwd=root, capture_output=True, text=True, check=True
    )
    files = set()
    for line in result.stdout.splitlines():
        if line[:2] not in ("??", "!!"):
            continue
        entry = Path(root) / line[3:].strip('"')
        found = [p for p in entry.rglob("*") if p.is_file()] if entry.is_dir() else [entry]
        for path in found:
            parts = path.relative_to(root).parts
            if parts[0] in labbrowser.UNWATCHED or "__pycache__" in parts:
                continue
            files.add(path.relative_to(root).as_posix())
    return files


def written_by_server(root, before):
    """Files in ``root`` that appeared since ``before`` (see untracked_files)."""
    after = untracked_files(root)
    return sorted(
        name
        for name in after - before
        if any(part.startswith(".") for part in Path(name).parts) or Path(name).suffix not in SOURCE_SUFFIXES
    )


def page_config(html):
    """The JSON page configuration JupyterLab embeds in its HTML page."""
    match = re.search(rb'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
    assert match, "no page configuration in the lab page"
    return json.loads(match.group(1))


def port_is_open(port):
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((labserver.HOST, port)) == 0


def isolated_jupyter_env(tmp_path):
    """Environment whose Jupyter and IPython folders are inside tmp_path."""
    env = dict(os.environ)
    for name in ("JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR"):
        env[name] = str(tmp_path / name.lower())
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


# --- fast: the pieces -------------------------------------------------------


def test_start_folder_prefers_the_student_notebooks(tmp_path):
    assert labserver.start_folder(tmp_path) == tmp_path
    (tmp_path / course.RELEASE_DIRNAME).mkdir()
    assert labserver.start_folder(tmp_path) == tmp_path / course.RELEASE_DIRNAME
    course.release_dir(tmp_path).mkdir()
    assert labserver.start_folder(tmp_path) == course.release_dir(tmp_path)


def test_lab_path(tmp_path):
    inner = tmp_path / "labs" / "ccd_reduction"
    inner.mkdir(parents=True)
    assert labserver.lab_path(tmp_path, tmp_path) == "lab"
    assert labserver.lab_path(tmp_path, inner) == "lab/tree/labs/ccd_reduction"


def test_lab_path_fails(tmp_path):
    with pytest.raises(ValueError, match="not inside root_dir"):
        labserver.lab_path(tmp_path / "a", tmp_path / "b")


def test_lab_command_uses_this_python_and_enables_nbgrader(tmp_path):
    (tmp_path / "labs").mkdir()
    command = labserver.lab_command(
        root_dir=tmp_path, port=12345, start=tmp_path / "labs", extra_args=["--ServerApp.ip=0.0.0.0"]
    )
    assert command[:4] == [sys.executable, "-m", "jupyter", "lab"]
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in command
    assert "--ServerApp.port=12345" in command
    assert "--ServerApp.port_retries=0" in command  # never silently another port
    assert "--LabApp.default_url=/lab/tree/labs" in command
    enabled = [arg for arg in command if arg.startswith("--ServerApp.jpserver_extensions=")]
    assert len(enabled) == 1
    for name in labserver.NBGRADER_SERVER_EXTENSIONS:
        assert f"'{name}': True" in enabled[0]
    assert command[-1] == "--ServerApp.ip=0.0.0.0"  # extra options come last and win


def test_server_environment_carries_token_not_command_line():
    env = labserver.server_environment("secret-token", base={"PATH": "/usr/bin"})
    assert env["JUPYTER_TOKEN"] == "secret-token"
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    command = labserver.lab_command(root_dir=labserver.REPO_ROOT, port=1, start=labserver.REPO_ROOT)
    assert not any("secret-token" in arg for arg in command)


def test_free_port_is_free():
    port = labserver.free_port()
    assert 0 < port < 65536
    with socket.socket() as sock:
        sock.bind((labserver.HOST, port))  # would raise if it were taken


@pytest.mark.parametrize("option", ["--port=9999", "--ServerApp.port=9999"])
def test_main_refuses_port_among_jupyter_options(option, capsys, monkeypatch):
    started = []
    monkeypatch.setattr(labserver.subprocess, "Popen", lambda *a, **k: started.append(a))
    assert labserver.main(no_browser=True, extra_args=[option]) == 2
    assert started == []
    assert "ccdlab lab --port" in capsys.readouterr().err


def test_main_refuses_bad_port(capsys, monkeypatch):
    started = []
    monkeypatch.setattr(labserver.subprocess, "Popen", lambda *a, **k: started.append(a))
    assert labserver.main(port=70000, no_browser=True) == 2
    assert started == []
    assert "--port" in capsys.readouterr().err


def test_running_lab_fails_on_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError, match="root_dir"):
        with labserver.running_lab(tmp_path / "missing"):
            pass


# --- slow: real servers -----------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_running_lab_serves_lab_with_nbgrader_and_stops_cleanly():
    root = labserver.REPO_ROOT
    files_before = untracked_files(root)
    start = labserver.start_folder(root)

    with labserver.running_lab() as server:
        code, body = server.get("api/status")
        assert code == 200
        assert "started" in json.loads(body)
        # Without the token the API is closed.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(server.api("api/status"), timeout=10)
        assert refused.value.code == 403

        # nbgrader's student-side server extensions answer (assignment list,
        # validate button) and the formgrader serves its files.
        import nbgrader

        code, body = server.get(f"nbgrader_version?version={nbgrader.__version__}")
        assert code == 200 and json.loads(body)["success"] is True
        static = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "static" / "css"
        sample = sorted(p.name for p in static.iterdir() if p.is_file())[0]
        code, _ = server.get(f"formgrader/static/css/{sample}")
        assert code == 200

        # The lab page opens on the start folder and loads nbgrader's lab extension.
        code, html = server.get(labserver.lab_path(root, start))
        assert code == 200
        config = page_config(html)
        assert config["treePath"] == start.relative_to(root).as_posix()
        assert NBGRADER_LABEXTENSION in [ext["name"] for ext in config["federated_extensions"]]
        assert not any(name.startswith(NBGRADER_LABEXTENSION) for name in config["disabledExtensions"])
        assert server.lab_url.startswith(server.url) and server.lab_url.endswith(f"?token={server.token}")

        # A kernel gives the server a child process that must not outlive it.
        code, body = server.request("POST", "api/kernels", {"name": "python3"})
        assert code == 201
        deadline = time.monotonic() + 20
        children = []
        while not children and time.monotonic() < deadline:
            children = psutil.Process(server.process.pid).children(recursive=True)
            time.sleep(0.1)
        assert children, "the kernel process did not appear"
        process, port, log_path = server.process, server.port, server.log_path

    assert process.poll() is not None
    alive = [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
    assert alive == []
    assert not port_is_open(port)
    assert not log_path.exists()  # the scratch folder is gone
    if files_before is not None:
        assert written_by_server(root, files_before) == []


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_ccdlab_lab_command_prints_url_and_stops_on_ctrl_c(tmp_path):
    ccdlab = Path(sys.executable).parent / "ccdlab"
    if not ccdlab.exists():
        pytest.skip("the ccdlab command is not installed in this environment")
    root = labserver.REPO_ROOT
    files_before = untracked_files(root)
    port = labserver.free_port()
    stderr = open(tmp_path / "stderr.log", "wb")
    cli = subprocess.Popen(
        [str(ccdlab), "lab", "--no-browser", "--port", str(port)],
        cwd=tmp_path,
        env=isolated_jupyter_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
    )
    try:
        # Read stdout until the address line appears.
        printed = b""
        url = None
        selector = selectors.DefaultSelector()
        selector.register(cli.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline and cli.poll() is None:
            if selector.select(timeout=0.5):
                printed += os.read(cli.stdout.fileno(), 4096)
                match = re.search(rb"(http://\S+\?token=(\w+))", printed)
                if match:
                    url, token = match.group(1).decode(), match.group(2).decode()
        assert url, f"no address printed; stdout: {printed!r}; stderr: {(tmp_path / 'stderr.log').read_bytes()[-2000:]!r}"
        start = labserver.start_folder(root)
        assert url == f"http://{labserver.HOST}:{port}/{labserver.lab_path(root, start)}?token={token}"

        request = urllib.request.Request(
            f"http://{labserver.HOST}:{port}/api/status", headers={"Authorization": f"token {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(url, timeout=10) as answer:  # the printed address itself works
            assert answer.status == 200
        family = psutil.Process(cli.pid).children(recursive=True)
        assert family, "ccdlab started no server process"

        # Ctrl-C in the terminal: SIGINT to ccdlab (the server has its own session).
        cli.send_signal(signal.SIGINT)
        assert cli.wait(timeout=30) == 0
        printed += cli.stdout.read()
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        stderr.close()
    assert b"stopped" in printed
    alive = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == []
    assert not port_is_open(port)
    if files_before is not None:
        assert written_by_server(root, files_before) == []


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_running_lab_keeps_checkpoints_out_of_the_served_folder(tmp_path):
    served = tmp_path / "course"
    (served / "labs").mkdir(parents=True)
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {}, "outputs": [],
                   "source": "1 + 1"}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    with labserver.running_lab(served) as server:
        assert server.lab_url.endswith(f"/lab/tree/labs?token={server.token}")
        code, _ = server.request("PUT", "api/contents/labs/try.ipynb",
                                 {"type": "notebook", "format": "json", "content": notebook})
        assert code == 201
        code, body = server.request("POST", "api/contents/labs/try.ipynb/checkpoints")
        assert code == 201, body
        code, body = server.get("api/contents/labs/try.ipynb/checkpoints")
        assert code == 200 and len(json.loads(body)) == 1  # the checkpoint exists...
    written = sorted(p.relative_to(served).as_posix() for p in served.rglob("*"))
    assert written == ["labs", "labs/try.ipynb"]  # ...but not in the served folder


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_ccdlab_formgrade_serves_a_results_folder_anywhere_with_no_exchange_error(tmp_path):
    from autograder import classgrade

    results = tmp_path / "somewhere" / "RESULTS"
    results.mkdir(parents=True)
    classgrade.prepare_results_course(results)
    port = labserver.free_port()
    log = open(tmp_path / "server.log", "wb")
    cli = subprocess.Popen([sys.executable, "-m", "autograder.cli", "formgrade", str(results), "--no-browser",
                            "--port", str(port)], cwd=tmp_path, env=isolated_jupyter_env(tmp_path),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
    try:
        printed, token, deadline = b"", None, time.monotonic() + 60
        while token is None and time.monotonic() < deadline and cli.poll() is None:
            printed += cli.stdout.read1(4096) if hasattr(cli.stdout, "read1") else cli.stdout.read(1)
            match = re.search(rb"\?token=(\w+)", printed)
            token = match.group(1).decode() if match else None
        assert token, printed
        request = urllib.request.Request(f"http://{labserver.HOST}:{port}/formgrader/api/assignments",
                                         headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=20) as answer:
            assignments = json.loads(answer.read())
        assert [a["name"] for a in assignments] == [course.ASSIGNMENT_ID]
        cli.send_signal(signal.SIGINT)
        cli.wait(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        log.close()
    server_log = (tmp_path / "server.log").read_text(errors="replace")
    assert "Unwritable" not in server_log and "/srv/nbgrader/exchange" not in server_log, server_log[-2000:]


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_ccdlab_lab_stops_on_ctrl_c_even_when_started_with_sigint_ignored(tmp_path):
    # nohup, IDEs and test runners start programs with SIGINT ignored; Python then installs no handler.
    port = labserver.free_port()
    cli = subprocess.Popen([sys.executable, "-m", "autograder.cli", "lab", "--no-browser", "--port", str(port)],
                           cwd=tmp_path, env=isolated_jupyter_env(tmp_path), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        printed, deadline = b"", time.monotonic() + 60
        while b"press Ctrl-C" not in printed and time.monotonic() < deadline and cli.poll() is None:
            printed += os.read(cli.stdout.fileno(), 4096)
        assert b"press Ctrl-C" in printed, printed
        family = psutil.Process(cli.pid).children(recursive=True)
        cli.send_signal(signal.SIGINT)
        assert cli.wait(timeout=30) == 0
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
