"""The ``ccdlab`` command line: one thin command per verb.

Each command parses its options here and calls a keyword-only ``main`` in
the module that does the work, so defaults are written once, in that module.
"""

import argparse
import sys


def _data(args):
    if args.src is not None:
        return _import_night(args)
    given = [option for option, value in (("--science", args.science), ("--bias", args.bias),
                                          ("--darks", args.darks), ("--flats", args.flats)) if value is not None]
    if given:
        print(f"ccdlab data: {given[0]} needs --from SRC (it names frames of a night to import)", file=sys.stderr)
        return 2
    from sample_data import simulate

    return simulate.main(out=args.out, size=args.size, seed=args.seed, gain=args.gain, read_noise=args.read_noise,
                         full_well=args.full_well, force=args.force)


def _import_night(args):
    """``ccdlab data --from SRC``: import a real night instead of simulating one."""
    from sample_data import import_night

    given = [option for option, value in (("--seed", args.seed), ("--read-noise", args.read_noise),
                                          ("--full-well", args.full_well)) if value is not None]
    if given:
        print(f"ccdlab data: {given[0]} is for simulated nights, not with --from", file=sys.stderr)
        return 2
    if args.out is None:
        print("ccdlab data: --from needs --out DIR, the folder to import the night into", file=sys.stderr)
        return 2
    size = None
    if args.size is not None:
        try:
            size = int(args.size)
        except ValueError:
            size = -1
        if size < 0:
            print(f"ccdlab data: --size with --from is one whole number of pixels >= 0, not {args.size!r}",
                  file=sys.stderr)
            return 2
    return import_night.main(src=args.src, out=args.out, size=size, gain=args.gain, science=args.science,
                             bias=args.bias, darks=args.darks, flats=args.flats, force=args.force)


def _lab(args):
    from . import labserver

    return labserver.main(port=args.port, no_browser=args.no_browser, extra_args=args.extra)


def _formgrade(args):
    from . import classgrade

    return classgrade.main_formgrade(results=args.results, port=args.port, no_browser=args.no_browser)


def _release(args):
    from . import release

    return release.main_release(bundle=args.bundle, data=args.data)


def _check(args):
    from . import release

    return release.main_check()


def _grade(args):
    from . import classgrade

    return classgrade.main(submissions=args.submissions, out=args.out, jobs=args.jobs, timeout=args.timeout,
                           force=args.force, sandbox=args.sandbox, scheduler=args.scheduler)


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def build_parser():
    """Return the argument parser of ``ccdlab`` with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ccdlab",
        description="CCD data reduction lab: data, notebooks and grading.",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", required=True)

    data = verbs.add_parser(
        "data",
        help="regenerate the simulated frames (the bundled set by default), or import a real night (--from)",
        description="Write a simulated night of CCD frames and its given master frames into a folder, "
        "and its truth file beside that folder (FOLDER_truth.json).",
    )
    data.add_argument("--out", default=None, help="folder to write into (default: the bundled sample_data/frames)")
    data.add_argument("--size", default=None, help="frame size in pixels, N or NYxNX (default: the bundled size)")
    data.add_argument("--seed", type=int, default=None, help="random seed (default: the bundled seed)")
    data.add_argument("--gain", type=float, default=None, metavar="E_PER_ADU",
                      help="gain of the camera in e-/ADU (default: the lab's)")
    data.add_argument("--read-noise", type=float, default=None, metavar="E",
                      help="read noise of the camera in e- rms (default: the lab's camera)")
    data.add_argument("--full-well", type=float, default=None, metavar="E",
                      help="full well of the camera's pixels in e- (default: the lab's camera)")
    data.add_argument("--force", action="store_true", help="replace differing frames already in --out")
    from sample_data.import_night import DEFAULT_SIZE, NIGHT_FILE

    night = data.add_argument_group(
        "importing a real night",
        "With --from, import the frames of a real night instead: found in SRC by their headers, one "
        f"consistent set cropped to a centred --size x --size window (default {DEFAULT_SIZE}, 0 keeps whole "
        f"frames) and described in DIR/{NIGHT_FILE}; a table says what each file was taken as. --gain then "
        "overrides the headers' EGAIN or GAIN.")
    night.add_argument("--from", dest="src", metavar="SRC", default=None, help="folder of raw frames to import")
    night.add_argument("--science", metavar="FILE", default=None,
                       help="the science frame (default: the first light frame by file name)")
    night.add_argument("--bias", metavar="GLOB", default=None, help="file names of the biases, whatever their headers")
    night.add_argument("--darks", metavar="GLOB", default=None, help="file names of the darks, whatever their headers")
    night.add_argument("--flats", metavar="GLOB", default=None, help="file names of the flats, whatever their headers")
    data.set_defaults(run=_data)

    lab = verbs.add_parser(
        "lab",
        help="open JupyterLab on the lab notebooks",
        description="Start JupyterLab on labs/ccd_reduction and print its URL.",
        epilog="Any other option is passed on to jupyter lab, e.g. --ServerApp.ip=0.0.0.0.",
        allow_abbrev=False,
    )
    lab.add_argument("--port", type=int, default=None, help="port to listen on (default: a free one)")
    lab.add_argument("--no-browser", action="store_true", help="do not try to open a web browser")
    lab.set_defaults(run=_lab, extra=[], forwards_unknown=True)

    formgrade = verbs.add_parser(
        "formgrade",
        help="open nbgrader's formgrader on a RESULTS folder of `ccdlab grade` (hand grading)",
        description="Serve RESULTS in JupyterLab for hand grading (Nbgrader > Formgrader > Manual Grading); "
                    "afterwards run `ccdlab grade` again to refresh grades.csv, the feedback and the plot.",
    )
    formgrade.add_argument("results", metavar="RESULTS", help="the --out folder of `ccdlab grade`")
    formgrade.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    formgrade.add_argument("--no-browser", action="store_true", help="only print the address")
    formgrade.set_defaults(run=_formgrade)

    release = verbs.add_parser(
        "release",
        help="regenerate labs/ from the instructor notebooks in solutions/",
        description="Run nbgrader generate_assignment on solutions/ccd_reduction and "
        "write the student notebooks to labs/ccd_reduction.",
    )
    release.add_argument("--bundle", metavar="OUT.zip", default=None,
                         help="also write the zip a TA hands out (notebooks, helpers, frames)")
    release.add_argument("--data", metavar="DIR", default=None,
                         help="make the night in DIR (made by `ccdlab data`, e.g. `ccdlab data --from SRC --out DIR`) "
                         "the course's night: its frames are copied to labs/frames and named in course_night.json "
                         "(commit both); `ccdlab check`, `ccdlab grade`, the lab and the bundle then use them. "
                         "Without --data the course keeps its night; --data sample_data/frames goes back to the "
                         "bundled simulated night"),
    release.set_defaults(run=_release)

    check = verbs.add_parser(
        "check",
        help="fail if labs/ is out of sync with solutions/ or leaks a solution",
        description="Regenerate the student notebooks in a scratch folder and compare.",
    )
    check.set_defaults(run=_check)

    from .options import DEFAULT_CELL_TIMEOUT_S

    grade = verbs.add_parser(
        "grade",
        help="autograde a whole class with nbgrader, in parallel",
        description="Grade every submission in SUBMISSIONS (<student_id>/ccd_reduction/*.ipynb folders "
        "or <student_id>.zip files) and write grades.csv, feedback, the gradebook and summary.png "
        "into RESULTS.",
    )
    grade.add_argument("submissions", metavar="SUBMISSIONS", help="folder of submissions")
    grade.add_argument("--out", metavar="RESULTS", required=True, help="folder for the results (created if missing)")
    grade.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                       help="students graded at once (default: the number of cores)")
    grade.add_argument("--timeout", type=_positive_int, default=DEFAULT_CELL_TIMEOUT_S, metavar="SECONDS",
                       help=f"seconds one cell may run (default: {DEFAULT_CELL_TIMEOUT_S})")
    grade.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    grade.add_argument("--sandbox", nargs="?", const="auto", default="auto", choices=["auto", "require", "off"],
                       help="run each grading kernel under bubblewrap: where it works (auto, the default), "
                            "or refuse to grade without it (require), or never (off)")
    from .dask_executor import scheduler_option

    grade.add_argument("--scheduler", type=scheduler_option, default=None, metavar="ADDRESS",
                       help="grade on a Dask cluster: a scheduler address (tcp://host:8786), a scheduler "
                       "file (.json), or local:N for N local Dask workers (default: a local process pool)")
    grade.set_defaults(run=_grade)

    return parser


def main(argv=None):
    """Run ``ccdlab`` with ``argv`` (default: the process arguments)."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # Only `lab` takes options it does not know: they go to jupyter lab.
        if not getattr(args, "forwards_unknown", False):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.extra = unknown
    status = args.run(args)
    return 0 if status is None else int(status)


if __name__ == "__main__":
    sys.exit(main())
