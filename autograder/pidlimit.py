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


#: Seconds an empty cgroup must have existed before a sweep removes it: a younger
#: one may be another sandbox's, made but not yet entered.
SWEEP_AGE_S = 60
#: Tries to make and enter a cgroup (another sandbox's sweep may remove it in between).
ATTEMPTS = 10


def sweep(root, min_age_s=SWEEP_AGE_S):
    """Remove the empty cgroups earlier sandboxes left (a busy one refuses; a young one is left alone)."""
    import time

    for name in os.listdir(root):
        if name.startswith(PREFIX):
            path = os.path.join(root, name)
            try:
                if time.time() - os.stat(path).st_mtime >= min_age_s:
                    os.rmdir(path)
            except OSError:
                pass


def enter(limit):
    """Move this process into a new pids cgroup of ``limit`` tasks."""
    root = pids_root()
    if root is None:
        raise OSError("no writable pids cgroup")
    sweep(root)
    for attempt in range(ATTEMPTS):
        folder = tempfile.mkdtemp(prefix=PREFIX, dir=root)
        try:
            with open(os.path.join(folder, "pids.max"), "w") as handle:
                handle.write(str(int(limit)))
            with open(os.path.join(folder, "cgroup.procs"), "w") as handle:
                handle.write(str(os.getpid()))
            return folder
        except FileNotFoundError:  # removed before this process entered it: make another
            if attempt == ATTEMPTS - 1:
                raise


if __name__ == "__main__":
    enter(int(sys.argv[1]))
    os.execvp(sys.argv[2], sys.argv[2:])
