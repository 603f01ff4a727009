"""ccdlab grade on a Dask cluster (autograder/dask_executor.py).

The executor's own behaviour (each task once, retries counted, a killed
worker's task run again, clear errors) is tested with cheap tasks on a
two-worker LocalCluster.  Grading itself is tested on part of the hostile
class of ``tests/classbatch.py``, against the local grading of the whole
class that conftest's ``graded_class`` does once per session: graded with
``--scheduler local:2``, while the worker grading one student is killed
mid-student, the part must get exactly the local rows of ``grades.csv``.

The whole hostile class is compared the same way when the environment
variable ``CCDLAB_TEST_FULL_CLASS`` is set (too slow for every run)::

    CCDLAB_TEST_FULL_CLASS=1 .venv/bin/pytest tests/test_dask_grading.py -k local_cluster_grades
"""

import functools
import os
import shutil
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

import classbatch
from autograder import dask_executor, report
from autograder.cli import main as ccdlab
from autograder.dask_executor import DaskExecutor, SchedulerError, parse_scheduler

pytest.importorskip("distributed")

#: Per-cell timeout: the one the shared local grading (conftest ``graded_class``) used.
TIMEOUT = "20"

#: One of each kind of outcome of the hostile class, to keep the test short.
SUBSET = [classbatch.correct, classbatch.blank, classbatch.mistake_bias_mean, classbatch.hostile_exit,
          classbatch.hostile_json, classbatch.hostile_missing, classbatch.hostile_points]

#: Whose worker is killed while it grades them.
VICTIM = "correct"


def run(argv):
    """Run ``ccdlab argv`` in-process; return the exit status."""
    try:
        return ccdlab(argv)
    except SystemExit as stop:
        return stop.code


def _rows(out):
    return {row["student_id"]: row for row in report.read_csv(out / report.CSV_FILE)}


# ---------------------------------------------------------------------------
# Reading --scheduler


@pytest.mark.parametrize("text, expected", [
    ("local:2", ("local", 2)),
    ("local:16", ("local", 16)),
    ("tcp://10.0.0.5:8786", ("address", "tcp://10.0.0.5:8786")),
    ("headnode:8786", ("address", "headnode:8786")),
])
def test_parse_scheduler(text, expected):
    assert parse_scheduler(text) == expected


def test_parse_scheduler_reads_a_scheduler_file(tmp_path):
    path = tmp_path / "scheduler.json"
    path.write_text("{}")
    assert parse_scheduler(str(path)) == ("file", path.resolve())


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("local:0", "positive whole number"),
    ("local:two", "positive whole number"),
    ("local:", "positive whole number"),
    ("missing.json", "scheduler file not found"),
])
def test_parse_scheduler_fails(text, message):
    with pytest.raises(ValueError, match=message):
        parse_scheduler(text)


def test_grade_rejects_a_bad_scheduler_option(tmp_path, capsys):
    assert run(["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--scheduler", "local:0"]) == 2
    assert "local:N" in capsys.readouterr().err


def test_grade_rejects_jobs_with_a_scheduler(tmp_path, capsys):
    classbatch.blank(tmp_path / "subs")
    assert run(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--jobs", "2",
                "--scheduler", "local:1"]) == 2
    assert "--jobs" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_grade_fails_clearly_when_the_scheduler_is_unreachable(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_S", 2)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    classbatch.blank(tmp_path / "subs")
    address = f"tcp://127.0.0.1:{port}"
    assert run(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--scheduler", address]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler" in err and address in err
    assert not (tmp_path / "out" / report.CSV_FILE).exists()


# ---------------------------------------------------------------------------
# The executor with cheap tasks


def _nap(item, *, seconds):
    """A task: wait, then say who ran it."""
    time.sleep(seconds)
    return item * 10, os.getpid()


def _fail_once(item, *, marker_dir):
    """A task that raises on its first try only (a marker file remembers it)."""
    marker = Path(marker_dir) / f"tried-{item}"
    if not marker.exists():
        marker.write_text("once")
        raise RuntimeError(f"transient failure of {item}")
    return item


def _always_fails(item):
    raise ValueError(f"item {item} is hopeless")


class _Unimportable:
    """Unpickles only where a module exists that no worker has."""

    def __reduce__(self):
        import importlib

        return importlib.import_module, ("ccdlab_module_missing_on_workers",)


def _identity(item):
    return item


def _no_sandbox(item):
    from autograder import options

    raise options.SandboxUnavailable("bubblewrap (bwrap) is not installed")


def test_each_item_yields_once_with_its_result():
    executor = DaskExecutor("local:2")
    got = list(executor.map_unordered(_nap, range(6), seconds=0.1))
    assert sorted(item for item, _ in got) == list(range(6))
    assert all(result[0] == item * 10 for item, result in got)
    assert len({pid for _, (_, pid) in got}) == 2  # both workers took part
    assert executor.retried == 0


def test_a_task_that_raises_is_retried_then_reported(tmp_path):
    executor = DaskExecutor("local:2", retries=2)
    assert dict(executor.map_unordered(_fail_once, [1, 2], marker_dir=str(tmp_path))) == {1: 1, 2: 2}
    assert executor.retried == 2
    (item, outcome), = DaskExecutor("local:1", retries=1).map_unordered(_always_fails, [7])
    assert item == 7 and isinstance(outcome, ValueError) and "hopeless" in str(outcome)


@pytest.mark.slow
def test_a_killed_worker_costs_its_task_a_rerun_and_nothing_else():
    killed = []

    def kill_first_worker(item, info):
        if item == 0 and not killed:
            killed.append(info["pid"])
            os.kill(info["pid"], signal.SIGKILL)

    executor = DaskExecutor("local:2", on_task_start=kill_first_worker)
    got = list(executor.map_unordered(_nap, range(4), seconds=1.0))
    assert len(killed) == 1
    assert sorted(item for item, _ in got) == [0, 1, 2, 3]
    results = dict(got)
    assert not any(isinstance(result, BaseException) for result in results.values()), results
    assert results[0][0] == 0 and results[0][1] != killed[0]  # finished by another process
    assert executor.retried == 1


@pytest.mark.slow
def test_a_lost_scheduler_stops_the_run():
    import logging

    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, silence_logs=logging.CRITICAL)
    got = []
    try:
        executor = DaskExecutor(cluster.scheduler_address)
        with pytest.raises(SchedulerError, match="lost the Dask scheduler"):
            for item, _result in executor.map_unordered(_nap, range(4), seconds=1.0):
                got.append(item)
                cluster.close()  # after the first student: the scheduler goes away
    finally:
        cluster.close()
    assert len(got) == 1


def test_a_cluster_without_the_grader_stops_the_run():
    executor = DaskExecutor("local:1", retries=0)
    with pytest.raises(SchedulerError, match="install ccdlab"):
        list(executor.map_unordered(_identity, [_Unimportable()]))


def test_a_worker_with_another_course_stops_the_run():
    executor = DaskExecutor("local:1")
    assert executor.course_fingerprint == dask_executor.course_fingerprint()
    executor.course_fingerprint = "0" * 64  # as if the coordinator's notebooks had changed
    with pytest.raises(SchedulerError, match="another version of the course"):
        list(executor.map_unordered(_identity, [1, 2]))


def test_course_fingerprint_follows_the_notebooks(tmp_path):
    from autograder import course

    copy = tmp_path / "repo"
    for pattern in dask_executor._COURSE_FILES:
        for path in course.REPO_ROOT.glob(pattern):
            target = copy / path.relative_to(course.REPO_ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    assert dask_executor.course_fingerprint(copy) == dask_executor.course_fingerprint()
    release = sorted((copy / "labs" / "ccd_reduction").glob("*.ipynb"))[0]
    release.write_bytes(release.read_bytes() + b"\n")  # one byte more in one release notebook
    assert dask_executor.course_fingerprint(copy) != dask_executor.course_fingerprint()


def test_a_worker_without_the_sandbox_stops_the_run():
    executor = DaskExecutor("local:1", retries=0)
    with pytest.raises(SchedulerError, match="sandbox.*bubblewrap"):
        list(executor.map_unordered(_no_sandbox, [1, 2]))


# ---------------------------------------------------------------------------
# Grading part of the hostile class, against the shared local grading of it


def _copy_students(graded_class, folder, students):
    """Copy the hand-ins of ``students`` (ids) out of the shared class into ``folder``."""
    folder.mkdir()
    for student in students:
        entry = graded_class.submissions / student
        if entry.is_dir():
            shutil.copytree(entry, folder / entry.name)
        else:
            shutil.copy2(entry.with_suffix(".zip"), folder)
    return folder


def _sandbox(graded_class):
    return "require" if graded_class.sandboxed else "off"


def _subset(graded_class):
    if classbatch.full_class_requested():
        return sorted(row["student_id"] for row in report.read_csv(graded_class.out / report.CSV_FILE))
    return sorted(student.__name__ for student in SUBSET)


@pytest.fixture
def scratch_root():
    """A short-named folder for the workers' scratch folders, where the killed one stays behind.

    Short: the sandboxed kernels' IPC sockets live in the scratch folders and a
    socket path may not exceed 107 bytes (pytest's tmp_path is too long).
    """
    import tempfile

    from autograder import worker

    folder = Path(tempfile.mkdtemp(prefix="ccdlab-kill-", dir="/tmp"))
    yield folder
    worker.remove_tree(folder)


def _kill_when_grading(scratch_root, killed):
    """An ``on_task_start`` hook: kill the victim's worker once its first notebook is graded."""
    def wait_then_kill(pid):
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if any(scratch_root.glob(f"ccdlab-*/course/autograded/{VICTIM}/*/*.ipynb")):
                break
            time.sleep(0.2)
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    def hook(submission, info):
        if submission.student_id == VICTIM and not killed:
            killed.append(None)  # only once, even before the thread kills
            threading.Thread(target=wait_then_kill, args=(info["pid"],), daemon=True).start()
    return hook


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_a_local_cluster_grades_like_local_grading_though_a_worker_is_killed_mid_student(
        graded_class, scratch_root, tmp_path, monkeypatch, capsys):
    """``ccdlab grade --scheduler local:2`` on part of the class while the worker grading VICTIM is
    killed mid-student: the victim's task runs again on the other worker, nobody is lost, no other
    task runs twice, and every row equals the shared local grading's."""
    monkeypatch.setenv("TMPDIR", str(scratch_root))
    killed = []
    monkeypatch.setattr(dask_executor, "DaskExecutor",
                        functools.partial(DaskExecutor, on_task_start=_kill_when_grading(scratch_root, killed)))
    students = _subset(graded_class)
    subset = _copy_students(graded_class, tmp_path / "subs", students)
    capsys.readouterr()
    out = tmp_path / "dask"
    assert run(["grade", str(subset), "--out", str(out), "--scheduler", "local:2", "--timeout", TIMEOUT,
                "--sandbox", _sandbox(graded_class)]) == 0
    assert len(killed) == 2 and killed[1] is not None, "the victim's worker was not killed"
    left_behind = list(scratch_root.glob(f"ccdlab-*/course/autograded/{VICTIM}"))
    assert len(left_behind) == 1, "the victim was not killed mid-grading"
    assert "(1 retried)" in capsys.readouterr().out
    local, distributed = _rows(graded_class.out), _rows(out)
    assert sorted(distributed) == students
    for student, row in distributed.items():
        assert row == local[student], student
    for student in (student.__name__ for student in SUBSET):  # and local grading is right about them
        assert local[student]["status"] == classbatch.expected_status(student, graded_class.sandboxed), student
    feedback = sorted((out / "feedback" / VICTIM / "ccd_reduction").glob("*.html"))
    assert len(feedback) == len(classbatch.notebook_names()) and all(path.stat().st_size > 1000 for path in feedback)
    assert (out / report.SUMMARY_FILE).stat().st_size > 10_000
