"""The grading kernels: one kernelspec in the student's scratch folder, found through configuration.

nbgrader starts each notebook's kernel through nbclient's kernel manager.
Instead of pointing the whole grading process at the kernelspec through
``JUPYTER_PATH`` (and putting the kernel's environment into ``os.environ``),
the grader writes the kernelspec, its command and its environment, into the
student's scratch folder and hands nbgrader a configuration in which
:class:`ScratchKernelManager` looks only there.  Nothing of the grading
process's own environment changes, so two students graded at once in one
process cannot see each other's kernels.
"""

import json
import sys
from pathlib import Path

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpecManager
from traitlets import List, Unicode, default
from traitlets.config import Config

#: The kernel name the notebooks ask for (their metadata's kernelspec).
KERNEL_NAME = "python3"


class ScratchKernelManager(AsyncKernelManager):
    """A kernel manager that reads kernelspecs from the folders it is configured with."""

    kernel_dirs = List(Unicode(), config=True, help="Folders of kernelspecs searched (default: Jupyter's).")

    @default("kernel_spec_manager")
    def _kernel_spec_manager_default(self):
        if self.kernel_dirs:
            return KernelSpecManager(kernel_dirs=list(self.kernel_dirs))
        return super()._kernel_spec_manager_default()


def plain_argv():
    """The command of a kernel started directly (no sandbox)."""
    return [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def install_kernelspec(folder, argv, env=None, display_name="Python 3 (grading)"):
    """Write the ``python3`` kernelspec into ``folder/kernels``; return nbgrader's config to use it.

    Parameters
    ----------
    folder : pathlib.Path
        The student's scratch folder for kernelspecs.
    argv : list of str
        The kernel's command (``{connection_file}`` filled in by Jupyter).
    env : dict, optional
        Environment variables added to the kernel's (``CCDLAB_DATA``, ...).
    display_name : str

    Returns
    -------
    traitlets.config.Config
        To merge into nbgrader's configuration.
    """
    kernels = Path(folder) / "kernels"
    spec_dir = kernels / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    # Interrupts travel as a message: a signal to a sandbox would not reach the kernel's own session.
    spec = {"argv": list(argv), "display_name": display_name, "language": "python",
            "interrupt_mode": "message", "metadata": {"debugger": False}, "env": dict(env or {})}
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    config = Config()  # GuardedExecute's kernels are ScratchKernelManager's
    config.ScratchKernelManager.kernel_dirs = [str(kernels)]
    return config
