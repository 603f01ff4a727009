"""What nbgrader's kernel manager starts for a kernel: a stand-in for a kernel forked by the zygote.

``python -I -S kernelclient.py SOCKET CONNECTION_FILE WAIT_S -- FALLBACK...``

It asks the student's kernel zygote (:mod:`autograder.kernelzygote`) on
``SOCKET`` for a kernel on ``CONNECTION_FILE`` and stays alive exactly as
long as that kernel: it exits with the kernel's exit status, and when the
manager kills it, the zygote kills the kernel.  Where the zygote cannot be
reached within ``WAIT_S`` seconds (it is still importing, or it is gone), it
becomes the ``FALLBACK`` command instead: an ordinary sandboxed kernel.

It runs outside the sandbox and imports nothing but the standard library.
"""

import os
import socket
import sys
import time


def _fallback(command):
    os.execv(command[0], command)


def main(argv):
    socket_path, connection_file, wait_s = argv[0], argv[1], float(argv[2])
    fallback = argv[argv.index("--") + 1:]
    deadline = time.monotonic() + wait_s
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(socket_path)
            break
        except OSError:
            sock.close()
            if time.monotonic() > deadline:
                _fallback(fallback)
            time.sleep(0.02)
    sock.sendall(connection_file.encode() + b"\n")
    replies = sock.makefile("rb")
    if not replies.readline().startswith(b"pid "):
        _fallback(fallback)
    line = replies.readline()  # blocks while the kernel lives
    code = int(line.split()[1]) if line.startswith(b"exit ") else 1  # no line: the zygote died, and its kernel
    return code if 0 <= code < 256 else 128 + (-code % 128)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
