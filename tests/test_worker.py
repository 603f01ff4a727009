"""One student's status from the executed notebook's cells (autograder.worker.notebook_status), and what a run left."""

import nbformat

from autograder.worker import STATUSES, notebook_status


def _executed(*outputs_per_cell):
    cells = []
    for index, enames in enumerate(outputs_per_cell):
        cell = nbformat.v4.new_code_cell(f"step_{index}()")
        cell.outputs = [nbformat.v4.new_output("error", ename=ename, evalue="", traceback=[]) for ename in enames]
        cells.append(cell)
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells))


def test_a_notebook_that_ran_through_has_no_status_even_with_student_errors():
    assert notebook_status(_executed([], ["ValueError"], ["AssertionError"]), 30) == ({}, None)


def test_a_cell_over_the_time_limit_is_the_stop_and_a_timeout():
    flags, stop = notebook_status(_executed([], ["CellTimeoutError"], ["NotRun"]), 30)
    assert list(flags) == ["timeout"] and stop[0] == "step_1()"
    assert "ran longer than 30 s" in stop[1] and "ran longer than 30 s" in flags["timeout"][0]


def test_a_dead_kernel_is_kernel_died():
    flags, stop = notebook_status(_executed([], ["DeadKernelError"], ["DeadKernelError"]), 30)
    assert flags == {"kernel_died": ["the kernel died; later cells scored 0"]} and stop is None


def test_statuses_are_ordered_most_serious_first():
    assert STATUSES[0] == "kernel_died" and STATUSES[1] == "timeout" and STATUSES[-1] == "ok"


def test_a_graded_notebook_a_run_replaced_is_graded_from_the_one_handed_in(tmp_path):
    """Without the sandbox a kernel runs beside the autograded notebooks: links and planted notebooks go."""
    from autograder.worker import _restore_replaced

    outside = tmp_path / "instructor.txt"
    outside.write_text("the instructor's")
    autograded = tmp_path / "autograded"
    autograded.mkdir()
    handed_in = {"01.ipynb": b'{"handed": "in"}', "02.ipynb": b'{"two": 2}', "03.ipynb": b"{}"}
    (autograded / "01.ipynb").symlink_to(outside)
    (autograded / "02.ipynb").write_bytes(b'{"executed": true}')
    (autograded / "03.ipynb").mkdir()
    (autograded / "planted.ipynb").symlink_to(outside)
    flags = {}
    _restore_replaced(autograded, handed_in, flags)
    assert not (autograded / "01.ipynb").is_symlink()
    assert (autograded / "01.ipynb").read_bytes() == handed_in["01.ipynb"]
    assert (autograded / "02.ipynb").read_bytes() == b'{"executed": true}'  # untouched: the kernel's run
    assert (autograded / "03.ipynb").read_bytes() == b"{}"
    assert not (autograded / "planted.ipynb").exists() and not (autograded / "planted.ipynb").is_symlink()
    assert outside.read_text() == "the instructor's"
    assert sorted(flag.split(":")[0] for flag in flags["flagged"]) == ["01.ipynb", "03.ipynb", "planted.ipynb"]


def test_without_the_sandbox_the_runner_reads_frames_no_kernel_touched(tmp_path):
    """hostile_rmdata's kernel deletes its frames: the runner's are another copy (in the sandbox, read-only ones)."""
    import dataclasses
    import shutil

    from autograder.options import GradingOptions
    from autograder.worker import _runner_frames, _scratch_course
    from convenience_functions.paths import data_dir

    template = tmp_path / "template"
    template.mkdir()
    unsandboxed = dataclasses.replace(GradingOptions(), sandboxed=False)
    _root, kernels = _scratch_course(tmp_path, template, data_dir(), copy_data=True)
    shutil.rmtree(kernels)  # what the kernel may do (the tests run as root: the modes do not stop it)
    runner = _runner_frames(unsandboxed, tmp_path, kernels, data_dir())
    assert runner != kernels
    assert sorted(path.name for path in runner.iterdir()) == sorted(
        path.name for path in data_dir().iterdir() if not path.name.endswith(".json") or path.name == "night.json")
    assert _runner_frames(dataclasses.replace(unsandboxed, sandboxed=True), tmp_path, kernels, data_dir()) == kernels
