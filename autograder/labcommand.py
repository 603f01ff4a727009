"""How ``ccdlab lab`` starts JupyterLab: its command line, environment and address.

The pieces :mod:`autograder.labserver` puts together: the folder the lab
opens on, a free localhost port, the address path of that folder, the
``jupyter lab`` command line with nbgrader's server extensions, and the
server's environment (the token kept off the command line).  Nothing here
starts a process.
"""

import importlib.util
import os
import socket
import sys
from pathlib import Path

from . import course

#: Repository root: the server's root folder and working directory.
REPO_ROOT = course.REPO_ROOT

#: Host the server listens on; only this machine can reach it.
HOST = "127.0.0.1"

#: nbgrader's server extensions: the formgrader for instructors, the
#: assignment list and the "Validate" button for students.
NBGRADER_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.validate_assignment",
)


def start_folder(root=REPO_ROOT):
    """Return the folder the lab opens on.

    The student notebooks (``labs/ccd_reduction``) when they exist, else
    ``labs/``, else ``root`` itself.

    Parameters
    ----------
    root : str or pathlib.Path
        Repository (course) root.

    Returns
    -------
    pathlib.Path
    """
    root = Path(root)
    for folder in (course.release_dir(root), root / course.RELEASE_DIRNAME):
        if folder.is_dir():
            return folder
    return root


def free_port(host=HOST):
    """Return a TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def lab_path(root_dir, start):
    """Return the lab's address path (no leading ``/``) opened on ``start``.

    ``start`` must be ``root_dir`` or a folder inside it; the result is
    ``'lab'`` or e.g. ``'lab/tree/labs/ccd_reduction'``.
    """
    root_dir = Path(root_dir).resolve()
    start = Path(start).resolve()
    try:
        relative = start.relative_to(root_dir).as_posix()
    except ValueError:
        raise ValueError(f"start folder {start} is not inside root_dir {root_dir}") from None
    return "lab" if relative == "." else f"lab/tree/{relative}"


def lab_command(*, root_dir, port, start, extra_args=()):
    """Return the command line that starts JupyterLab.

    Parameters
    ----------
    root_dir : pathlib.Path
        Folder the server serves (and the course root nbgrader uses).
    port : int
        Port to listen on; the server fails rather than pick another.
    start : pathlib.Path
        Folder inside ``root_dir`` that the lab opens on.
    extra_args : sequence of str
        Further ``jupyter lab`` options; they come last and so win.

    Returns
    -------
    list of str
    """
    root_dir = Path(root_dir).resolve()
    # Turn nbgrader's server extensions on for this server only (they are
    # normally enabled by their install; this covers a global config that
    # switched them off, without editing it).
    extensions = {
        name: True for name in NBGRADER_SERVER_EXTENSIONS if importlib.util.find_spec(name.split(".")[0])
    }
    command = [
        sys.executable, "-m", "jupyter", "lab",
        f"--ServerApp.root_dir={root_dir}",
        f"--ServerApp.ip={HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        # ccdlab opens the browser itself, once the server answers.
        "--ServerApp.open_browser=False",
        f"--LabApp.default_url=/{lab_path(root_dir, start)}",
    ]
    if extensions:
        command.append(f"--ServerApp.jpserver_extensions={extensions!r}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")  # containers and CI run as root
    return command + list(extra_args)


def server_environment(token, base=None):
    """Return the environment of the server process.

    The token goes in ``JUPYTER_TOKEN`` (not on the command line, where other
    users could read it), and this interpreter's scripts folder goes first on
    ``PATH`` so that nbgrader finds the tools it runs (``alembic``).
    """
    env = dict(os.environ if base is None else base)
    env["JUPYTER_TOKEN"] = token
    scripts = str(Path(sys.executable).parent)
    env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    return env
