"""Reading, writing and removing files on the grader's side without following a link.

A student's kernel or runner may leave symbolic links, folders without
permissions or special files wherever it could write.  The grader opens
nothing through a link (``O_NOFOLLOW``), reads only regular files, never
changes a mode through a link, and replaces rather than writes through
whatever lies at a path.
"""

import os
import shutil
import stat
from pathlib import Path

#: Largest file the grader reads (bytes).
MAX_READ_BYTES = 256 * 1024 * 1024


class NotRegularFile(OSError):
    """A path that is a link, a folder, a device or too large a file."""


def read_regular(path, limit=MAX_READ_BYTES):
    """Bytes of the regular file at ``path``, never through a symlink.

    Raises
    ------
    NotRegularFile
        For a symlink, a folder, a device, or a file larger than ``limit``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if os.path.islink(path):
            raise NotRegularFile(f"{path} is a symbolic link") from None
        raise NotRegularFile(f"{path} cannot be read ({error.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(f"{path} is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise NotRegularFile(f"{path} is larger than {limit} bytes")
    return data


def write_regular(path, data):
    """Replace whatever is at ``path`` by a new regular file holding ``data``."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.ccdlab-new")
    if os.path.lexists(temporary):
        os.unlink(temporary)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def remove_tree(folder):
    """Remove a folder, read-only parts included; a link is removed, never followed."""
    folder = str(folder)
    if os.path.islink(folder):
        os.unlink(folder)
        return
    if not os.path.isdir(folder):
        return
    for parent, dirs, _files in os.walk(folder, followlinks=False):
        for name in [parent] + [os.path.join(parent, d) for d in dirs]:
            try:
                if stat.S_ISDIR(os.lstat(name).st_mode):
                    os.chmod(name, 0o700, follow_symlinks=False)
            except (OSError, NotImplementedError):
                pass
    shutil.rmtree(folder, ignore_errors=True)
