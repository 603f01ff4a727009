"""Grading on a Dask cluster: the executor behind ``ccdlab grade --scheduler``.

:class:`DaskExecutor` has the one method the coordinator uses,
``map_unordered(function, items, **kwargs)``, like
:class:`autograder.executors.LocalExecutor`; only where the tasks run
changes.  Each task is one student: the submission's bytes travel with the
task, :func:`autograder.worker.grade_submission` grades it in a scratch folder
on the worker, and the result comes back as data.  Only the coordinator
writes RESULTS, so the workers share no file and no database with it.

What ``--scheduler`` accepts (see :func:`parse_scheduler`):

``local:N``
    A :class:`distributed.LocalCluster` of N worker processes (one thread
    each) on 127.0.0.1, without a dashboard, started for this run and
    closed at its end: the way to try the distributed path on one machine.
``tcp://HOST:PORT`` (or any address ``distributed.Client`` accepts)
    An existing scheduler, e.g. one started by dask-jobqueue or
    dask-kubernetes.  The scheduler and the workers need the coordinator's
    checkout of ccdlab installed with its ``cluster`` extra: the scheduler
    unpickles the tasks, and every task first checks that its worker has
    the same notebooks, grader code and frames (:func:`course_fingerprint`).
``FILE.json``
    A scheduler file written by ``dask scheduler --scheduler-file``.

A worker that dies mid-task (killed by the batch system, out of memory,
node lost) costs nothing but time: the scheduler runs its tasks again on
another worker, up to ``distributed.scheduler.allowed-failures`` times (3 by
default) before it gives the student up with ``KilledWorker``; a task that
raises is tried again ``retries`` times, then reported like a crash in local
grading.  Each key yields once, so no student is counted twice.  A problem
of the cluster rather than of a student (a worker without ccdlab, another
version of the course or no sandbox, a lost scheduler) stops the run with
:class:`SchedulerError`; students graded until then are kept by the
coordinator.  Every task reports its start on an event topic, and a
student whose task started more than once is counted in :attr:`retried`.
"""

import collections
import contextlib
import hashlib
import logging
import os
import socket
import sys
import threading
import uuid
from pathlib import Path

from . import course
from .executors import ExecutorError

#: Retries of a task that raised (worker loss is handled by the scheduler).
DEFAULT_RETRIES = 2

#: Fewest tasks kept submitted at once; more when the cluster has more threads.
MIN_IN_FLIGHT = 64

#: Seconds to wait for a remote scheduler to answer.
CONNECT_TIMEOUT_S = 30

#: One student at a time per worker process, whatever its thread count: grading
#: sends the process's standard output and error (file descriptors 1 and 2,
#: which its kernels inherit) to that student's log, and listens to nbgrader's
#: logger for why a notebook could not be run.
_ONE_AT_A_TIME = threading.Lock()


class SchedulerError(ExecutorError):
    """The Dask scheduler cannot be used (bad address, unreachable, lost)."""


class CourseMismatch(RuntimeError):
    """A worker's copy of the course differs from the coordinator's."""


#: What a worker grades with (see :func:`autograder.course.fingerprint`).
_COURSE_FILES = course.COURSE_FILES
course_fingerprint = course.fingerprint


def parse_scheduler(text):
    """Read a ``--scheduler`` value.

    Parameters
    ----------
    text : str
        ``local:N``, a scheduler address, or a scheduler file (``.json``).

    Returns
    -------
    tuple
        ``("local", N)``, ``("file", path)`` or ``("address", text)``.

    Raises
    ------
    ValueError
        If ``text`` is empty, or ``local:N`` has no positive whole N.
    """
    text = (text or "").strip()
    if not text:
        raise ValueError("--scheduler is empty: give local:N, a scheduler address or a scheduler file")
    if text == "local" or text.startswith("local:"):
        count = text.partition(":")[2]
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"--scheduler {text}: write local:N with N workers, a positive whole number")
        return ("local", int(count))
    if text.endswith(".json"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise ValueError(f"--scheduler {text}: scheduler file not found")
        return ("file", path.resolve())
    return ("address", text)


def scheduler_option(text):
    """``argparse`` type of ``--scheduler``: checked by :func:`parse_scheduler`."""
    import argparse

    try:
        parse_scheduler(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _run_task(function, item, kwargs, topic, fingerprint):
    """What runs on the worker: check the course, report the start, then ``function(item, **kwargs)``."""
    if fingerprint != course_fingerprint():
        raise CourseMismatch(f"the worker on {socket.gethostname()} has another version of the course in "
                             f"{course.REPO_ROOT} than the coordinator")
    with _ONE_AT_A_TIME:
        try:
            from distributed import get_worker

            worker = get_worker()
        except (ImportError, ValueError):  # called outside a Dask worker (tests)
            worker = None
        if worker is not None:
            worker.log_event(topic, {"key": str(worker.get_current_task()), "worker": worker.address,
                                     "pid": os.getpid()})
        return function(item, **kwargs)


def _is_cancelled(error):
    import asyncio
    import concurrent.futures

    return isinstance(error, (concurrent.futures.CancelledError, asyncio.CancelledError))


def _environment_problem(outcome):
    """Say what is wrong when ``outcome`` is the cluster's fault, not the student's."""
    if isinstance(outcome, ImportError):
        return (f"a Dask worker cannot import the grader ({type(outcome).__name__}: {outcome}): "
                "install ccdlab[cluster] on every worker, in the version the coordinator runs")
    from .options import SandboxUnavailable

    if isinstance(outcome, SandboxUnavailable):
        return (f"a Dask worker cannot run the grading sandbox ({outcome}): install bubblewrap on every "
                "worker, or grade with --sandbox off where the cluster isolates the workers itself")
    if isinstance(outcome, CourseMismatch):
        return (f"{outcome}: install the same ccdlab checkout (notebooks, grader, frames) on every worker, "
                "or its grades would differ")
    if isinstance(outcome, RuntimeError) and "deserialization of the task graph" in str(outcome):
        return ("the Dask scheduler cannot read the grading tasks: install ccdlab[cluster] where the "
                "scheduler runs too, in the version the coordinator runs")
    return None


class DaskExecutor:
    """Run one task per item on a Dask cluster.

    Parameters
    ----------
    scheduler : str
        ``local:N``, a scheduler address or a scheduler file (see
        :func:`parse_scheduler`).
    retries : int
        Further tries of a task that raised an exception.
    on_task_start : callable, optional
        Called as ``on_task_start(item, info)`` each time a task starts on a
        worker; ``info`` has the task ``key``, the ``worker`` address and the
        worker's ``pid``.  It runs in the Dask client's event-loop thread and
        must return quickly (tests use it to kill a worker mid-task).
    in_flight : int, optional
        Tasks kept submitted at once (default: twice the cluster's threads,
        at least :data:`MIN_IN_FLIGHT`), so that a class of thousands does
        not sit in the scheduler's memory all at once.

    Raises
    ------
    SchedulerError
        If ``scheduler`` is malformed or ``distributed`` is not installed.
    """

    def __init__(self, scheduler, *, retries=DEFAULT_RETRIES, on_task_start=None, in_flight=None):
        try:
            self.kind, self.target = parse_scheduler(scheduler)
        except ValueError as error:
            raise SchedulerError(str(error)) from None
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise SchedulerError(
                "--scheduler needs the Dask distributed package: pip install 'ccdlab[cluster]'"
            ) from None
        self.scheduler = scheduler
        self.retries = int(retries)
        self.on_task_start = on_task_start
        self.in_flight = in_flight
        #: Workers must grade with this course (see :func:`course_fingerprint`).
        self.course_fingerprint = course_fingerprint()
        self._starts = collections.Counter()

    def __repr__(self):
        return f"DaskExecutor({self.scheduler!r})"

    @property
    def retried(self):
        """How many tasks of the last run started more than once."""
        return sum(1 for count in self._starts.values() if count > 1)

    @contextlib.contextmanager
    def _client(self):
        from distributed import Client, LocalCluster

        if self.kind == "local":
            cluster = LocalCluster(n_workers=self.target, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR)
            with cluster, Client(cluster, set_as_default=False) as client:
                yield client
            return
        try:
            if self.kind == "file":
                client = Client(scheduler_file=str(self.target), timeout=CONNECT_TIMEOUT_S, set_as_default=False)
            else:
                client = Client(self.target, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise SchedulerError(f"cannot reach the Dask scheduler at {self.scheduler} ({error})") from None
        with client:
            if not client.nthreads():
                print(f"ccdlab grade: the scheduler at {self.scheduler} has no workers yet; "
                      "tasks wait until workers join", file=sys.stderr)
            yield client

    def map_unordered(self, function, items, **kwargs):
        """Yield ``(item, result or exception)`` as tasks finish.

        A task that raised (after its retries) or whose workers kept dying
        (``KilledWorker``) yields its exception.  Problems of the cluster end
        the run with :class:`SchedulerError`, since they say nothing about
        the student: a scheduler or worker that cannot import ccdlab, a
        worker with another version of the course or without the sandbox,
        a lost scheduler.
        """
        from distributed import as_completed

        items = list(items)
        self._starts = collections.Counter()
        if not items:
            return
        topic = f"ccdlab-task-started-{uuid.uuid4().hex}"
        owners = {}  # key -> item, while the task is pending

        def started(event):
            _timestamp, info = event
            key = info.get("key") if isinstance(info, dict) else None
            if key in owners:
                self._starts[key] += 1
                if self.on_task_start is not None:
                    self.on_task_start(owners[key], info)

        with self._client() as client:
            client.subscribe_topic(topic, started)
            in_flight = self.in_flight or max(MIN_IN_FLIGHT, 2 * sum(client.nthreads().values()))
            waiting = iter(items)
            futures = as_completed(loop=client.loop)

            def submit_next():
                try:
                    item = next(waiting)
                except StopIteration:
                    return
                name = getattr(item, "student_id", "item")
                key = f"ccdlab-grade-{name}-{uuid.uuid4().hex[:12]}"
                owners[key] = item
                futures.add(client.submit(_run_task, function, item, kwargs, topic, self.course_fingerprint,
                                          key=key, pure=False, retries=self.retries))

            for _ in range(in_flight):
                submit_next()
            for future in futures:
                item = owners.pop(future.key)
                try:
                    outcome = future.result()
                except Exception as error:  # the task's own error, or KilledWorker
                    outcome = error
                except BaseException as error:  # asyncio.CancelledError is not an Exception
                    if not _is_cancelled(error):
                        raise
                    outcome = error
                if _is_cancelled(outcome) or future.status == "cancelled":
                    raise SchedulerError(f"lost the Dask scheduler at {self.scheduler} ({outcome}); "
                                         "students graded so far are kept: run the command again")
                problem = _environment_problem(outcome)
                if problem:
                    raise SchedulerError(problem)
                future.release()
                submit_next()
                yield item, outcome
            with contextlib.suppress(Exception):
                client.unsubscribe_topic(topic)
