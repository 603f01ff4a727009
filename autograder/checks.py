"""Checks of the students' answers, shared by the hidden grade cells and tests/.

Every graded item ``X`` of the lab has two functions here:

``diagnose_X(candidate)``
    Runs the student's function (or looks at the student's value) on the
    bundled frames and on a second, small data set made on the fly with
    another shape and other exposure times, compares with the reference
    solutions, and returns a list of problems, each naming the likely
    mistake (uint16 wrap-around, dark not scaled, ...).  Empty means right.

``check_X(candidate)``
    What a hidden grade cell calls.  It sends the candidate to the kernel's
    judge, a separate ``python -I -m autograder.checks`` process started at
    the first check, which runs ``diagnose_X`` in a child forked for this one
    judgement and raises ``AssertionError`` with the problems.  Another
    process judges the function itself: whatever the notebook did to numpy,
    ``numpy.testing``, builtins or this module in the kernel does not reach
    it, files handed in beside the notebook are not on its path, and each
    judgement starts from the same clean state.

The same ``diagnose_X`` functions run in ``tests/`` on the reference module
(no problems) and on known-wrong versions (the mistake must be named).
"""

import contextlib
import io
import json
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from convenience_functions import lab
from convenience_functions.paths import data_path, data_paths

# Private references taken at import: a notebook that later replaces these
# attributes in the kernel does not change what the kernel side of a check
# uses to reach its judge.
_Popen = subprocess.Popen
_select = select.select
_os_read = os.read
_os_write = os.write
_monotonic = time.monotonic
_json_loads = json.loads
_json_dumps = json.dumps
_AssertionError = AssertionError
_isclose = np.isclose
_allclose = np.allclose

#: Seconds one check may take in the judge.
CHECK_TIMEOUT_S = float(os.environ.get("CCDLAB_CHECK_TIMEOUT", "120"))

#: Relative tolerance for comparing floating-point images with the reference.
RTOL = 1e-5
#: Absolute tolerance (ADU, or normalized units for flats) for the same.
ATOL = 1e-3

#: Correct letters of the multiple-choice questions, and a hint per wrong one.
MULTIPLE_CHOICE = {
    "answer_bias_exptime": (
        "b",
        {
            "a": "an exposure time of 0 s is expected for a bias frame, the file is fine",
            "c": "EXPTIME is the exposure time in seconds, not a count of frames",
            "d": "EXPTIME is the exposure time in seconds, not the detector temperature",
        },
    ),
    "answer_center_pixel": (
        "c",
        {
            "a": "the first index picks the image; [512, 512, 1] treats the image axis as the last one",
            "b": "index 1 is the second image: Python counts from 0",
            "d": "the first index picks the image; [512, 512, 0] treats the image axis as the last one",
        },
    ),
    "answer_ninth_image": (
        "a",
        {
            "b": "1:512 leaves out row and column 0 and stops half-way: ':' takes every row and column",
            "c": "1:1024 leaves out row and column 0: ':' takes every row and column",
        },
    ),
}


# ---------------------------------------------------------------------------
# Running the candidate and describing what went wrong


class _Failed(Exception):
    """The candidate could not be run; the message says why."""


def _call(func, name, *args, **kwargs):
    """Call the student's ``func``; return (result, printed text).

    Raises
    ------
    _Failed
        With a student-readable reason if ``func`` is missing or raises.
    """
    if not callable(func):
        raise _Failed(f"{name} is not a function (got {type(func).__name__})")
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            result = func(*args, **kwargs)
    except NotImplementedError:
        raise _Failed(f"{name} is not written yet: it still raises NotImplementedError") from None
    except Exception as error:  # the student's error, reported as text
        hint = ""
        if isinstance(error, (ValueError, IndexError)) and "shape" in str(error) + " " + str(type(error)):
            hint = " (is a frame size hard-coded? the frames here are not 1024x1024)"
        elif "broadcast" in str(error) or "index" in str(error) and "out of bounds" in str(error):
            hint = " (is the frame shape hard-coded? read it from the data instead)"
        raise _Failed(f"{name} raised {type(error).__name__}: {error}{hint}") from None
    return result, printed.getvalue()


def _returned_nothing(name, result, printed):
    if result is None:
        if printed.strip():
            return f"{name} prints its result instead of returning it: use `return`, not `print`"
        return f"{name} returns None: it must `return` its result"
    return None


def _as_image(name, result, printed, shape):
    """Problems with the type/shape of an image result, or None if fine."""
    nothing = _returned_nothing(name, result, printed)
    if nothing:
        return nothing
    if not isinstance(result, np.ndarray):
        return f"{name} should return a numpy array, not {type(result).__name__}"
    if result.shape != tuple(shape):
        if result.ndim == 2 and result.shape == tuple(shape)[::-1]:
            return f"{name} returned shape {result.shape} instead of {shape}: rows and columns are swapped"
        if result.ndim == len(shape) and result.shape[1:] != tuple(shape)[1:] and len(shape) == 2:
            return f"{name} returned shape {result.shape} instead of {shape}"
        return f"{name} returned shape {result.shape} instead of {tuple(shape)}"
    if not np.issubdtype(result.dtype, np.floating):
        return (
            f"{name} returned {result.dtype} data: convert frames to float before subtracting "
            "(uint16 arithmetic wraps around below zero)"
        )
    return None


def _close(a, b, rtol=RTOL, atol=ATOL):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def _distance(a, b):
    """Largest absolute difference of two same-shaped arrays (inf otherwise)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return np.inf
    return float(np.nanmax(np.abs(a - b))) if a.size else 0.0


def _name_mistake(result, variants, expected=None, rtol=1e-5, atol=1e-6):
    """Return the name of the known mistake that ``result`` reproduces, if any.

    The mistake whose outcome lies closest to ``result`` is named when it
    matches to within the tolerances, or lies at least ten times closer to
    ``result`` than the right answer ``expected`` does.
    """
    best, best_distance = None, np.inf
    for mistake, variant in variants:
        try:
            value = variant()
        except Exception:  # a variant that cannot be computed names nothing
            continue
        if value is None:
            continue
        distance = _distance(result, value)
        if distance < best_distance:
            best, best_distance = (mistake, value), distance
    if best is None:
        return None
    mistake, value = best
    if _close(result, value, rtol=rtol, atol=atol):
        return mistake
    if expected is not None and best_distance * 10 <= _distance(result, expected):
        return mistake
    return None


def _compare(name, result, expected, variants, where, rtol=RTOL, atol=ATOL):
    """Compare an array result with the reference; name the mistake if known."""
    if _close(result, expected, rtol=rtol, atol=atol):
        return None
    mistake = _name_mistake(result, variants, expected, rtol=rtol, atol=atol)
    if mistake:
        return f"{name} on {where}: {mistake}"
    diff = np.abs(np.asarray(result, dtype=float) - expected)
    return (
        f"{name} on {where} differs from the expected result "
        f"(largest difference {np.nanmax(diff):.4g}, median {np.nanmedian(diff):.4g})"
    )


# ---------------------------------------------------------------------------
# The reference answers
#
# While grading, the judge may not see solutions/ (the sandbox hides it, and a
# student's function must not be able to call it).  The grader therefore
# records every reference answer the checks need once, outside the sandbox
# (:func:`record_reference_answers`), and the judge reads them from the file
# named by CCDLAB_EXPECTED.  Answers are keyed by the *content* of the inputs,
# so the same frames give the same key wherever they were written.

EXPECTED_ENV_VAR = "CCDLAB_EXPECTED"
_recording = None
_recorded = None


def _fingerprint(value):
    import hashlib

    digest = hashlib.sha256()
    if isinstance(value, (list, tuple)):
        digest.update(b"[")
        for item in value:
            digest.update(_fingerprint(item).encode())
        digest.update(b"]")
    elif isinstance(value, np.ndarray):
        digest.update(str((value.shape, value.dtype.str)).encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (str, Path)) and Path(value).is_file():
        digest.update(b"file:" + Path(value).read_bytes())
    elif isinstance(value, Path) or (isinstance(value, str) and os.sep in value):
        digest.update(b"new file:" + Path(value).name.encode())  # an output path: its folder is scratch
    else:
        digest.update(repr(value).encode())
    return digest.hexdigest()


def _reference_answers():
    """The recorded reference answers (``CCDLAB_EXPECTED``), read once."""
    global _recorded
    if _recorded is None:
        import pickle

        with open(os.environ[EXPECTED_ENV_VAR], "rb") as handle:
            _recorded = pickle.load(handle)
    return _recorded


def _reference(name, *args, **kwargs):
    """The reference module's ``name(*args, **kwargs)``, live or recorded."""
    key = _fingerprint([name, list(args), sorted(kwargs.items())])
    if os.environ.get(EXPECTED_ENV_VAR) and _recording is None:
        recorded = _reference_answers()
        if key not in recorded:
            raise KeyError(f"no recorded reference answer for {name} on these inputs")
        return recorded[key]
    import solutions

    value = getattr(solutions, name)(*args, **kwargs)
    if _recording is not None:
        _recording[key] = value
    return value


def record_reference_answers(out_path):
    """Run every check on the reference and save the answers it needed.

    Parameters
    ----------
    out_path : str or pathlib.Path
        Pickle file to write; pass it to the judge as ``CCDLAB_EXPECTED``.
    """
    import pickle

    import solutions

    global _recording
    _recording = {}
    try:
        for item, diagnose in DIAGNOSES.items():
            candidate = getattr(solutions, item, None)
            if candidate is not None:
                problems = diagnose(candidate)
                if problems:
                    raise RuntimeError(f"the reference fails its own check {item}: {problems}")
        answers = _recording
    finally:
        _recording = None
    with open(out_path, "wb") as handle:
        pickle.dump(answers, handle)
    return len(answers)


# ---------------------------------------------------------------------------
# Inputs: the bundled frames and a small second night made on the fly


class Night:
    """File names of one set of frames, with the exposure times they carry."""

    def __init__(self, folder, biases, darks, flats, science, shape, dark_exptime, science_exptime, description):
        self.folder = Path(folder)
        self.biases = list(biases)
        self.darks = list(darks)
        self.flats = list(flats)
        self.science = science
        self.shape = tuple(shape)
        self.dark_exptime = float(dark_exptime)
        self.science_exptime = float(science_exptime)
        self.description = description


def bundled_night():
    """The bundled frames that the students reduce."""
    from astropy.io import fits

    shape = fits.getdata(data_path(lab.FIRST_BIAS_FILE)).shape
    return Night(
        folder=Path(data_path(lab.FIRST_BIAS_FILE)).parent,
        biases=data_paths(lab.BIAS_FILES),
        darks=data_paths(lab.DARK_FILES),
        flats=data_paths(lab.FLAT_FILES),
        science=data_path(lab.SCIENCE_FILE),
        shape=shape,
        dark_exptime=lab.DARK_EXPTIME_S,
        science_exptime=lab.SCIENCE_EXPTIME_S,
        description="the bundled frames",
    )


#: Shape and exposure times of the second night: nothing like the bundled one.
SECOND_SHAPE = (29, 43)
SECOND_DARK_EXPTIME_S = 30.0
SECOND_SCIENCE_EXPTIME_S = 90.0
SECOND_FLAT_EXPTIMES_S = (1.0, 3.0, 2.0)


def _write_raw(path, data, imagetyp, exptime):
    from astropy.io import fits

    header = fits.Header()
    header["IMAGETYP"] = imagetyp
    header["EXPTIME"] = (float(exptime), "exposure time [s]")
    header["FILTER"] = "R"
    header["GAIN"] = (lab.GAIN_E_PER_ADU, "gain [e-/ADU]")
    header["OBJECT"] = "TEST"
    fits.PrimaryHDU(np.clip(np.rint(data), 0, lab.SATURATION_ADU).astype(np.uint16), header).writeto(path)
    return str(path)


def second_night(folder, seed=2024):
    """Write a small night with another shape and other exposure times.

    Its bias is low (about 100 ADU) so that many dark pixels fall below the
    master bias: a subtraction done in uint16 wraps around.  One bias frame
    carries a strong cosmic ray, so a mean combine differs from a median.

    Parameters
    ----------
    folder : str or pathlib.Path
        Empty folder to write the frames into.
    seed : int
        Seed of the noise.

    Returns
    -------
    Night
    """
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    ny, nx = SECOND_SHAPE
    yy, xx = np.mgrid[0:ny, 0:nx]
    bias_level = 100.0 + 3.0 * np.sin(xx / 3.0)
    dark_rate_adu = 0.4 + 0.6 * (rng.random((ny, nx)) < 0.05) * 50.0
    flat = 1.0 - 0.25 * (((yy - ny / 2) / ny) ** 2 + ((xx - nx / 2) / nx) ** 2) * 4
    flat += 0.05 * np.cos(xx / 2.0)
    sky_adu_per_s = 20.0 + 200.0 * np.exp(-(((yy - 12) / 3.0) ** 2 + ((xx - 30) / 4.0) ** 2))

    def noisy(signal):
        return rng.poisson(np.maximum(signal, 0)).astype(float) + rng.normal(0, 4.0, (ny, nx))

    biases = []
    for i in range(5):
        data = bias_level + rng.normal(0, 4.0, (ny, nx))
        if i == 1:
            data[5:8, 10:14] += 3000.0
        biases.append(_write_raw(folder / f"bias{i}.fit", data, "Bias Frame", 0.0))
    darks = [
        _write_raw(folder / f"dark{i}.fit", bias_level + noisy(dark_rate_adu * SECOND_DARK_EXPTIME_S), "Dark Frame",
                   SECOND_DARK_EXPTIME_S)
        for i in range(3)
    ]
    flats = []
    for i, exptime in enumerate(SECOND_FLAT_EXPTIMES_S):
        level = 4000.0 * exptime
        signal = level * flat + dark_rate_adu * exptime
        flats.append(_write_raw(folder / f"flat{i}.fit", bias_level + noisy(signal), "Flat Field", exptime))
    science_signal = sky_adu_per_s * SECOND_SCIENCE_EXPTIME_S * flat + dark_rate_adu * SECOND_SCIENCE_EXPTIME_S
    science = _write_raw(folder / "science.fit", bias_level + noisy(science_signal), "Light Frame",
                         SECOND_SCIENCE_EXPTIME_S)
    return Night(folder, biases, darks, flats, science, SECOND_SHAPE, SECOND_DARK_EXPTIME_S,
                 SECOND_SCIENCE_EXPTIME_S, f"a {ny}x{nx} test set made on the fly")


@contextlib.contextmanager
def _nights():
    """Yield the bundled night and a fresh second night in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="ccdlab-check-") as scratch:
        second = Path(scratch) / "second"
        second.mkdir()
        yield [bundled_night(), second_night(second)], Path(scratch)


def _read(path):
    from astropy.io import fits

    return fits.getdata(path).astype(float)


def _exptime(path):
    from astropy.io import fits

    return float(fits.getheader(path)["EXPTIME"])


# ---------------------------------------------------------------------------
# Notebook 01: FITS basics


def _first_bias():
    from astropy.io import fits

    return fits.getdata(data_path(lab.FIRST_BIAS_FILE))


def diagnose_center_flux(value):
    """Check ``center_flux``: the central pixel of the first bias frame."""
    data = _first_bias()
    ny, nx = data.shape
    centres = {(ny // 2, nx // 2), ((ny - 1) // 2, (nx - 1) // 2)}
    if value is None:
        return ["center_flux is None: assign the pixel value to it"]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return [f"center_flux should be a number, not {type(value).__name__}"]
    if any(number == float(data[y, x]) for y, x in centres):
        return []
    if number == float(data[0, 0]):
        return ["center_flux is the corner pixel [0, 0]: the centre is half the shape along each axis"]
    if 512 < ny and number == float(data[512, 512]):
        return []
    return [
        f"center_flux = {number} is not the central pixel: use data[ny // 2, nx // 2] with "
        f"ny, nx = data.shape = {data.shape} (no hard-coded 512)"
    ]


def diagnose_fifth_column_mean(value):
    """Check ``fifth_column_mean``: mean of the fifth column of the first bias."""
    data = _first_bias().astype(float)
    expected = data[:, 4].mean()
    if value is None:
        return ["fifth_column_mean is None: assign the mean to it"]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return [f"fifth_column_mean should be a number, not {type(value).__name__}"]
    if _isclose(number, expected, rtol=1e-9):
        return []
    if _isclose(number, data[4, :].mean(), rtol=1e-9):
        return ["fifth_column_mean is the mean of the fifth ROW: a column is data[:, 4]"]
    if _isclose(number, data[:, 5].mean(), rtol=1e-9):
        return ["fifth_column_mean is the mean of the sixth column: Python counts from 0, the fifth is index 4"]
    if _isclose(number, data[:, 3].mean(), rtol=1e-9):
        return ["fifth_column_mean is the mean of the fourth column: the fifth is index 4"]
    if _isclose(number, data.mean(), rtol=1e-9):
        return ["fifth_column_mean is the mean of the whole frame, not of one column"]
    return [f"fifth_column_mean = {number} is not the mean of data[:, 4]"]


def _diagnose_choice(name, value):
    right, hints = MULTIPLE_CHOICE[name]
    if not isinstance(value, str) or len(value.strip()) != 1:
        return [f"{name} should be a single letter such as 'a', not {value!r}"]
    letter = value.strip().lower()
    if letter == right:
        return []
    if letter in hints:
        return [f"{name} = {letter!r} is not right: {hints[letter]}"]
    return [f"{name} = {letter!r} is not one of the offered answers"]


def diagnose_answer_bias_exptime(value):
    """Check the multiple-choice answer on the bias header's EXPTIME."""
    return _diagnose_choice("answer_bias_exptime", value)


def diagnose_answer_center_pixel(value):
    """Check the multiple-choice answer on the centre pixel of the 1st image."""
    return _diagnose_choice("answer_center_pixel", value)


def diagnose_answer_ninth_image(value):
    """Check the multiple-choice answer on selecting the ninth image."""
    return _diagnose_choice("answer_ninth_image", value)


# ---------------------------------------------------------------------------
# Notebook 02: histogram


def _step_histogram(ax):
    """Return (edges, counts) of the step histogram drawn on ``ax``."""
    from matplotlib.patches import Polygon

    polygons = [patch for patch in ax.patches if isinstance(patch, Polygon)]
    if len(polygons) != 1:
        return None, len(polygons)
    xy = np.asarray(polygons[0].get_xy(), dtype=float)
    left, right, height = [], [], []
    for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:]):
        if y0 == y1 and x1 > x0:
            left.append(x0)
            right.append(x1)
            height.append(y0)
    if not left:
        return None, 1
    edges = np.append(left, right[-1])
    return (edges, np.asarray(height)), 1


def _diagnose_histogram_axes(name, ax, data, where):
    from matplotlib.axes import Axes
    from matplotlib.patches import Rectangle

    problems = []
    if not isinstance(ax, Axes):
        return [f"{name} should return the matplotlib Axes it drew on, not {type(ax).__name__}"]
    if ax.get_xlabel() != "Counts":
        problems.append(f"the x label is {ax.get_xlabel()!r}; it should be 'Counts'")
    if not ax.get_ylabel().strip():
        problems.append("the y axis has no label (say what is counted, e.g. 'Number of pixels')")
    if ax.get_title() != "Distribution of Bias Counts":
        problems.append(f"the title is {ax.get_title()!r}; it should be 'Distribution of Bias Counts'")
    low, high = lab.BIAS_HISTOGRAM_RANGE_ADU
    if not (_isclose(ax.get_xlim()[0], low) and _isclose(ax.get_xlim()[1], high)):
        problems.append(f"the x range is {tuple(round(v, 1) for v in ax.get_xlim())}; zoom to ({low}, {high})")
    found, polygons = _step_histogram(ax)
    if found is None:
        if polygons > 1:
            problems.append(
                f"{polygons} histograms were drawn: plt.hist on a 2-D array draws one per column, "
                "flatten the data first (data.flatten())"
            )
        elif any(isinstance(patch, Rectangle) for patch in ax.patches[1:]):
            problems.append("the histogram is drawn as bars: use histtype='step'")
        else:
            problems.append("no step histogram found on the Axes (use ax.hist(..., histtype='step'))")
        return problems
    edges, counts = found
    expected, _ = np.histogram(np.asarray(data).ravel(), bins=edges)
    if not _allclose(counts, expected):
        if _isclose(counts.sum(), 1.0 / np.diff(edges).mean(), rtol=0.05) or counts.max() < 1:
            problems.append("the histogram shows a density: plot the number of pixels (density=False)")
        elif counts.sum() < expected.sum():
            problems.append("the histogram counts fewer pixels than the frame has: flatten the whole frame")
        else:
            problems.append(f"the plotted counts do not match np.histogram of the data on {where}")
    return problems


def diagnose_plot_bias_histogram(func):
    """Check ``plot_bias_histogram(data, ax=None)`` by inspecting its Axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name = "plot_bias_histogram"
    rng = np.random.default_rng(7)
    second = np.clip(np.rint(rng.normal(1510.0, 40.0, SECOND_SHAPE)), 0, None).astype(np.uint16)
    problems = []
    try:
        for data, where in ((_first_bias(), "the bundled bias frame"), (second, "a 29x43 test frame")):
            figure, given_ax = plt.subplots()
            try:
                result, printed = _call(func, name, data, ax=given_ax)
                nothing = _returned_nothing(name, result, printed)
                if nothing:
                    return [nothing]
                if result is not given_ax:
                    problems.append(f"{name} did not draw on (and return) the `ax` it was given")
                    plt.close("all")
                    continue
                problems += _diagnose_histogram_axes(name, result, data, where)
            finally:
                plt.close(figure)
            if problems:
                break
        if not problems:
            result, printed = _call(func, name, second)
            nothing = _returned_nothing(name, result, printed)
            if nothing:
                problems.append(f"called without ax: {nothing}")
            else:
                problems += [f"called without ax: {p}" for p in _diagnose_histogram_axes(name, result, second, "a 29x43 test frame")]
            plt.close("all")
    except _Failed as failure:
        plt.close("all")
        return [str(failure)]
    return problems


# ---------------------------------------------------------------------------
# Notebook 03: dark current


def diagnose_calc_dark_current(func):
    """Check ``calc_dark_current(dark_filename, bias_filename, gain=2.0)``."""
    name = "calc_dark_current"
    problems = []
    with _nights() as (nights, _scratch):
        cases = [
            (nights[0].darks[0], nights[0].biases[0], None, nights[0].description),
            (nights[1].darks[0], nights[1].biases[0], 1.5, nights[1].description + " with gain=1.5"),
        ]
        for dark, bias, gain, where in cases:
            kwargs = {} if gain is None else {"gain": gain}
            try:
                result, printed = _call(func, name, dark, bias, **kwargs)
            except _Failed as failure:
                return [str(failure)]
            nothing = _returned_nothing(name, result, printed)
            if nothing:
                return [nothing]
            try:
                value = float(result)
            except (TypeError, ValueError):
                return [f"{name} should return a number (e-/s/pixel), not {type(result).__name__}"]
            expected = _reference("calc_dark_current", dark, bias, **kwargs)
            if _isclose(value, expected, rtol=1e-6):
                continue
            used_gain = lab.GAIN_E_PER_ADU if gain is None else gain
            raw_dark, raw_bias, exptime = _read(dark), _read(bias), _exptime(dark)
            from astropy.io import fits

            wrapped = (fits.getdata(dark) - fits.getdata(bias)).astype(float)
            variants = [
                ("the bias was not removed: subtract the bias frame before taking the mean",
                 lambda: used_gain * raw_dark.mean() / exptime),
                ("uint16 wrap-around: convert the frames to float before subtracting",
                 lambda: used_gain * wrapped.mean() / exptime),
                ("the result is in ADU/s: multiply by the gain (e-/ADU) to get e-/s",
                 lambda: (raw_dark - raw_bias).mean() / exptime),
                ("divided by the gain: electrons = ADU * gain",
                 lambda: (raw_dark - raw_bias).mean() / used_gain / exptime),
                ("the gain argument is ignored (2.0 hard-coded): use the `gain` parameter",
                 lambda: lab.GAIN_E_PER_ADU * (raw_dark - raw_bias).mean() / exptime if gain else None),
                (f"the exposure time is hard-coded to {lab.DARK_EXPTIME_S:g} s: read EXPTIME from the header",
                 lambda: used_gain * (raw_dark - raw_bias).mean() / lab.DARK_EXPTIME_S
                 if exptime != lab.DARK_EXPTIME_S else None),
                ("the result is not divided by the exposure time (e-/pixel, not e-/s/pixel)",
                 lambda: used_gain * (raw_dark - raw_bias).mean()),
            ]
            mistake = _name_mistake(value, variants, expected, rtol=1e-6, atol=1e-9)
            if mistake:
                problems.append(f"{name} on {where}: {mistake}")
            else:
                problems.append(f"{name} on {where} gave {value:.5g} e-/s/pixel, expected {expected:.5g}")
            break
    return problems


# ---------------------------------------------------------------------------
# Notebook 04: stacking and combining


def diagnose_load_stack(func):
    """Check ``load_stack(filenames)``: an (N, ny, nx) float array."""
    name = "load_stack"
    with _nights() as (nights, _scratch):
        for night in nights:
            files = night.biases[:4]
            try:
                result, printed = _call(func, name, list(files))
            except _Failed as failure:
                return [f"{failure} (on {night.description})"]
            shape = (len(files),) + night.shape
            problem = _as_image(name, result, printed, shape)
            if problem:
                return [f"{problem} (on {night.description}, {len(files)} files)"]
            expected = np.stack([_read(f) for f in files])
            if not _close(result, expected, rtol=0, atol=0):
                if _close(result, expected[::-1]):
                    return [f"{name} put the frames in reverse order"]
                return [f"{name} on {night.description}: the stack does not hold the frames' data in order"]
    return []


def _diagnose_master(name, func, make_args, expected_of, variants_of):
    """Common part of the combine_* checks over both nights."""
    with _nights() as (nights, scratch):
        for night in nights:
            args = make_args(night)
            try:
                result, printed = _call(func, name, *args)
            except _Failed as failure:
                return [f"{failure} (on {night.description})"]
            nothing = _returned_nothing(name, result, printed)
            if nothing:
                return [nothing]
            if isinstance(result, np.ndarray) and result.ndim == 2 and result.shape != night.shape:
                if result.shape[0] in (len(args[0]),):
                    return [
                        f"{name} returned shape {result.shape} on {night.description}, expected {night.shape}: "
                        "combined along the wrong axis (the frames are axis 0: use axis=0)"
                    ]
            problem = _as_image(name, result, printed, night.shape)
            if problem:
                if isinstance(result, np.ndarray) and result.ndim == 3:
                    problem += ": the frames were not combined (median along axis=0)"
                return [f"{problem} (on {night.description})"]
            problem = _compare(name, result, expected_of(night, args), variants_of(night, args), night.description)
            if problem:
                return [problem]
    return []


def _stack(files):
    return np.stack([_read(f) for f in files])


def diagnose_combine_bias(func):
    """Check ``combine_bias(filenames)``: median master bias in ADU."""

    def variants(night, args):
        stack = _stack(args[0])
        return [
            ("averaged with the mean instead of the median (a cosmic ray survives a mean)",
             lambda: stack.mean(axis=0)),
            ("only the first frame was used", lambda: stack[0]),
        ]

    return _diagnose_master(
        "combine_bias", func,
        lambda night: (list(night.biases),),
        lambda night, args: _reference("combine_bias", args[0]),
        variants,
    )


def diagnose_combine_darks(func):
    """Check ``combine_darks(filenames, master_bias)``: bias-free median dark, ADU."""

    def args_of(night):
        return list(night.darks), _reference("combine_bias", night.biases)

    def variants(night, args):
        stack, master_bias = _stack(args[0]), args[1]
        from astropy.io import fits

        wrapped = np.stack([(fits.getdata(f) - np.rint(master_bias).astype(np.uint16)).astype(float) for f in args[0]])
        return [
            ("the bias was not removed from the darks", lambda: np.median(stack, axis=0)),
            ("uint16 wrap-around: convert the darks to float before subtracting the bias",
             lambda: np.median(wrapped, axis=0)),
            ("averaged with the mean instead of the median", lambda: (stack - master_bias).mean(axis=0)),
            ("divided by the exposure time: keep ADU for the darks' own exposure time",
             lambda: np.median(stack - master_bias, axis=0) / night.dark_exptime),
        ]

    return _diagnose_master(
        "combine_darks", func, args_of,
        lambda night, args: _reference("combine_darks", *args),
        variants,
    )


def diagnose_combine_flats(func):
    """Check ``combine_flats(filenames, master_bias, master_dark, dark_exptime)``."""

    def args_of(night):
        master_bias = _reference("combine_bias", night.biases)
        master_dark = _reference("combine_darks", night.darks, master_bias)
        return list(night.flats), master_bias, master_dark, night.dark_exptime

    def variants(night, args):
        files, master_bias, master_dark, dark_exptime = args
        stack = _stack(files)
        times = np.array([_exptime(f) for f in files])[:, None, None]
        scaled = master_dark * times / dark_exptime
        right = np.median(stack - master_bias - scaled, axis=0)

        def normalized(image):
            return image / np.median(image)

        return [
            ("the flat was normalized by its mean: divide by the median", lambda: right / right.mean()),
            ("the flat was not normalized: divide it by its median", lambda: right),
            ("the dark was not scaled to each flat's exposure time (multiply by EXPTIME_flat / dark_exptime)",
             lambda: normalized(np.median(stack - master_bias - master_dark, axis=0))),
            ("the dark was not subtracted from the flats", lambda: normalized(np.median(stack - master_bias, axis=0))),
            ("the bias was not removed from the flats",
             lambda: normalized(np.median(stack - scaled, axis=0))),
            ("one exposure time was used for every flat: read EXPTIME from each flat's header",
             lambda: normalized(np.median(stack - master_bias - master_dark * times[0] / dark_exptime, axis=0))),
            ("averaged with the mean instead of the median",
             lambda: normalized((stack - master_bias - scaled).mean(axis=0))),
        ]

    return _diagnose_master(
        "combine_flats", func, args_of,
        lambda night, args: _reference("combine_flats", *args),
        variants,
    )


_STRUCTURE_KEYS = {"SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "BZERO", "BSCALE", "HISTORY",
                   "COMMENT", ""}


def _header_problems(name, header, template_header, history=None):
    problems = []
    missing = [
        key for key in template_header
        if key not in _STRUCTURE_KEYS and (key not in header or header[key] != template_header[key])
    ]
    if missing:
        problems.append(
            f"{name}: the header was not copied from the template (missing or changed: {', '.join(missing[:5])})"
        )
    if history is not None:
        cards = [str(card) for card in header.get("HISTORY", [])]
        if not any(history in card for card in cards) and history not in str(header.get("HISTORY", "")):
            problems.append(f"{name}: the HISTORY card {history!r} is missing from the header")
    return problems


def diagnose_save_fits(func):
    """Check ``save_fits(data, template_filename, history, out_filename)``."""
    import hashlib

    from astropy.io import fits

    name = "save_fits"
    problems = []
    with _nights() as (nights, scratch):
        for index, night in enumerate(nights):
            template = night.darks[0]
            before = hashlib.sha256(Path(template).read_bytes()).hexdigest()
            data = np.linspace(-5.5, 1234.25, night.shape[0] * night.shape[1]).reshape(night.shape)
            out = scratch / f"saved{index}.fits"
            history = f"Median combination test {index}"
            try:
                _result, printed = _call(func, name, data, template, history, str(out))
            except _Failed as failure:
                return [f"{failure} (on {night.description})"]
            if hashlib.sha256(Path(template).read_bytes()).hexdigest() != before:
                return [f"{name} changed the template file {template}: raw data must never be overwritten"]
            if not out.exists():
                return [f"{name} did not write a file at out_filename"]
            with fits.open(out) as written:
                header = written[0].header
                saved = written[0].data
            if saved is None or saved.shape != night.shape:
                return [f"{name} wrote data of shape {None if saved is None else saved.shape}, expected {night.shape}"]
            if not np.issubdtype(saved.dtype, np.floating):
                problems.append(f"{name} wrote {saved.dtype} data: write the image as float (float32)")
            elif not _close(saved, data, rtol=1e-6, atol=1e-3):
                if _close(saved, data + 32768.0, rtol=1e-6, atol=1e-3) or _close(saved, data - 32768.0):
                    problems.append(f"{name}: BZERO from the uint16 template was kept, shifting the data by 32768")
                else:
                    problems.append(f"{name} wrote data that differ from the array it was given")
            problems += _header_problems(name, header, fits.getheader(template), history)
            if problems:
                return [f"{p} (on {night.description})" for p in problems]
    return problems


# ---------------------------------------------------------------------------
# Notebook 05: process_data


def _write_master(image, template, history, out_path):
    """Write a master frame as float32 with the template's header (no BZERO)."""
    from astropy.io import fits

    header = fits.getheader(template)
    for key in ("BZERO", "BSCALE", "BLANK"):
        header.remove(key, ignore_missing=True)
    header["HISTORY"] = history
    fits.PrimaryHDU(np.asarray(image, dtype=np.float32), header).writeto(out_path, overwrite=True)


def diagnose_process_data(func):
    """Check ``process_data(filename, new_filename, bias_file, dark_file, flat_file)``."""
    import hashlib

    from astropy.io import fits

    name = "process_data"
    with _nights() as (nights, scratch):
        for index, night in enumerate(nights):
            folder = scratch / f"masters{index}"
            folder.mkdir()
            bias = _reference("combine_bias", night.biases)
            dark = _reference("combine_darks", night.darks, bias)
            flat = _reference("combine_flats", night.flats, bias, dark, night.dark_exptime)
            paths = {}
            for label, image, template in (("bias", bias, night.biases[0]), ("dark", dark, night.darks[0]),
                                           ("flat", flat, night.flats[0])):
                paths[label] = str(folder / f"master_{label}.fits")
                _write_master(image, template, f"master {label} for the check", paths[label])
            expected = _reference("process_data", night.science, str(folder / "expected.fits"),
                                  paths["bias"], paths["dark"], paths["flat"])
            out = folder / "calibrated.fits"
            before = hashlib.sha256(Path(night.science).read_bytes()).hexdigest()
            try:
                result, printed = _call(func, name, night.science, str(out), paths["bias"], paths["dark"],
                                        paths["flat"])
            except _Failed as failure:
                return [f"{failure} (on {night.description})"]
            if hashlib.sha256(Path(night.science).read_bytes()).hexdigest() != before:
                return [f"{name} changed the raw science file: raw data must never be overwritten"]
            problem = _as_image(name, result, printed, night.shape)
            if problem:
                return [f"{problem} (on {night.description})"]
            raw = _read(night.science)
            ratio = night.science_exptime / night.dark_exptime
            variants = [
                ("the dark was not scaled to the science exposure time "
                 "(multiply by EXPTIME_science / EXPTIME_dark)", lambda: (raw - bias - dark) / flat),
                ("the dark was not subtracted", lambda: (raw - bias) / flat),
                ("the bias was not subtracted", lambda: (raw - dark * ratio) / flat),
                ("the flat was multiplied instead of divided", lambda: (raw - bias - dark * ratio) * flat),
                ("the flat field was not applied", lambda: raw - bias - dark * ratio),
                (f"the exposure times are hard-coded ({lab.SCIENCE_EXPTIME_S:g} s / {lab.DARK_EXPTIME_S:g} s): "
                 "read EXPTIME from the headers",
                 lambda: (raw - bias - dark * lab.SCIENCE_EXPTIME_S / lab.DARK_EXPTIME_S) / flat
                 if ratio != lab.SCIENCE_EXPTIME_S / lab.DARK_EXPTIME_S else None),
                ("uint16 wrap-around: convert the raw frame to float before subtracting",
                 lambda: ((fits.getdata(night.science) - np.rint(bias).astype(np.uint16)).astype(float)
                          - dark * ratio) / flat),
            ]
            problem = _compare(name, result, expected, variants, night.description)
            if problem:
                return [problem]
            if not out.exists():
                return [f"{name} did not write the calibrated frame to new_filename"]
            with fits.open(out) as written:
                header, saved = written[0].header, written[0].data
            if saved is None or not _close(saved, result, rtol=1e-5, atol=1e-2):
                return [f"{name}: the file written to new_filename does not hold the returned array"]
            problems = _header_problems(name, header, fits.getheader(night.science))
            if lab.CALIBRATED_KEYWORD not in header:
                problems.append(
                    f"{name}: the header has no keyword marking the frame calibrated "
                    f"(add {lab.CALIBRATED_KEYWORD} = True)"
                )
            if "HISTORY" not in header:
                problems.append(f"{name}: the header has no HISTORY card saying what was done")
            if problems:
                return [f"{p} (on {night.description})" for p in problems]
    return []


# ---------------------------------------------------------------------------
# What the hidden grade cells call

#: Graded item -> its diagnosis.  The grade_id of its cell is ``test_<item>``.
DIAGNOSES = {
    "center_flux": diagnose_center_flux,
    "fifth_column_mean": diagnose_fifth_column_mean,
    "answer_bias_exptime": diagnose_answer_bias_exptime,
    "plot_bias_histogram": diagnose_plot_bias_histogram,
    "calc_dark_current": diagnose_calc_dark_current,
    "load_stack": diagnose_load_stack,
    "answer_center_pixel": diagnose_answer_center_pixel,
    "answer_ninth_image": diagnose_answer_ninth_image,
    "combine_bias": diagnose_combine_bias,
    "combine_darks": diagnose_combine_darks,
    "combine_flats": diagnose_combine_flats,
    "save_fits": diagnose_save_fits,
    "process_data": diagnose_process_data,
}

#: Where a kernel keeps its judge between checks.  The grade cells import
#: this module afresh each time, so the judge's process cannot live in it.
_JUDGE_SLOT = "_ccdlab_judge"

#: Length prefix of each message between a kernel and its judge.
_HEADER = struct.Struct(">Q")
#: Start of each request: seconds the judgement may take.
_TIMEOUT = struct.Struct(">d")
#: Seconds the kernel waits beyond that before it gives up on the judge itself.
_JUDGE_GRACE_S = 30.0


class _JudgeStopped(Exception):
    """The judge process ended; the message says how."""


class _JudgeTimeout(_JudgeStopped):
    """No answer before the deadline."""


def _tail(log):
    """The last lines written to the file ``log``, as one line of text."""
    log.seek(0)
    return " ".join(log.read().decode("utf-8", "replace").strip().splitlines()[-3:])


def _read_exactly(fd, size, deadline=None):
    """Read ``size`` bytes from ``fd``; b"" at end of file; _JudgeTimeout past ``deadline``."""
    chunks, missing = [], size
    while missing:
        if deadline is not None:
            remaining = deadline - _monotonic()
            if remaining <= 0 or not _select([fd], [], [], remaining)[0]:
                raise _JudgeTimeout()
        chunk = _os_read(fd, min(missing, 1 << 20))
        if not chunk:
            return b""
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _write_message(fd, data):
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[_os_write(fd, view):]


class _Judge:
    """This kernel's ``python -I -m autograder.checks --serve`` process.

    It imports numpy, astropy, matplotlib and this module once.  Each
    judgement then runs in a child forked from it: a fresh interpreter as far
    as the candidate can tell (nothing an earlier candidate did reaches it),
    without paying half a second of imports per check.  The notebook's
    patches of numpy or of this module never reach it either: it is another
    process, started with ``-I`` so that files beside the notebook are not on
    its path.
    """

    def __init__(self, process, log):
        self.process = process
        self.log = log

    @classmethod
    def start(cls):
        env = dict(os.environ, MPLBACKEND="Agg")
        # Forking a process whose BLAS has started threads can deadlock the child.
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        log = tempfile.TemporaryFile()
        process = _Popen(
            [sys.executable, "-I", "-m", "autograder.checks", "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
            start_new_session=True,  # one process group: a timeout stops it and all its children
        )
        return cls(process, log)

    def alive(self):
        return self.process.poll() is None

    def ask(self, payload, timeout):
        """Send one pickled request; return the server's decoded answer."""
        # The judge stops a judgement that runs over ``timeout`` itself; this
        # later deadline only catches a judge that no longer answers at all.
        deadline = _monotonic() + timeout + _JUDGE_GRACE_S
        try:
            _write_message(self.process.stdin.fileno(), _TIMEOUT.pack(timeout) + payload)
            header = _read_exactly(self.process.stdout.fileno(), _HEADER.size, deadline)
            answer = header and _read_exactly(self.process.stdout.fileno(), _HEADER.unpack(header)[0], deadline)
        except _JudgeTimeout:
            self.stop()
            raise
        except BrokenPipeError:
            self.stop()
            raise _JudgeStopped(self.why_stopped()) from None
        if not answer:
            self.stop()
            raise _JudgeStopped(self.why_stopped())
        return _json_loads(answer)

    def why_stopped(self):
        return _tail(self.log) or f"the checker stopped (exit status {self.process.poll()})"

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()


def _kernel_judge():
    """The running judge of this kernel, started if there is none."""
    kept = getattr(sys, _JUDGE_SLOT, None)
    if isinstance(kept, tuple) and len(kept) == 2 and isinstance(kept[0], subprocess.Popen):
        judge = _Judge(*kept)
        if judge.alive():
            return judge
    judge = _Judge.start()
    setattr(sys, _JUDGE_SLOT, (judge.process, judge.log))
    return judge


def _judge_in_fresh_interpreter(item, candidate):
    """Run ``DIAGNOSES[item](candidate)`` in a fresh child of the judge; return problems."""
    import cloudpickle

    try:
        payload = cloudpickle.dumps((item, candidate, os.getcwd()))
    except Exception:  # an answer that cannot travel is judged in this kernel
        return DIAGNOSES[item](candidate)
    try:
        answer = _kernel_judge().ask(payload, CHECK_TIMEOUT_S)
    except _JudgeTimeout:
        answer = {"timeout": True}
    except _JudgeStopped as stopped:
        answer = {"stopped": str(stopped)}
    if "problems" in answer:
        return answer["problems"]
    if answer.get("timeout"):
        return [f"{item} took longer than {CHECK_TIMEOUT_S:g} s to check: is there an endless loop?"]
    return [f"{item} could not be checked: {answer['stopped']}"]


def check(item, candidate, *, fresh=True):
    """Judge one graded item; raise AssertionError naming the mistake.

    Parameters
    ----------
    item : str
        Name of the graded function or variable, e.g. ``'combine_bias'``.
    candidate : object
        The student's function or value.
    fresh : bool
        Judge in the kernel's judge process (the default, used by the grade cells);
        False runs the diagnosis here (tests).
    """
    problems = _judge_in_fresh_interpreter(item, candidate) if fresh else DIAGNOSES[item](candidate)
    if problems:
        raise _AssertionError("\n".join(problems))
    print(f"{item}: correct")


def _make_check(item):
    def check_item(candidate):
        check(item, candidate)

    check_item.__name__ = f"check_{item}"
    check_item.__doc__ = f"Hidden-test entry point for ``{item}`` (see :func:`check`)."
    return check_item


for _item in DIAGNOSES:
    globals()[f"check_{_item}"] = _make_check(_item)
del _item


def _judge_one(payload):
    """In a forked child: unpickle one request and diagnose it; return the answer."""
    import cloudpickle

    item, candidate, cwd = cloudpickle.loads(payload)
    os.chdir(cwd)
    try:
        return {"problems": DIAGNOSES[item](candidate)}
    except Exception as error:  # a crash of the check itself
        return {"problems": [f"{item} could not be checked: {type(error).__name__}: {error}"]}


def _exit_description(status):
    if os.WIFSIGNALED(status):
        return f"the check was killed by signal {os.WTERMSIG(status)}"
    return f"the check stopped before its verdict (exit status {os.waitstatus_to_exitcode(status)})"


def _judge_in_child(payload, scratch, verdict_out):
    """In the forked child: judge ``payload`` with ``scratch`` as its temporary folder."""
    os.setpgid(0, 0)  # its own process group, so a timeout stops whatever it started
    tempfile.tempdir = scratch
    os.environ["TMPDIR"] = scratch
    _write_message(verdict_out, _json_dumps(_judge_one(payload)).encode())


def _answer_one(request):
    """Judge one request in a forked child; return the JSON answer (bytes)."""
    import shutil

    timeout = _TIMEOUT.unpack(request[:_TIMEOUT.size])[0]
    payload = request[_TIMEOUT.size:]
    scratch = tempfile.mkdtemp(prefix="ccdlab-check-")
    verdict_in, verdict_out = os.pipe()
    with tempfile.TemporaryFile() as log:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                os.close(verdict_in)
                os.dup2(log.fileno(), 1)
                os.dup2(log.fileno(), 2)
                _judge_in_child(payload, scratch, verdict_out)
                status = 0
            finally:
                os._exit(status)
        try:
            os.setpgid(pid, pid)
        except OSError:  # the child got there first, or has already ended
            pass
        os.close(verdict_out)
        deadline = _monotonic() + timeout
        try:
            header = _read_exactly(verdict_in, _HEADER.size, deadline)
            verdict = header and _read_exactly(verdict_in, _HEADER.unpack(header)[0], deadline)
        except _JudgeTimeout:
            verdict = _json_dumps({"timeout": True}).encode()
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.close(verdict_in)
        _, status = os.waitpid(pid, 0)
        shutil.rmtree(scratch, ignore_errors=True)
        if not verdict:
            verdict = _json_dumps({"stopped": _tail(log) or _exit_description(status)}).encode()
    return verdict


def _serve_judgements():
    """Entry point of the judge: answer requests on stdin, each in a forked child.

    A request is the seconds the judgement may take and a pickled
    ``(item, candidate, working folder)``; both travel length-prefixed.  An
    answer is JSON: ``{"problems": [...]}``, ``{"timeout": true}``, or
    ``{"stopped": reason}`` when the child ended without a verdict
    (``os._exit`` or a crash in the candidate).  The judge never unpickles a
    request itself, so no candidate runs code in it, and each child's
    temporary files are removed when it ends.
    """
    import cloudpickle  # noqa: F401  (imported once here, used by every child)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    from astropy.io import fits  # noqa: F401

    requests, answers = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # nothing but answers may reach the kernel
    if os.environ.get(EXPECTED_ENV_VAR):
        # Grading: the reference answers come from the recorded file, and the
        # student's function must not reach the reference solutions.
        from autograder.guard import forbid_reference_solutions

        forbid_reference_solutions()
        _reference_answers()
    while True:
        header = _read_exactly(requests, _HEADER.size)
        request = header and _read_exactly(requests, _HEADER.unpack(header)[0])
        if not request:
            return  # the kernel has gone
        _write_message(answers, _answer_one(request))


if __name__ == "__main__":
    _serve_judgements()
