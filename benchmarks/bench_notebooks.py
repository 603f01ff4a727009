"""Time each instructor notebook of the lab, run in a fresh kernel on the bundled data.

Run on demand (it is not part of the test suite)::

    .venv/bin/python benchmarks/bench_notebooks.py             # every notebook, best of 3
    .venv/bin/python benchmarks/bench_notebooks.py --repeats 1 04_stacking

Every run copies the notebook into its own temporary folder and executes it
there with nbclient in a new ``python3`` kernel whose working directory is
that folder, so the products a notebook writes (``Reduced_data/``) never land
in the repository.  ``CCDLAB_DATA`` is removed from the environment, so the
notebooks read the bundled frames in ``sample_data/frames``.

For each notebook it prints the best and all wall-clock times of

* ``cells``: from the kernel being ready to the last cell finished -- the
  time a student waits after "Restart Kernel and Run All Cells";
* ``total``: the same plus starting and stopping the kernel;

and the slowest cell of the best run.  The target is ``cells`` under 10 s.
A notebook that raises fails the run (exit status 1).
"""

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from autograder import course

#: The issue's target: each notebook runs in under this many seconds.
TARGET_SECONDS = 10.0

#: Longest time one cell may take before the run is abandoned, seconds.
CELL_TIMEOUT_S = 300


def run_notebook(source, kernel_name="python3"):
    """Execute a copy of ``source`` in a fresh kernel; return its timings.

    Parameters
    ----------
    source : pathlib.Path
        Notebook to run.  It is only read.
    kernel_name : str
        Jupyter kernel to start.

    Returns
    -------
    dict
        ``total`` and ``cells`` seconds (see the module docstring),
        ``slowest_cell`` (index, seconds, first line of its source) and
        ``error`` (None, or the error's first line).
    """
    with tempfile.TemporaryDirectory(prefix="ccdlab-nb-") as folder:
        copy = Path(folder) / source.name
        shutil.copy(source, copy)
        notebook = nbformat.read(str(copy), as_version=4)
        marks = {}
        cell_seconds = {}

        def notebook_started(**_):
            marks["ready"] = time.perf_counter()

        def cell_started(cell, cell_index, **_):
            marks[cell_index] = time.perf_counter()

        def cell_finished(cell, cell_index, **_):
            cell_seconds[cell_index] = time.perf_counter() - marks[cell_index]
            marks["last"] = time.perf_counter()

        client = NotebookClient(
            notebook,
            timeout=CELL_TIMEOUT_S,
            kernel_name=kernel_name,
            resources={"metadata": {"path": folder}},
            on_notebook_start=notebook_started,
            on_cell_start=cell_started,
            on_cell_executed=cell_finished,  # called on the kernel's reply
        )
        error = None
        start = time.perf_counter()
        try:
            client.execute()
        except CellExecutionError as exc:
            error = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        total = time.perf_counter() - start
    cells = marks.get("last", start) - marks.get("ready", start)
    slowest = max(cell_seconds, key=cell_seconds.get) if cell_seconds else None
    slowest_cell = None
    if slowest is not None:
        first_line = notebook.cells[slowest].source.strip().splitlines()
        slowest_cell = (slowest, cell_seconds[slowest], first_line[0][:60] if first_line else "")
    return {"total": total, "cells": cells, "slowest_cell": slowest_cell, "error": error}


def reduced_folders(root):
    """Every ``Reduced_data`` folder under ``root`` (hidden folders such as .venv skipped)."""
    found = []
    for folder, subfolders, _ in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name != "node_modules"]
        if Path(folder).name == "Reduced_data":
            found.append(folder)
    return sorted(found)


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Time each instructor notebook in a fresh kernel on the bundled data.")
    parser.add_argument("notebooks", nargs="*",
                        help="notebook names (e.g. 04_stacking); default every notebook of the assignment")
    parser.add_argument("--repeats", type=int, default=3, help="runs per notebook, each in a new kernel (default 3)")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    source_dir = course.source_dir()
    available = sorted(source_dir.glob("*.ipynb"))
    if args.notebooks:
        wanted = [name[:-6] if name.endswith(".ipynb") else name for name in args.notebooks]
        missing = [name for name in wanted if not (source_dir / f"{name}.ipynb").exists()]
        if missing:
            print(f"bench_notebooks: no such notebook in {source_dir}: {', '.join(missing)}", file=sys.stderr)
            return 2
        notebooks = [source_dir / f"{name}.ipynb" for name in wanted]
    else:
        notebooks = available
    os.environ.pop("CCDLAB_DATA", None)  # the bundled frames
    before = reduced_folders(course.REPO_ROOT)

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    print(f"machine: {cpus} CPUs ({_cpu_model()}); Python {platform.python_version()}; kernel {args.kernel}")
    print(f"command: python benchmarks/bench_notebooks.py {' '.join(argv)}".rstrip())
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")
    print()
    header = f"{'notebook':<20} {'cells s':>8} {'total s':>8}  {'all runs, cells (s)':<22} slowest cell (best run)"
    print(header)
    print("-" * len(header))
    failures = []
    for path in notebooks:
        runs = [run_notebook(path, args.kernel) for _ in range(args.repeats)]
        errors = [run["error"] for run in runs if run["error"]]
        best = min(runs, key=lambda run: run["cells"])
        listing = ", ".join(f"{run['cells']:.2f}" for run in runs)
        slowest = best["slowest_cell"]
        slow_text = f"#{slowest[0]} {slowest[1]:.2f} s: {slowest[2]}" if slowest else ""
        print(f"{path.stem:<20} {best['cells']:8.2f} {best['total']:8.2f}  {listing:<22} {slow_text}", flush=True)
        if errors:
            failures.append(f"{path.stem}: {errors[0]}")
        elif best["cells"] >= TARGET_SECONDS:
            failures.append(f"{path.stem}: {best['cells']:.1f} s, not under {TARGET_SECONDS:g} s")
    print()
    print(f"load average (1 min) at end: {os.getloadavg()[0]:.2f}")
    after = reduced_folders(course.REPO_ROOT)
    if after != before:
        failures.append(f"new Reduced_data folders in the repository: {sorted(set(after) - set(before))}")
    for failure in failures:
        print(f"[FAIL] {failure}")
    if not failures:
        print(f"[PASS] every notebook ran without error in under {TARGET_SECONDS:g} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
