"""The grading options: one object built once from the command line, the sandbox decided once."""

import pytest

from autograder import classgrade, cli, options, sandbox, worker
from autograder.executors import ExecutorError
from autograder.submissions import Submission


def _bubblewrap(monkeypatch, works, why=""):
    monkeypatch.setattr(sandbox, "available", lambda: (works, why))


def test_the_command_line_defaults_are_the_options_defaults():
    args = cli.build_parser().parse_args(["grade", "SUBMISSIONS", "--out", "RESULTS"])
    chosen = options.GradingOptions()
    assert args.timeout == chosen.cell_timeout_s == options.DEFAULT_CELL_TIMEOUT_S
    assert args.sandbox == "auto" and chosen.sandboxed
    assert chosen.cpu_limit_s == sandbox.CPU_LIMIT_S and chosen.memory_limit_bytes == sandbox.MEMORY_LIMIT_BYTES


def test_time_limits_that_contradict_each_other_are_refused():
    with pytest.raises(ValueError, match="cpu_limit_s .* must exceed a cell's timeout"):
        options.GradingOptions(cell_timeout_s=60, cpu_limit_s=65)
    with pytest.raises(ValueError, match="cell_timeout_s must be positive"):
        options.GradingOptions(cell_timeout_s=0)
    chosen = options.GradingOptions(cell_timeout_s=12)
    assert chosen.runner_deadline_s == 12 + options.RUNNER_GRACE_S < chosen.cpu_limit_s


def test_the_options_cannot_change_on_the_way_down():
    with pytest.raises(AttributeError):
        options.GradingOptions().sandboxed = False


def test_auto_uses_the_sandbox_wherever_bubblewrap_works(monkeypatch):
    _bubblewrap(monkeypatch, True)
    assert options.resolve_sandbox("auto") == (True, "")
    assert options.resolve_sandbox("require") == (True, "")
    assert options.resolve_sandbox("off") == (False, "")


def test_without_bubblewrap_auto_warns_and_require_refuses(monkeypatch):
    _bubblewrap(monkeypatch, False, "bwrap is not installed")
    sandboxed, warning = options.resolve_sandbox("auto")
    assert not sandboxed and "without a sandbox (bwrap is not installed)" in warning
    with pytest.raises(options.SandboxUnavailable, match="--sandbox=require, but bwrap is not installed"):
        options.resolve_sandbox("require")
    with pytest.raises(ValueError, match="--sandbox must be one of auto, require, off, not 'sometimes'"):
        options.resolve_sandbox("sometimes")


def test_a_worker_that_cannot_sandbox_refuses_a_sandboxed_run(monkeypatch):
    _bubblewrap(monkeypatch, False, "bwrap is not installed")
    with pytest.raises(options.SandboxUnavailable, match="bwrap is not installed"):
        worker.grade_submission(Submission("s1", {}), options.GradingOptions(sandboxed=True))


class _Recorder:
    """An executor that grades nobody and keeps what it was handed."""

    def __init__(self):
        self.calls = []

    def map_unordered(self, function, items, **kwargs):
        self.calls.append((function, list(items), kwargs))
        raise ExecutorError("recorded")


@pytest.mark.parametrize("mode, works, sandboxed", [("auto", True, True), ("auto", False, False),
                                                     ("require", True, True), ("off", True, False)])
def test_the_command_hands_one_options_object_to_the_worker(tmp_path, monkeypatch, mode, works, sandboxed):
    _bubblewrap(monkeypatch, works, "no bwrap here")
    monkeypatch.setattr(classgrade, "prepare_results_course", lambda out: None)
    submissions = tmp_path / "submissions"
    (submissions / "s1" / "ccd_reduction").mkdir(parents=True)
    (submissions / "s1" / "ccd_reduction" / "01_fits_basics.ipynb").write_text("{}")
    recorder = _Recorder()
    out = tmp_path / "results"
    assert classgrade.main(submissions=submissions, out=out, timeout=7, sandbox=mode, executor=recorder,
                           progress=False) == 2  # the recorder stops the run
    (function, items, kwargs), = recorder.calls
    assert function is worker.grade_submission and [s.student_id for s in items] == ["s1"]
    assert kwargs == {"options": options.GradingOptions(cell_timeout_s=7, sandboxed=sandboxed,
                                                        seed=classgrade.run_seed(out))}


def test_require_without_bubblewrap_grades_nobody(tmp_path, monkeypatch, capsys):
    _bubblewrap(monkeypatch, False, "no bwrap here")
    submissions = tmp_path / "submissions"
    (submissions / "s1" / "ccd_reduction").mkdir(parents=True)
    recorder = _Recorder()
    assert classgrade.main(submissions=submissions, out=tmp_path / "results", sandbox="require",
                           executor=recorder, progress=False) == 2
    assert recorder.calls == [] and "--sandbox=require, but no bwrap here" in capsys.readouterr().err


def _kernelspec(tmp_path, chosen, monkeypatch):
    """The kernelspec the worker writes for one student under ``chosen`` (the zygote faked, its command kept)."""
    import json

    started = {}

    class _Zygote:
        socket = str(tmp_path / "zygote.sock")

    def start_zygote(scratch, cwd, kernel_cwd, readonly=(), env=None, limits=None):
        started.update(env=env, limits=limits, readonly=readonly)
        return _Zygote()

    monkeypatch.setattr(sandbox, "start_zygote", start_zygote)
    scratch, handed_in, data = tmp_path / "scratch", tmp_path / "handed-in", tmp_path / "frames"
    for folder in (scratch, handed_in, data):
        folder.mkdir()
    config, zygote = worker._kernel_config(chosen, scratch, handed_in, data)
    spec = json.loads((scratch / "jupyter" / "kernels" / "python3" / "kernel.json").read_text())
    return spec, config, zygote, started


@pytest.mark.skipif(sandbox.bwrap_path() is None, reason="bubblewrap is not installed")
def test_the_sandboxed_kernel_and_its_zygote_get_the_options_limits(tmp_path, monkeypatch):
    chosen = options.GradingOptions(sandboxed=True, cpu_limit_s=123, memory_limit_bytes=2 * 1024**3)
    spec, config, zygote, started = _kernelspec(tmp_path, chosen, monkeypatch)
    argv = " ".join(spec["argv"])
    assert zygote is not None and started["limits"] == {"memory_bytes": 2 * 1024**3, "cpu_seconds": 123}
    assert "--cpu=123" in argv and f"--as={2 * 1024**3}" in argv and "bwrap" in argv
    assert started["env"] == {"CCDLAB_DATA": str(tmp_path / "frames")} and spec["env"] == {}
    assert config.KernelManager.transport == "ipc"


def test_the_unsandboxed_kernel_gets_the_frames_and_the_guard_through_its_kernelspec(tmp_path, monkeypatch):
    spec, config, zygote, started = _kernelspec(tmp_path, options.GradingOptions(sandboxed=False), monkeypatch)
    assert zygote is None and started == {} and "bwrap" not in " ".join(spec["argv"])
    assert spec["env"] == {"CCDLAB_DATA": str(tmp_path / "frames"), "PYTHONPATH": str(tmp_path / "scratch" / "guard")}
