"""Time the reference reduction against ccdproc and against a lower bound.

Run on demand (it is not part of the test suite)::

    .venv/bin/python benchmarks/bench_reduction.py              # 1024 x 1024
    .venv/bin/python benchmarks/bench_reduction.py --size 2048
    .venv/bin/python benchmarks/bench_reduction.py --size 4096 --repeats 1

What it does, in one run:

1. ``ccdlab data --size N --out TMP/raw`` writes a simulated night of full-size
   frames (20 bias, 10 darks, 5 flats, 1 science frame) into a temporary
   folder, which is removed at the end (``--data DIR`` reuses a folder that
   already holds a night instead).
2. Three pipelines run one after the other, each in its own fresh Python
   process so that their memory peaks do not mix:

   ``reference``
       ``solutions.combine_bias``, ``combine_darks``, ``combine_flats``, the
       three masters written with ``save_fits`` and ``process_data`` on the
       science frame -- exactly what the lab's notebooks do.
   ``ccdproc``
       the same reduction written with ccdproc: ``ccdproc.combine`` with
       ``method='median'``, ``subtract_bias``, ``subtract_dark`` scaled by
       EXPTIME, ``flat_correct`` with the flat normalized by its median (as
       the lab defines the master flat), every product written with
       ``CCDData.write``.  ccdproc's defaults are kept (float64, an
       uncertainty from the median absolute deviation); its median is much
       faster when the optional package ``bottleneck`` is installed, which
       is not a dependency of ccdlab -- the machine line says whether it is.
   ``lower-bound``
       what any median-combining reduction must at least do: read every
       frame once into a float32 stack and take one ``np.median`` along
       axis 0 per stack (``overwrite_input=True``).

   Each process times ``--repeats`` runs (the best counts; wall-clock and
   CPU seconds) and measures its memory in two ways:

   * the peak resident size of its first run (``VmHWM`` from
     ``/proc/self/status``) above the resident size it had right after its
     imports -- the working memory a user sees in a fresh kernel.  Later
     runs are not used for this because the C allocator may keep freed
     memory from one run to the next; the largest ``VmHWM`` of all runs,
     imports included, is reported as the whole process's peak;
   * the peak of ``tracemalloc`` in one more, untimed run (numpy reports its
     arrays to it, so this counts the arrays alive at once, independent of
     the allocator).
3. It prints the seconds, the ratios reference/ccdproc and
   reference/lower bound, the memory peaks in units of one float32 stack of
   the largest set (20 bias frames x ny x nx x 4 bytes), the largest
   relative difference between the two calibrated science frames, and
   whether the acceptance targets hold.

The figures depend on the machine and on what else it is doing; the ratios,
measured in the same run, much less so (CPU seconds are printed beside the
wall-clock ones for the same reason).  ``--json FILE`` also saves every
number.  The exit status is 1 when an acceptance target is missed.
"""

import argparse
import gc
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from importlib import metadata
from pathlib import Path

from convenience_functions import lab

#: Pipelines in the order they run.
PIPELINES = ("lower-bound", "reference", "ccdproc")

#: Acceptance targets of the performance issue.
TARGET_SPEEDUP_VS_CCDPROC = 3.0
TARGET_RATIO_VS_LOWER_BOUND = 1.5
TARGET_MEMORY_IN_STACKS = 1.5
TARGET_RELATIVE_DIFFERENCE = 1e-5
TARGET_PEAK_BYTES_4096 = 8 * 1024**3

MIB = 1024**2

#: ccdproc's working memory, in float32 stacks of the largest set, as measured
#: at 1024 and 2048 pixels (about 10); used to skip it where it cannot fit.
CCDPROC_STACKS = 11


# =============================================================================
# Memory of the current process
# =============================================================================


def _status_bytes(field):
    """A ``kB`` field of ``/proc/self/status`` in bytes (None where unavailable)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak_rss():
    """Reset VmHWM to the current resident size; False if the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def _peak_rss():
    """Peak resident size of this process in bytes (since the last reset, if any)."""
    peak = _status_bytes("VmHWM")
    if peak is None:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    return peak


# =============================================================================
# The night and the three pipelines (run inside the worker processes)
# =============================================================================


def night_files(folder):
    """Paths of the lab's frames in ``folder``: dict of lists (and one science path)."""
    folder = Path(folder)

    def paths(names):
        return [str(folder / name) for name in names]

    return {
        "bias": paths(lab.BIAS_FILES),
        "dark": paths(lab.DARK_FILES),
        "flat": paths(lab.FLAT_FILES),
        "science": str(folder / lab.SCIENCE_FILE),
    }


class Laps:
    """Seconds spent in each named step of one run."""

    def __init__(self):
        self.steps = {}
        self._last = time.perf_counter()

    def lap(self, name):
        now = time.perf_counter()
        self.steps[name] = self.steps.get(name, 0.0) + now - self._last
        self._last = now


def product_paths(out_dir):
    """Where every pipeline writes its masters and its calibrated frame."""
    out_dir = Path(out_dir)
    return {
        "bias": str(out_dir / lab.MASTER_BIAS_FILE),
        "dark": str(out_dir / lab.MASTER_DARK_FILE),
        "flat": str(out_dir / lab.MASTER_FLAT_FILE),
        "science": str(out_dir / lab.CALIBRATED_SCIENCE_FILE),
    }


def setup_reference():
    """Import what the reference pipeline needs; return the pipeline."""
    from astropy.io import fits

    import solutions

    def run(night, out_dir, laps):
        products = product_paths(out_dir)
        bias = solutions.combine_bias(night["bias"])
        laps.lap("master bias")
        dark = solutions.combine_darks(night["dark"], bias)
        laps.lap("master dark")
        dark_exptime = fits.getheader(night["dark"][0])["EXPTIME"]
        flat = solutions.combine_flats(night["flat"], bias, dark, dark_exptime)
        laps.lap("master flat")
        solutions.save_fits(bias, night["bias"][0], "master bias: median of the bias frames", products["bias"])
        solutions.save_fits(dark, night["dark"][0], "master dark: median of bias-subtracted darks", products["dark"])
        solutions.save_fits(flat, night["flat"][0], "master flat: median-normalized", products["flat"])
        laps.lap("write masters")
        solutions.process_data(night["science"], products["science"], products["bias"], products["dark"],
                               products["flat"])
        laps.lap("process_data")

    return run


def setup_ccdproc():
    """Import ccdproc; return the same reduction written with it."""
    import warnings

    import astropy.units as u
    import ccdproc
    import numpy as np
    from astropy.nddata import CCDData
    from astropy.wcs import FITSFixedWarning

    def read(path):
        return CCDData.read(path, unit="adu")

    def run(night, out_dir, laps):
        products = product_paths(out_dir)
        with warnings.catch_warnings():
            # CCDData.read parses the WCS and notes that it derived MJD-OBS from DATE-OBS.
            warnings.simplefilter("ignore", FITSFixedWarning)
            bias = ccdproc.combine(night["bias"], method="median", unit="adu")
            laps.lap("master bias")
            darks = [ccdproc.subtract_bias(read(path), bias) for path in night["dark"]]
            dark = ccdproc.combine(darks, method="median")
            del darks
            laps.lap("master dark")

            def remove_bias_and_dark(path):
                frame = ccdproc.subtract_bias(read(path), bias)
                return ccdproc.subtract_dark(frame, dark, exposure_time="EXPTIME", exposure_unit=u.s, scale=True)

            flats = [remove_bias_and_dark(path) for path in night["flat"]]
            flat = ccdproc.combine(flats, method="median")
            del flats
            # The lab's master flat is normalized by its median (flat_correct would use the mean).
            flat = flat.divide(np.median(flat.data) * u.adu)
            laps.lap("master flat")
            bias.write(products["bias"], overwrite=True)
            dark.write(products["dark"], overwrite=True)
            flat.write(products["flat"], overwrite=True)
            laps.lap("write masters")
            science = remove_bias_and_dark(night["science"])
            science = ccdproc.flat_correct(science, flat, norm_value=1.0)
            science.write(products["science"], overwrite=True)
            laps.lap("calibrate science")

    return run


def setup_lower_bound():
    """Import numpy and astropy.io.fits; return the read-and-median lower bound."""
    import numpy as np
    from astropy.io import fits

    def median_of_files(paths):
        first = fits.getdata(paths[0], memmap=False)
        stack = np.empty((len(paths),) + first.shape, dtype=np.float32)
        stack[0] = first
        del first
        for index, path in enumerate(paths[1:], start=1):
            stack[index] = fits.getdata(path, memmap=False)
        return np.median(stack, axis=0, overwrite_input=True)

    def run(night, out_dir, laps):
        for kind in ("bias", "dark", "flat"):
            median_of_files(night[kind])
            laps.lap(f"read + median {kind}")
        fits.getdata(night["science"], memmap=False)
        laps.lap("read science")

    return run


SETUPS = {"reference": setup_reference, "ccdproc": setup_ccdproc, "lower-bound": setup_lower_bound}


def worker(pipeline, data_dir, out_dir, repeats, result_file):
    """Run one pipeline ``repeats`` times (timed) plus once under tracemalloc; save a JSON report."""
    t0 = time.perf_counter()
    run = SETUPS[pipeline]()
    import_seconds = time.perf_counter() - t0
    night = night_files(data_dir)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    gc.collect()
    baseline_rss = _status_bytes("VmRSS")
    resettable = _reset_peak_rss()
    runs = []
    for _ in range(repeats):
        gc.collect()
        rss_before = _status_bytes("VmRSS")
        _reset_peak_rss()
        laps = Laps()
        cpu_start = time.process_time()
        start = time.perf_counter()
        run(night, out_dir, laps)
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu_start
        runs.append({"seconds": seconds, "cpu_seconds": cpu_seconds, "steps": laps.steps, "peak_rss": _peak_rss(),
                     "rss_before": rss_before})
    gc.collect()
    tracemalloc.start()
    run(night, out_dir, Laps())
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    best = min(runs, key=lambda r: r["seconds"])
    peak_rss = max(r["peak_rss"] for r in runs)
    report = {
        "pipeline": pipeline,
        "import_seconds": import_seconds,
        "seconds": [r["seconds"] for r in runs],
        "best_seconds": best["seconds"],
        "cpu_seconds": [r["cpu_seconds"] for r in runs],
        "best_cpu_seconds": min(r["cpu_seconds"] for r in runs),
        "best_steps": best["steps"],
        "baseline_rss": baseline_rss,
        "peak_rss": peak_rss,
        "peak_rss_reset_per_run": resettable,
        "peak_rss_per_run": [r["peak_rss"] for r in runs],
        "rss_before_run": [r["rss_before"] for r in runs],
        # The first run starts from the state right after the imports, as in a
        # fresh kernel; later runs may start with memory that the C allocator
        # kept from the run before (see the module docstring).
        "working_memory": None if baseline_rss is None else runs[0]["peak_rss"] - baseline_rss,
        "tracemalloc_peak": traced_peak,
        "products": product_paths(out_dir) if pipeline != "lower-bound" else None,
    }
    Path(result_file).write_text(json.dumps(report, indent=1))


# =============================================================================
# The parent: make the data, start the workers, compare, report
# =============================================================================


def ccdlab_command():
    """The ``ccdlab`` entry point of this interpreter's environment."""
    beside = Path(sys.executable).with_name("ccdlab")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ccdlab")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from autograder.cli import main; sys.exit(main())"]


def make_night(size, out_dir):
    """Write a simulated night of ``size`` frames with ``ccdlab data``; return seconds taken."""
    command = ccdlab_command() + ["data", "--size", str(size), "--out", str(out_dir)]
    print("$ " + " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def run_worker(pipeline, data_dir, work_dir, repeats):
    """Run one pipeline in a fresh interpreter; return its report."""
    result_file = Path(work_dir) / f"{pipeline}.json"
    command = [
        sys.executable, os.path.abspath(__file__), "--worker", pipeline, "--data", str(data_dir),
        "--out", str(Path(work_dir) / pipeline), "--repeats", str(repeats), "--result", str(result_file),
    ]
    print(f"running {pipeline} ({repeats} timed runs + 1 under tracemalloc) ...", flush=True)
    subprocess.run(command, check=True)
    return json.loads(result_file.read_text())


def max_relative_difference(ours_path, theirs_path):
    """Largest |ours - theirs| / |theirs| over pixels, and the largest |ours - theirs|."""
    import numpy as np
    from astropy.io import fits

    ours = fits.getdata(ours_path).astype(np.float64)
    theirs = fits.getdata(theirs_path, ext=0).astype(np.float64)
    difference = np.abs(ours - theirs)
    scale = np.abs(theirs)
    nonzero = scale > 0
    relative = float(np.max(difference[nonzero] / scale[nonzero])) if nonzero.any() else 0.0
    return relative, float(difference.max())


def frame_shape(data_dir):
    """(ny, nx) of the first bias frame."""
    from astropy.io import fits

    header = fits.getheader(night_files(data_dir)["bias"][0])
    return int(header["NAXIS2"]), int(header["NAXIS1"])


def machine():
    """What the figures were measured on."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = _meminfo_bytes("MemTotal")
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    versions = {}
    for package in ("numpy", "astropy", "ccdproc", "bottleneck"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpus": usable,
        "cpu_model": model,
        "memory_bytes": memory,
        "python": platform.python_version(),
        "versions": versions,
    }


def _meminfo_bytes(field):
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _load():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _mib(value):
    return "n/a" if value is None else f"{value / MIB:8.1f}"


def _verdict(ok):
    return "PASS" if ok else "FAIL"


def report(results, shape, stack_bytes, difference, info, command, loads):
    """Print the table, the ratios and the acceptance checks; return the summary dict."""
    ny, nx = shape
    gib = info["memory_bytes"] / 1024**3 if info["memory_bytes"] else float("nan")
    print()
    print(f"machine: {info['cpus']} CPUs ({info['cpu_model']}), {gib:.1f} GiB RAM; Python {info['python']}, "
          + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    print(f"frames: {ny} x {nx} pixels; one float32 stack of the 20 bias frames = {stack_bytes / MIB:.1f} MiB")
    print(f"load average (1 min) before/after: {loads[0]:.2f} / {loads[1]:.2f}")
    print(f"command: {command}")
    print()
    header = (f"{'pipeline':<12} {'best s':>8} {'CPU s':>7} {'all runs (s)':<22} {'peak RSS MiB':>12} "
              f"{'above imports':>13} {'tracemalloc':>11} {'work/stack':>10}")
    print(header)
    print("-" * len(header))
    for name in PIPELINES:
        if name not in results:
            continue
        r = results[name]
        runs = ", ".join(f"{s:.2f}" for s in r["seconds"])
        in_stacks = r["working_memory"] / stack_bytes if r["working_memory"] is not None else float("nan")
        print(f"{name:<12} {r['best_seconds']:8.3f} {r['best_cpu_seconds']:7.3f} {runs:<22} {_mib(r['peak_rss']):>12} "
              f"{_mib(r['working_memory']):>13} {_mib(r['tracemalloc_peak']):>11} {in_stacks:10.2f}")
    print()
    for name in PIPELINES:
        if name in results:
            steps = ", ".join(f"{k} {v:.3f}" for k, v in results[name]["best_steps"].items())
            print(f"{name} steps (best run, s): {steps}")
    print()

    summary = {}
    checks = []
    ref = results.get("reference")
    if ref and "ccdproc" in results:
        speedup = results["ccdproc"]["best_seconds"] / ref["best_seconds"]
        summary["ccdproc_over_reference"] = speedup
        cpu = results["ccdproc"]["best_cpu_seconds"] / ref["best_cpu_seconds"]
        summary["ccdproc_over_reference_cpu"] = cpu
        print(f"reference / ccdproc time      = {1 / speedup:.3f}  (reference {speedup:.2f}x faster; "
              f"target >= {TARGET_SPEEDUP_VS_CCDPROC:g}x; in CPU time {cpu:.2f}x)")
        checks.append((f"reference >= {TARGET_SPEEDUP_VS_CCDPROC:g}x faster than ccdproc",
                       speedup >= TARGET_SPEEDUP_VS_CCDPROC))
    if ref and "lower-bound" in results:
        ratio = ref["best_seconds"] / results["lower-bound"]["best_seconds"]
        summary["reference_over_lower_bound"] = ratio
        cpu = ref["best_cpu_seconds"] / results["lower-bound"]["best_cpu_seconds"]
        summary["reference_over_lower_bound_cpu"] = cpu
        print(f"reference / lower bound time  = {ratio:.3f}  (target <= {TARGET_RATIO_VS_LOWER_BOUND:g}; "
              f"in CPU time {cpu:.3f})")
        checks.append((f"reference within {TARGET_RATIO_VS_LOWER_BOUND:g}x of the lower bound",
                       ratio <= TARGET_RATIO_VS_LOWER_BOUND))
    if ref:
        work = ref["working_memory"]
        traced = ref["tracemalloc_peak"]
        summary["reference_working_memory_in_stacks"] = None if work is None else work / stack_bytes
        summary["reference_tracemalloc_in_stacks"] = traced / stack_bytes
        print(f"reference memory above imports = {_mib(work).strip()} MiB = "
              f"{summary['reference_working_memory_in_stacks']:.2f} float32 stacks; tracemalloc peak "
              f"{traced / stack_bytes:.2f} stacks (target <= {TARGET_MEMORY_IN_STACKS:g})")
        print(f"reference peak RSS (whole process) = {ref['peak_rss'] / 1024**3:.3f} GiB")
        checks.append((f"reference memory <= {TARGET_MEMORY_IN_STACKS:g} float32 stacks",
                       work is not None and work <= TARGET_MEMORY_IN_STACKS * stack_bytes
                       and traced <= TARGET_MEMORY_IN_STACKS * stack_bytes))
        if (ny, nx) == (4096, 4096):
            checks.append(("reference peak RSS at 4096 x 4096 within 8 GB",
                           ref["peak_rss"] <= TARGET_PEAK_BYTES_4096))
    if difference is not None:
        relative, absolute = difference
        summary["max_relative_difference"] = relative
        print(f"calibrated science, reference vs ccdproc: max relative difference {relative:.2e} "
              f"(max absolute {absolute:.2e} ADU; target <= {TARGET_RELATIVE_DIFFERENCE:g})")
        checks.append((f"results agree with ccdproc to {TARGET_RELATIVE_DIFFERENCE:g} relative",
                       relative <= TARGET_RELATIVE_DIFFERENCE))
    print()
    for text, ok in checks:
        print(f"[{_verdict(ok)}] {text}")
    summary["checks"] = {text: ok for text, ok in checks}
    return summary


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Time the reference CCD reduction against ccdproc and a read-plus-median lower bound.")
    parser.add_argument("--size", default="1024", help="frame size for ccdlab data, N or NYxNX (default 1024)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per pipeline; the best counts (default 3)")
    parser.add_argument("--data", default=None,
                        help="use the night already in this folder instead of generating one (--size is ignored)")
    parser.add_argument("--pipelines", default=None,
                        help=f"comma-separated subset of {','.join(PIPELINES)} (default all; ccdproc is "
                             "left out when it would need more than 80%% of the available memory)")
    parser.add_argument("--json", default=None, help="also write every number to this JSON file")
    parser.add_argument("--worker", choices=PIPELINES, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    args.chosen = args.pipelines is not None
    chosen = [name.strip() for name in (args.pipelines or ",".join(PIPELINES)).split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(PIPELINES))
    if unknown or not chosen:
        parser.error(f"--pipelines: unknown {unknown}; choose from {', '.join(PIPELINES)}")
    args.pipelines = [name for name in PIPELINES if name in chosen]
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.worker:
        worker(args.worker, args.data, args.out, args.repeats, args.result)
        return 0

    command = "python benchmarks/bench_reduction.py " + " ".join(argv)
    info = machine()
    loads = [_load()]
    with tempfile.TemporaryDirectory(prefix="ccdlab-bench-") as work_dir:
        if args.data is None:
            data_dir = Path(work_dir) / "raw"
            seconds = make_night(args.size, data_dir)
            print(f"generated the night in {seconds:.1f} s")
        else:
            data_dir = Path(args.data)
        shape = frame_shape(data_dir)
        stack_bytes = len(lab.BIAS_FILES) * shape[0] * shape[1] * 4
        pipelines = list(args.pipelines)
        available = _meminfo_bytes("MemAvailable")
        if "ccdproc" in pipelines and not args.chosen and available is not None \
                and CCDPROC_STACKS * stack_bytes > 0.8 * available:
            print(f"leaving out ccdproc: it needs about {CCDPROC_STACKS} x {stack_bytes / MIB:.0f} MiB and "
                  f"{available / MIB:.0f} MiB are available (ask for it with --pipelines)")
            pipelines.remove("ccdproc")
        results = {name: run_worker(name, data_dir, work_dir, args.repeats) for name in pipelines}
        difference = None
        if "reference" in results and "ccdproc" in results:
            difference = max_relative_difference(results["reference"]["products"]["science"],
                                                 results["ccdproc"]["products"]["science"])
        loads.append(_load())
        summary = report(results, shape, stack_bytes, difference, info, command, loads)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "command": command, "machine": info, "shape": shape, "stack_bytes": stack_bytes,
            "load_average": loads, "results": results, "summary": summary,
        }, indent=1))
    return 0 if all(summary["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
