"""Time grading a class: plain nbgrader against ``ccdlab grade`` locally and on Dask.

Run on demand (it is not part of the test suite)::

    .venv/bin/python benchmarks/bench_grading.py                 # 40 students
    .venv/bin/python benchmarks/bench_grading.py --count 8
    .venv/bin/python benchmarks/bench_grading.py --variants jobs2,local:2

What it does, in one run:

1. Writes ``--count`` correct submissions (``tests/classbatch.py``'s perfect
   student under the ids ``student000``, ``student001``, ...) into a
   temporary folder, removed at the end unless ``--keep DIR`` is given.
2. Grades them in each variant, one after the other, each in a fresh folder:

   ``nbgrader``
       plain sequential ``nbgrader autograde ccd_reduction``, then
       ``nbgrader generate_feedback ccd_reduction``, run as commands in a
       course folder set up with this repository's nbgrader configuration
       (``autograder.course.nbgrader_config``: the same preprocessors and
       cell timeout as ``ccdlab grade``), the submissions copied into its
       ``submitted/`` folder.  Both commands' seconds are printed; the
       baseline is their sum, since ``ccdlab grade`` writes feedback too.
   ``jobs1``, ``jobs2``
       ``ccdlab grade SUBMISSIONS --out RESULTS --jobs N``.
   ``local:2`` (or any ``local:N``)
       ``ccdlab grade SUBMISSIONS --out RESULTS --scheduler local:N``: a Dask
       LocalCluster of N worker processes, started and closed by the command.

   Every ``ccdlab grade`` run is checked: one row per student in
   ``grades.csv``, status ``ok`` and every auto-graded point earned.
3. Prints, per variant, the wall-clock seconds of the whole command (start-up
   and course preparation included), seconds per student, the speed-up over
   the nbgrader baseline, the mean seconds one student took inside its task
   (``seconds`` in ``grading-state.json``) and the overhead per student:
   ``wall x parallel tasks / count - mean task seconds``, i.e. what the
   coordinator, the pool or the cluster and the transfer of results cost
   per student beyond grading itself.  For a ``local:N`` variant it also
   prints the overhead per student beside ``jobsN``, and the seconds to
   start and close an idle LocalCluster of N workers (a fixed cost).
4. With a ``local:N`` variant, it also times the transport alone: every
   submission sent to a task that grades nothing and returns as many bytes
   as a real student's result (its autograded notebooks and feedback), in
   the local pool and on the LocalCluster: once with one task (start-up
   included), once with all; the difference per further student is the
   executor's own cost per student.

Timings depend on what else the machine does (the load average is printed);
compare the ratios of one run.  ``--json FILE`` also saves every number.
The exit status is 1 when a ``ccdlab grade`` run gives wrong grades.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import classbatch  # noqa: E402

from autograder import classgrade, course, report  # noqa: E402

VARIANTS = ("nbgrader", "jobs1", "jobs2", "local:2")
DEFAULT_COUNT = 40


def scripts(name):
    """A command installed beside this interpreter (ccdlab, nbgrader)."""
    return str(Path(sys.executable).parent / name)


def write_class(folder, count):
    """``count`` perfect students in nbgrader's layout; return their ids."""
    folder.mkdir(parents=True)
    ids = [f"student{index:03d}" for index in range(count)]
    classbatch.correct(folder, student_id=ids[0])
    for student in ids[1:]:
        shutil.copytree(folder / ids[0], folder / student)
    return ids


def run_nbgrader(submissions, work, timeout):
    """Plain sequential nbgrader; return ``{"autograde": s, "generate_feedback": s}``."""
    root = work / "nbgrader-course"
    root.mkdir()
    classgrade.prepare_results_course(root)
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(f"c.Execute.timeout = {int(timeout)}\n")
    shutil.copytree(submissions, root / "submitted")
    seconds = {}
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    for step in ("autograde", "generate_feedback"):
        started = time.perf_counter()
        done = subprocess.run([scripts("nbgrader"), step, course.ASSIGNMENT_ID, "--force"], cwd=root, env=env,
                              capture_output=True, text=True)
        seconds[step] = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"nbgrader {step} failed:\n{done.stderr[-3000:]}")
    return seconds


def run_ccdlab(submissions, out, option, timeout):
    """``ccdlab grade`` with ``option`` (``jobsN`` or ``local:N``); return seconds and per-student task seconds."""
    argv = [scripts("ccdlab"), "grade", str(submissions), "--out", str(out), "--timeout", str(timeout)]
    argv += ["--jobs", option[4:]] if option.startswith("jobs") else ["--scheduler", option]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"ccdlab grade {option} failed:\n{done.stderr[-3000:]}")
    state = json.loads((out / classgrade.STATE_FILE).read_text())
    return seconds, [entry["seconds"] for entry in state.values()], done.stdout.strip()


def check_grades(out, ids):
    """Problems with ``out/grades.csv`` for a class of perfect students (empty when right)."""
    expected = classbatch.expected_scores("correct", classbatch.grade_cells())
    rows = report.read_csv(out / report.CSV_FILE)
    problems = []
    if sorted(row["student_id"] for row in rows) != sorted(ids):
        problems.append(f"{out}: students {sorted(row['student_id'] for row in rows)} instead of {len(ids)}")
    for row in rows:
        got = {grade_id: float(row[grade_id] or 0) for grade_id in expected}
        if row["status"] != "ok" or got != {k: float(v) for k, v in expected.items()}:
            problems.append(f"{out}: {row['student_id']} {row['status']} {row['reason']} {got}")
    return problems


def cluster_start_seconds(workers):
    """Seconds to start and close an idle LocalCluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    started = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.wait_for_workers(workers)
    return time.perf_counter() - started


def _send_back(submission, *, result):
    """A task that grades nothing: it takes a submission and returns a result's worth of data."""
    return len(submission.notebooks), result


def transport_seconds(submissions, result_bytes, executor):
    """Seconds to pass every submission through ``executor`` and get ``result_bytes`` back for each."""
    started = time.perf_counter()
    for _submission, outcome in executor.map_unordered(_send_back, submissions, result=result_bytes):
        if isinstance(outcome, BaseException):
            raise SystemExit(f"transport check failed: {outcome!r}")
    return time.perf_counter() - started


def result_payload(out, student):
    """What one student's result carries back: its autograded notebooks and feedback, as bytes."""
    parts = [path.read_bytes() for step in ("autograded", "feedback")
             for path in sorted((out / step / student).rglob("*")) if path.is_file()]
    return b"".join(parts)


def parallel_tasks(variant):
    if variant.startswith("jobs"):
        return int(variant[4:])
    return int(variant.partition(":")[2])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help=f"students (default {DEFAULT_COUNT})")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, from nbgrader, jobsN, local:N (default {','.join(VARIANTS)})")
    parser.add_argument("--timeout", type=int, default=30, help="seconds one cell may run (default 30)")
    parser.add_argument("--keep", metavar="DIR", default=None, help="work in DIR and keep it")
    parser.add_argument("--json", metavar="FILE", default=None, help="also save the numbers as JSON")
    args = parser.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for variant in variants:
        if variant != "nbgrader" and not (variant.startswith("jobs") and variant[4:].isdigit()) \
                and not (variant.startswith("local:") and variant[6:].isdigit()):
            parser.error(f"unknown variant {variant!r}")
    if args.count < 1:
        parser.error("--count must be at least 1")

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ccdlab-bench-grading-"))
    work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    numbers = {"count": args.count, "cores": os.cpu_count(), "load_before": load, "variants": {}}
    problems = []
    try:
        submissions = work / "submissions"
        ids = write_class(submissions, args.count)
        print(f"{args.count} correct submissions in {submissions}")
        for variant in variants:
            print(f"grading with {variant} ...", flush=True)
            if variant == "nbgrader":
                steps = run_nbgrader(submissions, work, args.timeout)
                numbers["variants"][variant] = {"seconds": sum(steps.values()), "steps": steps}
                continue
            out = work / f"results-{variant.replace(':', '')}"
            seconds, task_seconds, summary = run_ccdlab(submissions, out, variant, args.timeout)
            problems += check_grades(out, ids)
            mean_task = sum(task_seconds) / len(task_seconds)
            numbers["variants"][variant] = {
                "seconds": seconds, "mean_task_seconds": mean_task,
                "overhead_per_student": seconds * parallel_tasks(variant) / args.count - mean_task,
                "summary": summary,
            }
        for variant in variants:
            if variant.startswith("local:"):
                numbers["variants"][variant]["cluster_start_close_seconds"] = \
                    cluster_start_seconds(parallel_tasks(variant))
        graded = [work / f"results-{v.replace(':', '')}" for v in variants if v != "nbgrader"]
        if graded and any(v.startswith("local:") for v in variants):
            from autograder.classgrade import LocalExecutor
            from autograder.dask_executor import DaskExecutor
            from autograder.submissions import find_submissions

            found = find_submissions(submissions)
            payload = result_payload(graded[0], ids[0])
            workers = next(parallel_tasks(v) for v in variants if v.startswith("local:"))
            numbers["transport"] = {
                "result_bytes": len(payload),
                "submission_bytes": sum(len(b) for b in found[0].notebooks.values()),
            }
            for name, make in ((f"jobs{workers}", lambda: LocalExecutor(workers)),
                               (f"local:{workers}", lambda: DaskExecutor(f"local:{workers}"))):
                one = transport_seconds(found[:1], payload, make())
                every = transport_seconds(found, payload, make())
                numbers["transport"][name] = {
                    "one_task_seconds": one, "all_tasks_seconds": every,
                    "seconds_per_student": (every - one) / max(1, len(found) - 1),
                }
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    base = numbers["variants"].get("nbgrader", {}).get("seconds")
    print()
    print(f"{'variant':<10} {'seconds':>9} {'s/student':>10} {'speed-up':>9} {'task s':>8} {'overhead s':>11}")
    for variant, row in numbers["variants"].items():
        per = row["seconds"] / args.count
        speedup = f"{base / row['seconds']:.2f}x" if base else "-"
        task = f"{row['mean_task_seconds']:.1f}" if "mean_task_seconds" in row else "-"
        overhead = f"{row['overhead_per_student']:+.2f}" if "overhead_per_student" in row else "-"
        print(f"{variant:<10} {row['seconds']:>9.1f} {per:>10.2f} {speedup:>9} {task:>8} {overhead:>11}")
        if "steps" in row:
            print("           (" + ", ".join(f"nbgrader {k} {v:.1f} s" for k, v in row["steps"].items()) + ")")
    for variant, row in numbers["variants"].items():
        if not variant.startswith("local:"):
            continue
        workers = parallel_tasks(variant)
        print(f"{variant}: idle LocalCluster of {workers} started and closed in "
              f"{row['cluster_start_close_seconds']:.1f} s")
        twin = numbers["variants"].get(f"jobs{workers}")
        if twin:
            extra = (row["seconds"] - twin["seconds"]) / args.count
            row["extra_seconds_per_student_vs_jobs"] = extra
            print(f"{variant}: {extra:+.2f} s per student of wall-clock beside jobs{workers} "
                  f"(overhead {row['overhead_per_student']:+.2f} s vs {twin['overhead_per_student']:+.2f} s "
                  "per student)")
    transport = numbers.get("transport")
    if transport:
        print(f"transport alone (tasks that grade nothing, each carrying a "
              f"{transport['submission_bytes'] / 1e3:.0f} kB submission out and a "
              f"{transport['result_bytes'] / 1e6:.1f} MB result back):")
        for name, row in transport.items():
            if name.endswith("_bytes"):
                continue
            print(f"  {name:<8} 1 task {row['one_task_seconds']:5.2f} s (start-up included), {args.count} tasks "
                  f"{row['all_tasks_seconds']:5.2f} s: {row['seconds_per_student']:.3f} s per further student")
    load = os.getloadavg()
    numbers["load_after"] = load
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(numbers, indent=1))
    for problem in problems:
        print("WRONG GRADES:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
