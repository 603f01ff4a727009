"""The grading run's options: built once from the command line, handed down whole.

``ccdlab grade`` turns its arguments into one frozen :class:`GradingOptions`
(:func:`grading_options`), and every step below it (the class loop, the
executors, the worker, the kernels' sandbox, the runner) reads what it needs
from that object.  Each default is written here and nowhere else.

The time limits and how they relate:

* ``cell_timeout_s`` -- one notebook cell in the kernel, and one call of a
  student's function in the runner (the comparator's request).
* ``cell_timeout_s + RUNNER_GRACE_S`` -- the comparator stops waiting for the
  runner and kills it (a runner that ignores its own alarm).
* ``cpu_limit_s`` -- CPU seconds of one sandboxed process (kernel, runner):
  a backstop far above any one cell, so a cell meets its own timeout first.
"""

import dataclasses
from pathlib import Path

from . import course
from .candidates import GRACE_S as RUNNER_GRACE_S
from .sandbox import CPU_LIMIT_S, MEMORY_LIMIT_BYTES

#: Seconds one cell (or one call of a checked function) may run; the slowest reference cell takes ~5 s.
DEFAULT_CELL_TIMEOUT_S = 30

#: ``--sandbox`` choices: use bubblewrap where it works, refuse to grade without it, never use it.
SANDBOX_MODES = ("auto", "require", "off")


class SandboxUnavailable(RuntimeError):
    """The sandbox was asked for but bubblewrap cannot run here."""


@dataclasses.dataclass(frozen=True)
class GradingOptions:
    """How one grading run grades every student (picklable: it travels to pool and Dask workers).

    Parameters
    ----------
    cell_timeout_s : float
        Seconds one cell, or one call of a checked function, may run.
    sandboxed : bool
        Kernels and the runner run under bubblewrap (decided once, by
        :func:`resolve_sandbox`; a worker that cannot sandbox refuses).
    seed : int or None
        Seed of the grading run's second night (None: the checks' default).
    source_root : pathlib.Path
        Repository holding the instructor and student notebooks.
    data_source : pathlib.Path or None
        Folder of frames (None: the bundled night, or ``CCDLAB_DATA``).
    keep_scratch : bool
        Leave each student's scratch folder behind (for debugging).
    cpu_limit_s : float
        CPU seconds of one sandboxed process.
    memory_limit_bytes : int
        Address space of one sandboxed process.
    """

    cell_timeout_s: float = DEFAULT_CELL_TIMEOUT_S
    sandboxed: bool = True
    seed: int = None
    source_root: Path = course.REPO_ROOT
    data_source: Path = None
    keep_scratch: bool = False
    cpu_limit_s: float = CPU_LIMIT_S
    memory_limit_bytes: int = MEMORY_LIMIT_BYTES

    def __post_init__(self):
        if not self.cell_timeout_s > 0:
            raise ValueError(f"cell_timeout_s must be positive, not {self.cell_timeout_s!r}")
        if not self.cpu_limit_s > self.cell_timeout_s + RUNNER_GRACE_S:
            raise ValueError(f"cpu_limit_s ({self.cpu_limit_s} s) must exceed a cell's timeout and the runner's "
                             f"grace ({self.cell_timeout_s} + {RUNNER_GRACE_S} s): a cell must meet its own "
                             "timeout before the CPU limit kills its process")

    @property
    def runner_deadline_s(self):
        """Seconds the comparator waits for one answer of the runner before killing it."""
        return self.cell_timeout_s + RUNNER_GRACE_S


def resolve_sandbox(mode):
    """Decide ``--sandbox``: ``(sandboxed, warning)``.

    Parameters
    ----------
    mode : {"auto", "require", "off"}

    Returns
    -------
    (bool, str)
        Whether to sandbox, and a warning to print ("" when none).

    Raises
    ------
    SandboxUnavailable
        ``mode`` is "require" and bubblewrap cannot run here.
    ValueError
        ``mode`` is not one of :data:`SANDBOX_MODES`.
    """
    if mode not in SANDBOX_MODES:
        raise ValueError(f"--sandbox must be one of {', '.join(SANDBOX_MODES)}, not {mode!r}")
    if mode == "off":
        return False, ""
    from . import sandbox

    works, why = sandbox.available()
    if works:
        return True, ""
    if mode == "require":
        raise SandboxUnavailable(f"--sandbox=require, but {why}")
    return False, f"warning: grading without a sandbox ({why})"


def ensure_sandbox(options):
    """Refuse to grade sandboxed where bubblewrap cannot run (a Dask worker unlike the coordinator).

    Raises
    ------
    SandboxUnavailable
    """
    if options.sandboxed:
        from . import sandbox

        works, why = sandbox.available()
        if not works:
            raise SandboxUnavailable(why)
