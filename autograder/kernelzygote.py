"""A kernel zygote: one process per student that starts that student's kernels by forking.

Starting an IPython kernel costs most of a second, and its first cell as
much again (numpy, matplotlib, astropy and the lab's helpers are imported,
matplotlib's font list is built): about 1.3 s per notebook, paid again for
every notebook of every student.  The zygote pays it once per student: it
starts in the student's sandbox (:mod:`autograder.sandbox`, with the same
folders, environment and limits a kernel gets), imports those modules and
then waits on a Unix socket.  For each notebook, nbgrader's kernel manager
runs :mod:`autograder.kernelclient` (outside the sandbox), which asks the
zygote for a kernel; the zygote forks, and the child becomes an ordinary
``ipykernel`` kernel on the manager's connection file.

Each kernel is a fresh fork of the zygote, which never runs student code:
what one notebook's code changes in its kernel (a patched module, a global)
is gone for the next notebook, exactly as with a newly started kernel.

The zygote tells the client the kernel's exit status when it ends (the
client exits with it, so a kernel that dies is seen to die), and kills the
kernel's process group when the client goes away (the kernel manager killed
it at shutdown or after a timeout).

This file runs inside the sandbox, where the ``autograder`` package does not
exist: its text is given to ``python -c`` and it imports nothing of ours.

Usage: ``python kernelzygote.py SOCKET`` (or ``python -c "$(cat kernelzygote.py)" SOCKET``).
"""

import os
import select
import signal
import socket
import sys
import traceback

#: Modules imported before the first kernel is forked (those missing are skipped).
PRELOAD = (
    "numpy",
    "matplotlib",
    "matplotlib.pyplot",
    "matplotlib_inline.backend_inline",
    "astropy.io.fits",
    "astropy.stats",
    "IPython",
    "ipykernel.kernelapp",
    "convenience_functions",
    "convenience_functions.display",
)


def preload():
    """Import :data:`PRELOAD` (and build matplotlib's font list) once, here."""
    for name in PRELOAD:
        try:
            __import__(name)
        except Exception as error:  # a missing module is imported by the kernel as usual
            print(f"kernel zygote: {name} not preloaded ({error})", file=sys.stderr)
    try:
        from matplotlib import font_manager

        font_manager.findfont("DejaVu Sans")
    except Exception:
        pass


def _become_kernel(connection_file, open_sockets):
    """In the forked child: close the zygote's sockets and run an ipykernel kernel."""
    code = 1
    try:
        for sock in open_sockets:
            sock.close()
        os.setpgid(0, 0)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        # As `python -m ipykernel_launcher` would have it: the working folder first on the path.
        sys.path[0] = os.getcwd()
        sys.argv = ["ipykernel_launcher", "-f", connection_file]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=["-f", connection_file])
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def _read_request(conn):
    """The connection file a client asks for (one line), or None."""
    conn.settimeout(10)
    data = b""
    while not data.endswith(b"\n") and len(data) < 4096:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    conn.settimeout(None)
    path = data.decode("utf-8", "replace").strip()
    return path if path and os.path.isfile(path) else None


def _send(conn, text):
    try:
        conn.sendall(text.encode() + b"\n")
    except OSError:
        pass


def serve(socket_path):
    """Fork a kernel for each client on ``socket_path``; never returns."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path + ".new")
    os.rename(socket_path + ".new", socket_path)  # the socket appears only once it is listening
    listener.listen(8)
    kernels = {}  # client connection -> kernel pid
    while True:
        readable, _, _ = select.select([listener, *kernels], [], [], 0.1)
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                try:
                    path = _read_request(conn)
                except OSError:
                    path = None
                if path is None:
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    _become_kernel(path, [listener, conn, *kernels])
                kernels[conn] = pid
                _send(conn, f"pid {pid}")
            else:
                try:
                    gone = not sock.recv(64)
                except OSError:
                    gone = True
                if gone:  # the kernel manager stopped the client: stop its kernel
                    pid = kernels.pop(sock)
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except OSError:
                        pass
                    try:
                        os.waitpid(pid, 0)
                    except ChildProcessError:
                        pass
                    sock.close()
        for conn, pid in list(kernels.items()):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 1 << 8
            if done:
                try:
                    os.killpg(pid, signal.SIGKILL)  # what the kernel started goes with it
                except OSError:
                    pass
                _send(conn, f"exit {os.waitstatus_to_exitcode(status)}")
                conn.close()
                del kernels[conn]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: kernelzygote.py SOCKET", file=sys.stderr)
        return 2
    preload()
    serve(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
