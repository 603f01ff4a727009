"""``python -I pidlimit.py N program...``: run a program with at most N processes.

The program (bubblewrap and everything in the sandbox) is moved into a new
pids cgroup whose ``pids.max`` is N, so a fork bomb in a student's notebook
stops at N tasks instead of filling the machine.  Empty cgroups left by
earlier sandboxes are removed first.  A standalone script: it imports
nothing of the package, and runs before the sandbox starts.
"""

import os
import sys
import tempfile

#: Where a pids cgroup may be made (cgroup v1 first, then v2), or None.
ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")
PREFIX = "ccdlab-"


def pids_root():
    """The writable pids cgroup folder of this machine, or None."""
    for root in ROOTS:
        procs = os.path.join(root, "cgroup.procs")
        if not (os.path.exists(procs) and os.access(root, os.W_OK)):
            continue
        controllers = os.path.join(root, "cgroup.controllers")
        if root.endswith("pids") or (os.path.exists(controllers) and "pids" in open(controllers).read().split()):
            return root
    return None


def sweep(root):
    """Remove the empty cgroups earlier sandboxes left (a busy one refuses)."""
    for name in os.listdir(root):
        if name.startswith(PREFIX):
            try:
                os.rmdir(os.path.join(root, name))
            except OSError:
                pass


def enter(limit):
    """Move this process into a new pids cgroup of ``limit`` tasks."""
    root = pids_root()
    if root is None:
        raise OSError("no writable pids cgroup")
    sweep(root)
    folder = tempfile.mkdtemp(prefix=PREFIX, dir=root)
    with open(os.path.join(folder, "pids.max"), "w") as handle:
        handle.write(str(int(limit)))
    with open(os.path.join(folder, "cgroup.procs"), "w") as handle:
        handle.write(str(os.getpid()))
    return folder


if __name__ == "__main__":
    enter(int(sys.argv[1]))
    os.execvp(sys.argv[2], sys.argv[2:])
