"""Where the per-student grading tasks run: a local process pool (Dask's executor is in dask_executor).

An executor has one method, ``map_unordered(function, items, **kwargs)``,
that yields ``(item, result or exception)`` as tasks finish.
"""

import concurrent.futures
import multiprocessing


class ExecutorError(RuntimeError):
    """The executor cannot grade (no scheduler, no workers); says nothing about a student."""


class LocalExecutor:
    """Grade in a pool of local processes (one kernel at a time each)."""

    def __init__(self, jobs):
        self.jobs = max(1, int(jobs))

    def map_unordered(self, function, items, **kwargs):
        """Yield ``(item, result or exception)`` as tasks finish."""
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(self.jobs, mp_context=context) as pool:
            futures = {pool.submit(function, item, **kwargs): item for item in items}
            for future in concurrent.futures.as_completed(futures):
                try:
                    yield futures[future], future.result()
                except Exception as error:  # a crashed worker is reported, not fatal
                    yield futures[future], error
