"""Checks of the students' answers: the comparator, which runs no student code.

Every graded item ``X`` of the lab has a function ``diagnose_X(candidate)``.
It calls the candidate on the bundled frames and on a second, small night
made with another shape and other exposure times, compares what comes back
with the reference solutions, and returns a list of problems, each naming
the likely mistake (uint16 wrap-around, dark not scaled, ...).  Empty means
right.

What the diagnoses receive is plain data.  While grading, the candidate is an
:class:`~autograder.candidates.RemoteFunction`: each call runs in the
student's runner, in the sandbox, and only arrays, numbers, text, an
:class:`~autograder.candidates.AxesRecord` and written files' bytes come
back; the reference answers are computed here, outside the sandbox, and
never reach the runner.  In tests and in the notebooks' own hidden tests
(``check_X``), a plain function is wrapped in a
:class:`~autograder.candidates.LocalFunction`, whose results go through the
same encoding.
"""

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from convenience_functions import lab
from convenience_functions.paths import data_path, data_paths

from .candidates import NEW_AXES, AxesRecord, CandidateFailed, LocalFunction, OutputPath, Unsupported

_isclose = np.isclose
_allclose = np.allclose

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


def _call(candidate, name, *args, **kwargs):
    """Call the student's function through its runner; return (plain result, printed text).

    Raises
    ------
    _Failed
        With a student-readable reason if the function is missing, raises or hangs.
    """
    if not hasattr(candidate, "call"):
        candidate = LocalFunction(candidate)
    try:
        return candidate.call(name, args, kwargs)
    except CandidateFailed as failure:
        text = str(failure)
        raise _Failed(text if text.startswith(name) else f"{name} {text}") from None


def _type_name(value):
    return value.type_name if isinstance(value, Unsupported) else type(value).__name__


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
        return f"{name} should return a numpy array, not {_type_name(result)}"
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


#: What the checks recognised and accepted in the last diagnosis (read by the grader for the message).
NOTES = []


def _closeness_to_truth(result, truth, valid=None):
    """(rms, mean) of ``result - truth`` over the pixels where both are finite (and ``valid``)."""
    difference = np.asarray(result, dtype=float) - np.asarray(truth, dtype=float)
    keep = np.isfinite(difference) if valid is None else np.isfinite(difference) & valid
    if keep.sum() < 10:
        return np.inf, np.inf, 0
    kept = difference[keep]
    return float(np.sqrt(np.mean(kept**2))), float(np.mean(kept)), int(keep.sum())


def _as_good_as_reference(result, expected, truth, valid=None):
    """Whether ``result`` is at least as close to the noiseless truth as the reference's result.

    Closeness is the rms of the difference from the truth over the pixels both
    give (NaN-flagged pixels left out), with a margin of three standard errors
    of an rms over that many pixels (3 / sqrt(2 n), relative); and the mean
    difference (a systematic offset) may exceed the reference's by at most
    three standard errors of a mean.  Returns (bool, rms of result, rms of reference).
    """
    rms_result, mean_result, n = _closeness_to_truth(result, truth, valid)
    rms_expected, mean_expected, n_expected = _closeness_to_truth(expected, truth, valid)
    if not n or not n_expected or n < 0.99 * n_expected:
        return False, rms_result, rms_expected
    quiet = rms_result <= rms_expected * (1 + 3 / np.sqrt(2 * n))
    centred = abs(mean_result) <= abs(mean_expected) + 3 * rms_expected / np.sqrt(n)
    kept = _artefacts(result, expected, truth, valid)
    return bool(quiet and centred and kept), rms_result, rms_expected


def _artefacts(result, expected, truth, valid=None):
    """Whether ``result`` keeps no more artefacts (pixels > 5 sigma off the truth) than the reference.

    A plain mean keeps the cosmic rays a median removes: they are few, so the
    rms hardly shows them, but each is far off.  Sigma is the reference's
    robust (MAD) scatter about the truth; a margin of 3 + 3 sqrt(count).
    """
    from astropy.stats import mad_std

    off_result = np.asarray(result, dtype=float) - truth
    off_expected = np.asarray(expected, dtype=float) - truth
    keep = np.isfinite(off_result) & np.isfinite(off_expected)
    if valid is not None:
        keep &= valid
    sigma = mad_std(off_expected[keep])
    if not np.isfinite(sigma) or sigma == 0:
        return True
    far_result = int(np.sum(np.abs(off_result[keep]) > 5 * sigma))
    far_expected = int(np.sum(np.abs(off_expected[keep]) > 5 * sigma))
    return far_result <= far_expected + 3 + 3 * np.sqrt(far_expected)


def _compare(name, result, expected, variants, where, rtol=RTOL, atol=ATOL, truth=None, alternatives=(),
             valid=None):
    """Compare an array result with the reference; name the mistake if known.

    A result that differs from the reference's but is, on this night, at
    least as close to the simulator's noiseless ``truth`` passes (a sound
    method of another kind: a sigma-clipped mean, float32 arithmetic, ...);
    what it was recognised as goes to :data:`NOTES`.
    """
    if _close(result, expected, rtol=rtol, atol=atol):
        return None
    if truth is not None:
        accepted, rms_result, rms_expected = _as_good_as_reference(result, expected, truth, valid)
        if accepted:
            known = _name_mistake(result, alternatives, expected, rtol=1e-4, atol=1e-6) if alternatives else None
            how = "quieter than" if rms_result < rms_expected * 0.99 else "as close to the truth as"
            NOTES.append(f"{name} on {where}: {known or 'another sound method'}: accepted, {how} the reference "
                         f"(rms from the noiseless truth {rms_result:.3g} vs {rms_expected:.3g})")
            return None
    mistake = _name_mistake(result, variants, expected, rtol=rtol, atol=atol)
    if mistake:
        return f"{name} on {where}: {mistake}"
    diff = np.abs(np.asarray(result, dtype=float) - expected)
    further = ""
    if truth is not None:
        rms_result, _mean, _n = _closeness_to_truth(result, truth, valid)
        rms_expected, _mean, _n = _closeness_to_truth(expected, truth, valid)
        further = f"; further from the simulator's noiseless truth (rms {rms_result:.3g} vs {rms_expected:.3g})"
    return (
        f"{name} on {where} differs from the expected result "
        f"(largest difference {np.nanmax(diff):.4g}, median {np.nanmedian(diff):.4g}){further}"
    )


def _truth(night):
    """The simulator's noiseless components of ``night``, or None when it is not a simulated night we know."""
    simulation = getattr(night, "simulation", None)
    if simulation is None:
        return None
    key = ("truth", id(simulation))
    if key not in _REFERENCE_CACHE:
        from sample_data import simulate

        _REFERENCE_CACHE[key] = (simulation, simulate.true_components(night=simulation))
    return _REFERENCE_CACHE[key][1]


def _gain(night):
    simulation = getattr(night, "simulation", None)
    return simulation.camera.gain_e_per_adu if simulation is not None else lab.GAIN_E_PER_ADU


# ---------------------------------------------------------------------------
# The reference answers
#
# Computed here, on the trusted side, by the reference module, and kept for
# the life of the process: every student of a grading run is judged on the
# same nights, so each answer is computed once.  Answers are keyed by the
# *content* of the inputs.

_REFERENCE_CACHE = {}
#: Answers kept at most (a grading run needs a few dozen).
_REFERENCE_CACHE_SIZE = 256


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


def _reference(name, *args, **kwargs):
    """The reference module's ``name(*args, **kwargs)``, computed once per input."""
    key = _fingerprint([name, list(args), sorted(kwargs.items())])
    if key not in _REFERENCE_CACHE:
        import solutions

        if len(_REFERENCE_CACHE) >= _REFERENCE_CACHE_SIZE:
            _REFERENCE_CACHE.clear()
        _REFERENCE_CACHE[key] = getattr(solutions, name)(*args, **kwargs)
    return _REFERENCE_CACHE[key]


# ---------------------------------------------------------------------------
# Inputs: the bundled frames and a small second night made on the fly


class Night:
    """File names of one set of frames, with the exposure times they carry.

    ``ptc_pairs`` are the photon-transfer flats, pairs ``(path_a, path_b)``
    faint to bright, and ``dark_series`` the darks of several exposure times
    (each file's EXPTIME gives its time), ordered by time; both may be empty.
    """

    def __init__(self, folder, biases, darks, flats, science, shape, dark_exptime, science_exptime, description,
                 ptc_pairs=(), dark_series=()):
        self.folder = Path(folder)
        self.biases = list(biases)
        self.darks = list(darks)
        self.flats = list(flats)
        self.science = science
        self.shape = tuple(shape)
        self.dark_exptime = float(dark_exptime)
        self.science_exptime = float(science_exptime)
        self.description = description
        self.ptc_pairs = [tuple(pair) for pair in ptc_pairs]
        self.dark_series = list(dark_series)


def bundled_night():
    """The bundled frames that the students reduce."""
    from astropy.io import fits

    shape = fits.getdata(data_path(lab.FIRST_BIAS_FILE)).shape
    night = Night(
        folder=Path(data_path(lab.FIRST_BIAS_FILE)).parent,
        biases=data_paths(lab.BIAS_FILES),
        darks=data_paths(lab.DARK_FILES),
        flats=data_paths(lab.FLAT_FILES),
        science=data_path(lab.SCIENCE_FILE),
        shape=shape,
        dark_exptime=lab.DARK_EXPTIME_S,
        science_exptime=lab.SCIENCE_EXPTIME_S,
        description="the bundled frames",
        ptc_pairs=[tuple(data_paths(pair)) for pair in lab.PTC_FLAT_PAIRS],
        dark_series=data_paths(lab.DARK_SERIES_FILES),
    )
    night.simulation = _bundled_simulation(night.biases[0])
    return night


def _bundled_simulation(first_bias):
    """The simulator's description of the bundled night when ``first_bias`` is its frame, else None."""
    import hashlib
    import json

    from sample_data import simulate

    try:
        truth = json.loads(Path(simulate.BUNDLED_TRUTH).read_text())
        recorded = truth["frames"][Path(first_bias).name]["sha256"]
    except (OSError, KeyError, ValueError):
        return None
    if hashlib.sha256(Path(first_bias).read_bytes()).hexdigest() != recorded:
        return None
    return simulate.bundled_description()


#: Shape (without a seed) and exposure times of the second night: nothing like the bundled one.
SECOND_SHAPE = (29, 43)
#: Seed of the second night when none is given (tests, the notebooks' own hidden tests).
DEFAULT_SECOND_SEED = 2024
SECOND_DARK_EXPTIME_S = 30.0
SECOND_SCIENCE_EXPTIME_S = 90.0
SECOND_FLAT_EXPTIMES_S = (1.0, 3.0, 2.0)
#: The second night's photon-transfer pairs and dark series, s: other times than the bundled night's.
SECOND_PTC_EXPTIMES_S = (0.08, 0.6, 5.0, 20.0, 50.0, 85.0, 110.0, 250.0)
SECOND_DARK_SERIES_EXPTIMES_S = (10.0, 30.0, 60.0, 90.0)


def _write_raw(path, data, imagetyp, exptime):
    """Write ``data`` (ADU) as a raw 16-bit frame with a minimal header; return the path as a str."""
    from astropy.io import fits

    header = fits.Header()
    header["IMAGETYP"] = imagetyp
    header["EXPTIME"] = (float(exptime), "exposure time [s]")
    header["FILTER"] = "R"
    header["GAIN"] = (lab.GAIN_E_PER_ADU, "gain [e-/ADU]")
    header["OBJECT"] = "TEST"
    fits.PrimaryHDU(np.clip(np.rint(data), 0, lab.SATURATION_ADU).astype(np.uint16), header).writeto(path)
    return str(path)


def second_shape(seed):
    """Shape of the second night drawn with ``seed``: about 30 x 40 pixels, never square."""
    if seed == DEFAULT_SECOND_SEED:
        return SECOND_SHAPE
    rng = np.random.default_rng([seed, 1])
    return int(rng.integers(24, 36)), int(rng.integers(37, 50))


def second_night(folder, seed=DEFAULT_SECOND_SEED):
    """Write a small night with another shape, camera and exposure times.

    The simulator renders it (``sample_data.simulate.NightDescription``):
    the same physics as the bundled frames, another camera.  Its bias is low
    (about 100 ADU), so that many dark pixels fall below the master bias and
    a subtraction done in uint16 wraps around; the chip is warmer (0 C), so
    its dark current is ten times higher; the gain is 1.3 e-/ADU, the read
    noise 8 e-, the full well 60,000 e- (its very hot pixels fill it within
    50-90 s); the flats' levels differ by up to a factor of three; the darks
    take 30 s; the photon-transfer pairs and the dark series have their own
    exposure times.
    The second bias frame carries a strong cosmic ray, so a mean combine
    differs from a median.  No truth file is written: the noiseless patterns
    are ``simulate.true_components(night=night.simulation)``.

    Parameters
    ----------
    folder : str or pathlib.Path
        Empty folder to write the frames into.
    seed : int
        Seed of the patterns, the noise and the shape (:func:`second_shape`).

    Returns
    -------
    Night
        With ``seed`` and ``simulation`` (the NightDescription) set.
    """
    from sample_data import simulate

    folder = Path(folder)
    shape = second_shape(seed)
    camera = simulate.Camera(gain_e_per_adu=1.3, read_noise_e=8.0, bias_level_adu=100.0, bias_column_sigma_adu=1.0,
                             ccd_temp_c=0.0, full_well_e=60_000.0, very_hot_fill_time_range_s=(50.0, 90.0))
    description = simulate.NightDescription(
        shape=shape, seed=seed, camera=camera,
        bias_files=tuple(f"bias{i}.fit" for i in range(5)),
        dark_files=tuple(f"dark{i}.fit" for i in range(3)),
        flat_files=tuple(f"flat{i}.fit" for i in range(len(SECOND_FLAT_EXPTIMES_S))),
        science_file="science.fit",
        dark_exptime_s=SECOND_DARK_EXPTIME_S,
        science_exptime_s=SECOND_SCIENCE_EXPTIME_S,
        flat_exptimes_s=SECOND_FLAT_EXPTIMES_S,
        flat_level_range_adu=(4000.0, 12000.0),
        planted_hits=(("bias1.fit", 5, 10, 3, 4, 6000.0),),
        label=f"a {shape[0]}x{shape[1]} test set",
        ptc_pairs=tuple((f"lamp{i}a.fit", f"lamp{i}b.fit") for i in range(len(SECOND_PTC_EXPTIMES_S))),
        ptc_exptimes_s=SECOND_PTC_EXPTIMES_S,
        dark_series_files=tuple(f"darkseries{i}.fit" for i in range(2 * len(SECOND_DARK_SERIES_EXPTIMES_S))),
        dark_series_exptimes_s=SECOND_DARK_SERIES_EXPTIMES_S,
    )
    simulate.simulate_night(folder, night=description, truth_file=False)
    night = Night(
        folder,
        [str(folder / name) for name in description.bias_files],
        [str(folder / name) for name in description.dark_files],
        [str(folder / name) for name in description.flat_files],
        str(folder / description.science_file),
        description.shape, description.dark_exptime_s, description.science_exptime_s, description.label,
        ptc_pairs=[(str(folder / a), str(folder / b)) for a, b in description.ptc_pairs],
        dark_series=[str(folder / name) for name in description.dark_series_files],
    )
    night.seed = seed
    night.simulation = description
    return night


#: The second night of this grading run (:func:`use_second_night`), or None.
_SECOND_NIGHT = None


def use_second_night(night):
    """Judge every later candidate on ``night`` (a :class:`Night` from :func:`second_night`).

    The grader draws one per grading run, outside the sandbox, so that no
    answer computed in advance can match it.
    """
    global _SECOND_NIGHT
    _SECOND_NIGHT = night


@contextlib.contextmanager
def _nights():
    """Yield the bundled night and the second night, with a temporary folder for outputs."""
    with tempfile.TemporaryDirectory(prefix="ccdlab-check-") as scratch:
        second = _SECOND_NIGHT
        if second is None:
            (Path(scratch) / "second").mkdir()
            second = second_night(Path(scratch) / "second")
        yield [bundled_night(), second], Path(scratch)


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


def _plain_value(value):
    """``value`` as the runner would send it: plain numbers, text or arrays only."""
    import json

    from . import runner as codec
    from .candidates import decode

    blobs = []
    try:
        return decode(json.loads(json.dumps(codec.encode(value, blobs))), blobs)
    except CandidateFailed:
        return Unsupported(type(value).__name__)


def diagnose_center_flux(value):
    """Check ``center_flux``: the central pixel of the first bias frame."""
    value = _plain_value(value)
    data = _first_bias()
    ny, nx = data.shape
    centres = {(ny // 2, nx // 2), ((ny - 1) // 2, (nx - 1) // 2)}
    if value is None:
        return ["center_flux is None: assign the pixel value to it"]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return [f"center_flux should be a number, not {_type_name(value)}"]
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
    value = _plain_value(value)
    data = _first_bias().astype(float)
    expected = data[:, 4].mean()
    if value is None:
        return ["fifth_column_mean is None: assign the mean to it"]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return [f"fifth_column_mean should be a number, not {_type_name(value)}"]
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
    value = _plain_value(value)
    if type(value) is not str or len(value.strip()) != 1:
        shown = repr(value) if type(value) in (str, int, float, bool) or value is None else _type_name(value)
        return [f"{name} should be a single letter such as 'a', not {shown}"]
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
    """Return (edges, counts) of the step histogram drawn on ``ax`` (an AxesRecord)."""
    if len(ax.polygons) != 1:
        return None, len(ax.polygons)
    xy = ax.polygons[0]
    if xy.ndim != 2 or xy.shape[1] != 2:
        return None, 1
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
    problems = []
    if not isinstance(ax, AxesRecord):
        return [f"{name} should return the matplotlib Axes it drew on, not {_type_name(ax)}"]
    if ax.xlabel != "Counts":
        problems.append(f"the x label is {ax.xlabel!r}; it should be 'Counts'")
    if not ax.ylabel.strip():
        problems.append("the y axis has no label (say what is counted, e.g. 'Number of pixels')")
    if ax.title != "Distribution of Bias Counts":
        problems.append(f"the title is {ax.title!r}; it should be 'Distribution of Bias Counts'")
    low, high = lab.BIAS_HISTOGRAM_RANGE_ADU
    if not (_isclose(ax.xlim[0], low) and _isclose(ax.xlim[1], high)):
        problems.append(f"the x range is {tuple(round(v, 1) for v in ax.xlim)}; zoom to ({low}, {high})")
    found, polygons = _step_histogram(ax)
    if found is None:
        if polygons > 1:
            problems.append(
                f"{polygons} histograms were drawn: plt.hist on a 2-D array draws one per column, "
                "flatten the data first (data.flatten())"
            )
        elif ax.rectangles > 1:
            problems.append("the histogram is drawn as bars: use histtype='step'")
        else:
            problems.append("no step histogram found on the Axes (use ax.hist(..., histtype='step'))")
        return problems
    edges, counts = found
    expected, _ = np.histogram(np.asarray(data).ravel(), bins=edges)
    if counts.shape != expected.shape or not _allclose(counts, expected):
        if _isclose(counts.sum(), 1.0 / np.diff(edges).mean(), rtol=0.05) or counts.max() < 1:
            problems.append("the histogram shows a density: plot the number of pixels (density=False)")
        elif counts.sum() < expected.sum():
            problems.append("the histogram counts fewer pixels than the frame has: flatten the whole frame")
        else:
            problems.append(f"the plotted counts do not match np.histogram of the data on {where}")
    return problems


def _test_bias_frame(night):
    """A bias-like uint16 frame of the second night's shape, drawn from its seed."""
    rng = np.random.default_rng([getattr(night, "seed", DEFAULT_SECOND_SEED), 7])
    return np.clip(np.rint(rng.normal(1510.0, 40.0, night.shape)), 0, None).astype(np.uint16)


def diagnose_plot_bias_histogram(func):
    """Check ``plot_bias_histogram(data, ax=None)`` by inspecting what it drew."""
    name = "plot_bias_histogram"
    problems = []
    with _nights() as (nights, _scratch):
        second = _test_bias_frame(nights[1])
        where_second = f"a {second.shape[0]}x{second.shape[1]} test frame"
        try:
            for data, where in ((_first_bias(), "the bundled bias frame"), (second, where_second)):
                result, printed = _call(func, name, data, ax=NEW_AXES)
                nothing = _returned_nothing(name, result, printed)
                if nothing:
                    return [nothing]
                if isinstance(result, AxesRecord) and not result.same_as_given:
                    problems.append(f"{name} did not draw on (and return) the `ax` it was given")
                    continue
                problems += _diagnose_histogram_axes(name, result, data, where)
                if problems:
                    break
            if not problems:
                result, printed = _call(func, name, second)
                nothing = _returned_nothing(name, result, printed)
                if nothing:
                    problems.append(f"called without ax: {nothing}")
                else:
                    problems += [f"called without ax: {p}"
                                 for p in _diagnose_histogram_axes(name, result, second, where_second)]
        except _Failed as failure:
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
                return [f"{name} should return a number (e-/s/pixel), not {_type_name(result)}"]
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
                off = (value - expected) / expected if expected else np.inf
                problems.append(f"{name} on {where} gave {value:.5g} e-/s/pixel, {off:+.1%} off the right value")
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


def _diagnose_master(name, func, make_args, expected_of, variants_of, truth_of=None, alternatives_of=None):
    """Common part of the combine_* checks over both nights.

    ``truth_of(night, components)`` gives the noiseless master the night's
    frames were made from (judging sound alternatives), ``alternatives_of``
    the sound methods the message may name.
    """
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
            components = _truth(night)
            truth = truth_of(night, components) if truth_of and components is not None else None
            alternatives = alternatives_of(night, args) if alternatives_of else ()
            problem = _compare(name, result, expected_of(night, args), variants_of(night, args), night.description,
                               truth=truth, alternatives=alternatives)
            if problem:
                return [problem]
    return []


def _clipped_mean(stack):
    """Mean of each pixel's values after a 3-sigma clip (MAD-based width), as astropy does it."""
    from astropy.stats import mad_std, sigma_clip

    return np.ma.filled(sigma_clip(stack, sigma=3, axis=0, stdfunc=mad_std).mean(axis=0), np.nan)


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
        truth_of=lambda night, components: components["bias_adu"],
        alternatives_of=lambda night, args: [("a sigma-clipped mean", lambda: _clipped_mean(_stack(args[0])))],
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
        truth_of=lambda night, components: components["dark_current_e_per_s"] * night.dark_exptime / _gain(night),
        alternatives_of=lambda night, args: [("a sigma-clipped mean",
                                              lambda: _clipped_mean(_stack(args[0]) - args[1]))],
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

        def normalized(image):
            return image / np.median(image)

        def each_normalized(frames):
            # Every flat over its own median: the flats brought to a common level of 1.
            return frames / np.median(frames, axis=(1, 2), keepdims=True)

        calibrated = stack - master_bias - scaled
        scaled_median = np.median(each_normalized(calibrated), axis=0)
        return [
            ("the flats were not scaled to a common level before combining: divide each by its own median first "
             "(the twilight fades between flats)",
             lambda: normalized(np.median(calibrated, axis=0))),
            ("the flat was normalized by its mean: divide by the median",
             lambda: scaled_median / scaled_median.mean()),
            ("each flat was scaled by its mean: divide each by its own median",
             lambda: normalized(np.median(calibrated / calibrated.mean(axis=(1, 2), keepdims=True), axis=0))),
            ("the flat was not normalized: divide it by its median", lambda: np.median(calibrated, axis=0)),
            ("the combined flat was not normalized: after combining, divide it by its median again",
             lambda: scaled_median),
            ("the dark was not scaled to each flat's exposure time (multiply by EXPTIME_flat / dark_exptime)",
             lambda: normalized(np.median(each_normalized(stack - master_bias - master_dark), axis=0))),
            ("the dark was not subtracted from the flats",
             lambda: normalized(np.median(each_normalized(stack - master_bias), axis=0))),
            ("the bias was not removed from the flats",
             lambda: normalized(np.median(each_normalized(stack - scaled), axis=0))),
            ("one exposure time was used for every flat: read EXPTIME from each flat's header",
             lambda: normalized(np.median(each_normalized(stack - master_bias - master_dark * times[0] / dark_exptime),
                                          axis=0))),
            ("averaged with the mean instead of the median",
             lambda: normalized(each_normalized(calibrated).mean(axis=0))),
        ]

    def scaled_clipped_mean(night, args):
        files, master_bias, master_dark, dark_exptime = args
        stack = _stack(files) - master_bias
        stack -= master_dark * (np.array([_exptime(f) for f in files]) / dark_exptime)[:, None, None]
        stack /= np.median(stack, axis=(1, 2))[:, None, None]
        combined = _clipped_mean(stack)
        return combined / np.nanmedian(combined)

    return _diagnose_master(
        "combine_flats", func, args_of,
        lambda night, args: _reference("combine_flats", *args),
        variants,
        truth_of=lambda night, components: components["flat"] / np.median(components["flat"]),
        alternatives_of=lambda night, args: [("a scaled, sigma-clipped mean",
                                              lambda: scaled_clipped_mean(night, args))],
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
                _result, printed = _call(func, name, data, template, history, OutputPath(out))
            except _Failed as failure:
                return [f"{failure} (on {night.description})"]
            if hashlib.sha256(Path(template).read_bytes()).hexdigest() != before:
                return [f"{name} changed the template file {template}: raw data must never be overwritten"]
            if not out.exists():
                return [f"{name} did not write a file at out_filename"]
            with fits.open(out, memmap=False) as written:
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
                result, printed = _call(func, name, night.science, OutputPath(out), paths["bias"], paths["dark"],
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
            components = _truth(night)
            truth = valid = None
            if components is not None:
                truth = components["sky_e_per_s"] * night.science_exptime / _gain(night)
                valid = fits.getdata(night.science) < night.simulation.camera.saturation_adu
            problem = _compare(name, result, expected, variants, night.description, truth=truth, valid=valid)
            if problem:
                return [problem]
            if not out.exists():
                return [f"{name} did not write the calibrated frame to new_filename"]
            with fits.open(out, memmap=False) as written:
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

class _Diagnoses(Mapping):
    """Graded item -> its diagnosis: this module's, then those of the notebooks' own modules.

    The notebooks' modules (e.g. :mod:`autograder.checks_camera`) import their
    machinery from this one, so they are imported on first use, not when this
    module loads: no import circle.
    """

    def __init__(self, own, modules):
        self._own, self._modules, self._all = dict(own), tuple(modules), None

    def _items(self):
        if self._all is None:
            import importlib

            merged = dict(self._own)
            for module in self._modules:
                merged.update(importlib.import_module(module, __package__).DIAGNOSES)
            self._all = merged
        return self._all

    def __getitem__(self, item):
        return self._items()[item]

    def __iter__(self):
        return iter(self._items())

    def __len__(self):
        return len(self._items())


#: Graded item -> its diagnosis.  The grade_id of its cell is ``test_<item>``.
DIAGNOSES = _Diagnoses({
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
}, [".checks_camera"])

# ---------------------------------------------------------------------------
# The hidden grade cells' entry points (plain ``nbgrader autograde``, the
# instructor notebooks): the candidate is judged in this process, against the
# reference module.  ``ccdlab grade`` does not use them: it strips the hidden
# tests and judges each answer through the student's runner instead.


def check(item, candidate):
    """Judge one graded item here; raise AssertionError naming the mistake.

    Parameters
    ----------
    item : str
        Name of the graded function or variable, e.g. ``'combine_bias'``.
    candidate : object
        The student's function or value.
    """
    NOTES.clear()
    problems = DIAGNOSES[item](candidate)
    if problems:
        raise AssertionError("\n".join(problems))
    print("\n".join(NOTES) or f"{item}: correct")


def check_center_flux(value):
    """Hidden test of ``center_flux`` (notebook 01)."""
    check("center_flux", value)


def check_fifth_column_mean(value):
    """Hidden test of ``fifth_column_mean`` (notebook 01)."""
    check("fifth_column_mean", value)


def check_answer_bias_exptime(value):
    """Hidden test of ``answer_bias_exptime`` (notebook 01)."""
    check("answer_bias_exptime", value)


def check_plot_bias_histogram(function):
    """Hidden test of ``plot_bias_histogram`` (notebook 02)."""
    check("plot_bias_histogram", function)


def check_calc_dark_current(function):
    """Hidden test of ``calc_dark_current`` (notebook 03)."""
    check("calc_dark_current", function)


def check_load_stack(function):
    """Hidden test of ``load_stack`` (notebook 04)."""
    check("load_stack", function)


def check_answer_center_pixel(value):
    """Hidden test of ``answer_center_pixel`` (notebook 04)."""
    check("answer_center_pixel", value)


def check_answer_ninth_image(value):
    """Hidden test of ``answer_ninth_image`` (notebook 04)."""
    check("answer_ninth_image", value)


def check_combine_bias(function):
    """Hidden test of ``combine_bias`` (notebook 04)."""
    check("combine_bias", function)


def check_combine_darks(function):
    """Hidden test of ``combine_darks`` (notebook 04)."""
    check("combine_darks", function)


def check_combine_flats(function):
    """Hidden test of ``combine_flats`` (notebook 04)."""
    check("combine_flats", function)


def check_save_fits(function):
    """Hidden test of ``save_fits`` (notebook 04)."""
    check("save_fits", function)


def check_process_data(function):
    """Hidden test of ``process_data`` (notebook 05)."""
    check("process_data", function)


def check_measure_read_noise(function):
    """Hidden test of ``measure_read_noise`` (notebook 06)."""
    check("measure_read_noise", function)


def check_measure_gain(function):
    """Hidden test of ``measure_gain`` (notebook 06)."""
    check("measure_gain", function)


def check_photon_transfer(function):
    """Hidden test of ``photon_transfer`` (notebook 06)."""
    check("photon_transfer", function)


def check_plot_photon_transfer(function):
    """Hidden test of ``plot_photon_transfer`` (notebook 06)."""
    check("plot_photon_transfer", function)


def check_fit_dark_current(function):
    """Hidden test of ``fit_dark_current`` (notebook 06)."""
    check("fit_dark_current", function)


def check_bad_pixel_mask(function):
    """Hidden test of ``bad_pixel_mask`` (notebook 06)."""
    check("bad_pixel_mask", function)
