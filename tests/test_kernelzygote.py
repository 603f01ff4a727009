"""The kernel zygote: kernels forked from it are fresh, die with their client, and report their death.

These run the zygote and its client as grading does, but without the
sandbox (the graded class runs them in it), and talk to the kernels with
jupyter_client, as nbgrader does.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import kernels, sandbox

ZYGOTE = Path(sandbox.__file__).with_name("kernelzygote.py")
CLIENT = Path(sandbox.__file__).with_name("kernelclient.py")


def _wait_for(predicate, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture()
def zygote(tmp_path):
    socket_path = str(tmp_path / "zygote.sock")
    env = dict(os.environ, MPLBACKEND="Agg")
    process = subprocess.Popen([sys.executable, str(ZYGOTE), socket_path], cwd=tmp_path, env=env)
    assert _wait_for(lambda: os.path.exists(socket_path)), "the zygote never listened"
    yield process, socket_path
    process.kill()
    process.wait()


def _kernel_manager(tmp_path, socket_path, wait_s=5):
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpec

    fallback = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    argv = [sys.executable, "-I", "-S", str(CLIENT), socket_path, "{connection_file}", str(wait_s), "--"] + fallback
    manager = KernelManager(connection_file=str(tmp_path / f"kernel-{time.monotonic_ns()}.json"))
    manager._kernel_spec = KernelSpec(argv=argv, language="python", display_name="zygote test",
                                      interrupt_mode="message")
    return manager


def _run(manager, code):
    """Start the kernel, run ``code``, return what it printed (stdout)."""
    manager.start_kernel(cwd=str(Path(manager.connection_file).parent))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    printed = []
    client.execute_interactive(code, timeout=60, output_hook=lambda msg: printed.append(
        msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None)
    client.stop_channels()
    return "".join(printed)


def test_each_kernel_is_a_fresh_fork_of_the_zygote(tmp_path, zygote):
    process, socket_path = zygote
    first = _kernel_manager(tmp_path, socket_path)
    out = _run(first, "import os, numpy\nnumpy.planted = 1\nprint(os.getppid(), os.getpid(), 'numpy' in globals())")
    first.shutdown_kernel(now=True)
    parent, pid, _ = out.split()
    assert int(parent) == process.pid, "the kernel was not forked by the zygote (started on its own?)"

    second = _kernel_manager(tmp_path, socket_path)
    out = _run(second, "import os, numpy\nprint(os.getppid(), os.getpid(), hasattr(numpy, 'planted'))")
    second.shutdown_kernel(now=True)
    parent2, pid2, planted = out.split()
    assert int(parent2) == process.pid and pid2 != pid
    assert planted == "False", "what the first notebook changed reached the second notebook's kernel"


def test_a_killed_client_takes_its_kernel_with_it(tmp_path, zygote):
    _process, socket_path = zygote
    manager = _kernel_manager(tmp_path, socket_path)
    pid = int(_run(manager, "import os; print(os.getpid())"))
    manager.provisioner.process.send_signal(signal.SIGKILL)  # what the manager does at shutdown(now=True)
    assert _wait_for(lambda: not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2],
                     10), "the kernel outlived its client"
    manager.cleanup_resources()


def test_a_kernel_that_dies_is_seen_to_die(tmp_path, zygote):
    _process, socket_path = zygote
    manager = _kernel_manager(tmp_path, socket_path)
    manager.start_kernel(cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    client.execute("import os; os._exit(3)")
    assert _wait_for(lambda: not manager.is_alive(), 10), "the manager still thinks the kernel is alive"
    assert manager.provisioner.process.wait(5) == 3, "the client did not exit with the kernel's status"
    client.stop_channels()
    manager.cleanup_resources()


def test_without_a_zygote_the_kernel_starts_on_its_own(tmp_path):
    manager = _kernel_manager(tmp_path, str(tmp_path / "no-zygote.sock"), wait_s=0.2)
    out = _run(manager, "import os; print(os.getpid())")
    assert int(out) == manager.provisioner.process.pid  # the client became the kernel (exec)
    manager.shutdown_kernel(now=True)


def test_grading_kernels_are_asked_of_the_zygote(tmp_path):
    """The kernelspec ``ccdlab grade`` writes starts kernels through the client when there is a zygote."""
    class Fake:
        socket = str(tmp_path / "zygote.sock")

    kernels.install_kernelspec(tmp_path / "jupyter",
                               sandbox.kernel_argv(tmp_path, tmp_path, tmp_path / "cwd", zygote=Fake()))
    argv = json.loads((tmp_path / "jupyter" / "kernels" / "python3" / "kernel.json").read_text())["argv"]
    assert argv[3:5] == [str(CLIENT), Fake.socket] and "ipykernel_launcher" in argv[argv.index("--"):]
