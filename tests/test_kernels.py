"""The grading kernel's kernelspec: found through configuration, its environment its own."""

import json
import os

import nbformat

from autograder import kernels
from autograder.preprocessors import GuardedExecute


def test_the_kernelspec_carries_the_command_and_the_environment(tmp_path):
    config = kernels.install_kernelspec(tmp_path, ["python3", "-c", "pass", "{connection_file}"], {"CCDLAB_X": "1"})
    spec = json.loads((tmp_path / "kernels" / "python3" / "kernel.json").read_text())
    assert spec["argv"][:3] == ["python3", "-c", "pass"] and spec["env"] == {"CCDLAB_X": "1"}
    manager = kernels.ScratchKernelManager(kernel_name="python3", config=config)
    assert manager.kernel_spec.argv == spec["argv"] and manager.kernel_spec.env == {"CCDLAB_X": "1"}


def test_a_manager_without_folders_finds_jupyters_kernels():
    manager = kernels.ScratchKernelManager(kernel_name="python3")
    assert "ipykernel" in " ".join(manager.kernel_spec.argv)


def test_nbgraders_kernel_gets_the_kernelspecs_environment_and_the_grader_keeps_its_own(tmp_path):
    before = dict(os.environ)
    config = kernels.install_kernelspec(tmp_path, kernels.plain_argv(), {"CCDLAB_SEEN_BY_KERNEL": "frames-here"})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\nprint(os.environ.get('CCDLAB_SEEN_BY_KERNEL'))")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    step = GuardedExecute(timeout=60, config=config)
    step.shutdown_kernel = "immediate"
    notebook, _ = step.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    assert notebook.cells[0].outputs[0]["text"].strip() == "frames-here"
    assert step.kernel_manager_class is kernels.ScratchKernelManager
    assert dict(os.environ) == before
