"""Checks of notebook 06, "Know your camera": measurements judged against the simulator's truth.

Every other check compares a student's result with the reference's; these
compare it with what the camera *is*: the gain, read noise, full well and dark
current the simulator made the frames with (``night.simulation.camera`` and
``simulate.true_components``), as these frames show them (a bias's noise
includes the readout's dark charge; pixels that fill their wells stop adding
dark signal).  A result passes when it lies within a tolerance of the truth
that a sound method reaches on that many pixels:

    tolerance = max(3 %, 4 standard errors of the estimate for the frame size,
                    2 x the reference's own error on that night)

so a sigma-clipped statistic or a fit by ``np.polyfit`` instead of least
squares by hand passes.  Sound estimators with a known extra error are
recognised and allowed it, named in ``NOTES``: a MAD (whole-count steps, wider
scatter), astropy's default 3-sigma clipping (shortens a standard deviation by
about 1 %), a plain mean per dark (keeps the cosmic rays).  The classic
mistakes (the standard deviation of one bias, the variance of one flat, a
missing factor 2 or sqrt(2), the gain inverted, a result in ADU, a dark signal
not divided by time, a mask without the non-linear pixels) fall outside and
are named.  On a night the simulator did not make, the reference's answer
stands in for the truth.

Machinery (calling the candidate, the nights, the reference cache) is that of
:mod:`.compare`, :mod:`.nights` and :mod:`.reference`; this module only adds
the notebook's diagnoses, and :data:`autograder.checks.DIAGNOSES` lists them.
"""

import contextlib
import math

import numpy as np

from ..candidates import NEW_AXES, AxesRecord
from .compare import NOTES, _call, _Failed, _returned_nothing, _type_name
from .nights import _exptime, _nights, _read
from .reference import _reference, _truth

#: Smallest relative tolerance of a measured camera parameter.
FLOOR = 0.03
#: Standard errors of the estimate a sound measurement may be off by.
STANDARD_ERRORS = 4.0
#: ``max_dark_current`` of the bad-pixel check, in units of the night's typical dark current: above
#: every ordinary pixel (at most about 1.6 x typical) and inside the hot pixels' range (10-1000 x),
#: so that hot pixels lie on both sides of it and of it times the gain (a current left in ADU/s).
BAD_PIXEL_LIMIT_TYPICAL = 20.0
#: Pixels within this factor of the limit are neither required nor forbidden in a mask.
BAD_PIXEL_MARGIN = 1.3
#: A pixel must be flagged non-linear when its dark charge in the longest dark reaches this fraction of
#: the full well (it reads 7.5 % short of its line), and must not be when it stays below this fraction
#: of the linear limit.
NONLINEAR_MUST_FULL_WELL = 1.0
NONLINEAR_LINEAR_FRACTION = 0.95
#: Flagged good pixels allowed, as a fraction of the good pixels (e.g. a few cosmic rays taken for
#: non-linear pixels); at least ``BAD_PIXEL_FALSE_MIN``.
BAD_PIXEL_FALSE_FRACTION = 0.002
BAD_PIXEL_FALSE_MIN = 3
#: The gain is measured on the brightest pair whose mean stays below this fraction of the linear
#: limit (the flat's pattern takes its brightest pixels some 20 % higher).
GAIN_PAIR_LINEAR_FRACTION = 0.65
#: PTC points are judged up to this fraction of the linear limit (beyond, the response bends).
PTC_LINEAR_FRACTION = 0.75
#: Half the step of a MAD-based standard deviation of whole-count values, ADU (0.5 x 1.4826): the
#: median of whole numbers moves by whole counts, so such an estimate may be off by this much.
MAD_STEP_ADU = 0.75
#: A MAD scatters 1.65 times as much as a standard deviation (its efficiency is 37 %): the extra
#: standard errors, as a fraction of ``STANDARD_ERRORS``, a MAD-based estimate may be off.
MAD_EXTRA_ERRORS = 0.65
#: How much astropy's default clipping (3 sigma, iterated) shortens a Gaussian's standard deviation
#: (about 1.3 %; twice that for a variance), with some room.
CLIP3_STD_BIAS = 0.02


# ---------------------------------------------------------------------------
# What the camera is, and how close a sound measurement comes


@contextlib.contextmanager
def _camera_nights(nights):
    """The nights to judge on: ``nights`` if given (tests), else the bundled and the second night."""
    if nights is not None:
        yield list(nights)
        return
    with _nights() as (both, _scratch):
        yield both


def _camera(night):
    """The simulated camera of ``night``, or None for frames the simulator did not make."""
    simulation = getattr(night, "simulation", None)
    return None if simulation is None else simulation.camera


def _bias_pair(night):
    return night.biases[0], night.biases[1]


def _pixels(night):
    return int(night.shape[0] * night.shape[1])


def tolerance(standard_error, reference, truth):
    """Relative tolerance: the floor, ``STANDARD_ERRORS`` standard errors, or twice the reference's error."""
    reference_error = abs(reference / truth - 1.0) if truth else 0.0
    return max(FLOOR, STANDARD_ERRORS * standard_error, 2.0 * reference_error)


def _value(name, result, printed, unit):
    """The result as a float, or a problem string."""
    nothing = _returned_nothing(name, result, printed)
    if nothing:
        return nothing
    if isinstance(result, bool) or not isinstance(result, (int, float)):
        if isinstance(result, np.ndarray) and result.size == 1 and result.dtype.kind in "iuf":
            return float(result.ravel()[0])
        return f"{name} should return a number ({unit}), not {_type_name(result)}"
    value = float(result)
    if not math.isfinite(value):
        return f"{name} returned {value}: not a finite number"
    return value


def _judge_number(name, value, truth, tol, unit, variants, where, alternatives=()):
    """None if ``value`` is within ``tol`` (relative) of ``truth``; else the problem, naming the mistake.

    ``alternatives`` are sound estimators with a known bias, ``(label, value
    function, allowance)``: a value within 0.5 % of one whose own result lies
    within ``tol`` + allowance of the truth passes, named in :data:`NOTES`.
    """
    off = value / truth - 1.0
    if abs(off) <= tol:
        NOTES.append(f"{name} on {where}: {value:.4g} {unit}, the camera's {truth:.4g} ({off:+.1%}, within {tol:.0%})")
        return None
    for label, alternative, allowance in alternatives:
        expected = alternative()
        if abs(value / expected - 1.0) <= 0.005 and abs(expected / truth - 1.0) <= tol + allowance:
            NOTES.append(f"{name} on {where}: {label}: accepted, {off:+.1%} off the truth (its known bias "
                         f"allows {tol + allowance:.0%})")
            return None
    best, best_off = None, np.inf
    for mistake, variant in variants:
        try:
            expected = variant()
        except Exception:  # a variant that cannot be computed names nothing
            continue
        if expected is None or not np.isfinite(expected) or expected == 0:
            continue
        distance = abs(value / expected - 1.0)
        if distance < best_off:
            best, best_off = mistake, distance
    if best is not None and (best_off <= max(tol, 0.02) or best_off * 10 <= abs(off)):
        return f"{name} on {where}: {best} (gave {value:.4g} {unit}, the camera's is {truth:.4g})"
    return (f"{name} on {where} gave {value:.4g} {unit}, {off:+.1%} off the camera's {truth:.4g} {unit} "
            f"(a sound measurement on these frames comes within {tol:.0%})")


def _plain_std(values):
    return float(np.std(values))


def _clipped_std(values, sigma=5.0):
    from astropy.stats import sigma_clipped_stats

    return float(sigma_clipped_stats(values, sigma=sigma, maxiters=10 if sigma >= 5 else 5)[2])


def _mad_std(values):
    from astropy.stats import mad_std

    return float(mad_std(values))


def _mean_pair(path_a, path_b):
    return 0.5 * (_read(path_a).mean() + _read(path_b).mean())


# ---------------------------------------------------------------------------
# Read noise


def read_noise_truth(night):
    """(truth e-, relative standard error) of the read noise measured from the night's bias pair.

    The truth is the noise a bias frame holds: the camera's read noise, the
    shot noise of the dark charge a typical (median) pixel collects while the
    frame is shifted out, and the rounding to whole counts (1/12 ADU^2) -- a
    few tenths of a percent more than the read noise alone on a cooled chip,
    about 2 % on a warm one.  (The hot pixels' trails are few: a robust
    statistic leaves them out.)
    """
    camera = _camera(night)
    standard_error = 1.0 / math.sqrt(2.0 * _pixels(night))
    if camera is None:
        return _reference("measure_read_noise", *_bias_pair(night), _gain_of(night)), standard_error
    readout_e = float(np.median(_truth(night)["readout_dark_e"]))
    rounding_e2 = camera.gain_e_per_adu ** 2 / 12.0
    return math.sqrt(camera.read_noise_e ** 2 + readout_e + rounding_e2), standard_error


def _gain_of(night):
    camera = _camera(night)
    if camera is not None:
        return float(camera.gain_e_per_adu)
    from convenience_functions import lab

    return lab.GAIN_E_PER_ADU


def diagnose_measure_read_noise(func, nights=None):
    """Check ``measure_read_noise(bias_file_1, bias_file_2, gain)`` against the camera's read noise."""
    name = "measure_read_noise"
    with _camera_nights(nights) as nights:
        for night in nights:
            first, second = _bias_pair(night)
            gain = _gain_of(night)
            try:
                result, printed = _call(func, name, first, second, gain)
            except _Failed as failure:
                return [f"{failure} (on {night.description})"]
            value = _value(name, result, printed, "e-")
            if isinstance(value, str):
                return [value]
            truth, standard_error = read_noise_truth(night)
            reference = _reference(name, first, second, gain)
            tol = tolerance(standard_error, reference, truth)
            one, two = _read(first), _read(second)
            difference = one - two
            root2 = math.sqrt(2.0)
            variants = [
                ("the standard deviation of one bias includes the bias's fixed column pattern: use the "
                 "difference of the two biases", lambda: _plain_std(one) * gain),
                ("the standard deviation of one bias includes the bias's fixed column pattern: use the "
                 "difference of the two biases", lambda: _clipped_std(one) * gain),
                ("the standard deviation of the difference was not divided by sqrt(2) (a difference holds the "
                 "noise of two frames)", lambda: _clipped_std(difference) * gain),
                ("divided by 2 instead of sqrt(2): the variances of the two frames add, so the standard "
                 "deviation of the difference is sqrt(2) times one frame's",
                 lambda: _clipped_std(difference) / 2 * gain),
                ("the result is in ADU: multiply by the gain (e-/ADU) to get electrons",
                 lambda: _clipped_std(difference) / root2),
                ("divided by the gain: electrons = ADU x gain", lambda: _clipped_std(difference) / root2 / gain),
                ("the standard deviation is not robust: the cosmic rays the biases caught count as noise "
                 "(use a sigma-clipped standard deviation or the MAD)", lambda: _plain_std(difference) / root2 * gain),
                ("returned a variance, not a standard deviation",
                 lambda: _clipped_std(difference) ** 2 / 2 * gain ** 2),
            ]
            alternatives = [
                # The MAD of whole-count differences moves in steps of 1.48 ADU: sound, if coarse.
                ("the MAD of the difference", lambda: _mad_std(difference) / root2 * gain,
                 MAD_STEP_ADU / _clipped_std(difference) + MAD_EXTRA_ERRORS * STANDARD_ERRORS * standard_error),
                ("a 3-sigma clipped standard deviation", lambda: _clipped_std(difference, 3.0) / root2 * gain,
                 CLIP3_STD_BIAS),
            ]
            problem = _judge_number(name, value, truth, tol, "e-", variants, night.description, alternatives)
            if problem:
                return [problem]
    return []


# ---------------------------------------------------------------------------
# Gain


def _ptc_signals(night):
    signal, _variance = _reference("photon_transfer", [tuple(pair) for pair in night.ptc_pairs],
                                   *_bias_pair(night))
    return signal


def linear_limit_adu(night):
    """Signal above the bias up to which the camera's response is linear, ADU."""
    camera = _camera(night)
    if camera is not None:
        return getattr(camera, "linear_limit_fraction", 1.0) * camera.full_well_e / camera.gain_e_per_adu
    from astropy.io import fits

    header = fits.getheader(night.ptc_pairs[0][0])
    return 0.7 * (float(header.get("SATURATE", 65535)) - _read(night.biases[0]).mean())


def gain_pair(night):
    """The flat pair the gain is measured on: the brightest below ``GAIN_PAIR_LINEAR_FRACTION`` of the linear limit."""
    signal = _ptc_signals(night)
    below = np.flatnonzero(signal < GAIN_PAIR_LINEAR_FRACTION * linear_limit_adu(night))
    index = int(below[np.argmax(signal[below])]) if below.size else int(np.argmin(signal))
    return tuple(night.ptc_pairs[index])


def gain_truth(night, pair):
    """(truth e-/ADU, relative standard error) of the gain measured on ``pair`` and the night's biases."""
    camera = _camera(night)
    signal = _mean_pair(*pair) - _mean_pair(*_bias_pair(night))
    gain = _gain_of(night)
    read_adu2 = (camera.read_noise_e / gain) ** 2 if camera is not None else 0.0
    flat_difference = 2.0 * (signal / gain + read_adu2)
    bias_difference = 2.0 * read_adu2
    standard_error = (math.sqrt(2.0 / _pixels(night)) * math.hypot(flat_difference, bias_difference)
                      / (flat_difference - bias_difference))
    if camera is None:
        return _reference("measure_gain", *pair, *_bias_pair(night)), standard_error
    return float(camera.gain_e_per_adu), standard_error


def diagnose_measure_gain(func, nights=None):
    """Check ``measure_gain(flat_file_1, flat_file_2, bias_file_1, bias_file_2)`` against the camera's gain."""
    name = "measure_gain"
    with _camera_nights(nights) as nights:
        for night in nights:
            pair, biases = gain_pair(night), _bias_pair(night)
            try:
                result, printed = _call(func, name, pair[0], pair[1], biases[0], biases[1])
            except _Failed as failure:
                return [f"{failure} (on {night.description})"]
            value = _value(name, result, printed, "e-/ADU")
            if isinstance(value, str):
                return [value]
            truth, standard_error = gain_truth(night, pair)
            reference = _reference(name, *pair, *biases)
            tol = tolerance(standard_error, reference, truth)
            f1, f2, b1, b2 = (_read(path) for path in (*pair, *biases))
            sums = f1.mean() + f2.mean() - b1.mean() - b2.mean()
            flat_var, bias_var = _clipped_std(f1 - f2) ** 2, _clipped_std(b1 - b2) ** 2
            variants = [
                ("the gain is inverted (that is ADU/e-): gain = signal / variance, in e-/ADU",
                 lambda: (flat_var - bias_var) / sums),
                ("the variance of one flat includes the flat's fixed pattern (vignetting, pixel response): use "
                 "the variance of the difference of the two flats",
                 lambda: (f1.mean() - b1.mean()) / (np.var(f1) - np.var(b1))),
                ("the variance of one flat includes the flat's fixed pattern (vignetting, pixel response): use "
                 "the variance of the difference of the two flats",
                 lambda: sums / (np.var(f1) + np.var(f2) - np.var(b1) - np.var(b2))),
                ("a factor 2 is missing: the difference of two frames has twice one frame's variance "
                 "(mean of one flat over the variance of the difference)", lambda: sums / 2 / (flat_var - bias_var)),
                ("a factor 2 is missing: the sum of the two flats' means goes with the variance of their "
                 "difference (or one flat's mean with half of it)", lambda: sums * 2 / (flat_var - bias_var)),
                ("the bias was not subtracted from the flats' signal",
                 lambda: (f1.mean() + f2.mean()) / (flat_var - bias_var)),
            ]
            alternatives = [
                ("MAD-based variances", lambda: sums / (_mad_std(f1 - f2) ** 2 - _mad_std(b1 - b2) ** 2),
                 MAD_EXTRA_ERRORS * STANDARD_ERRORS * standard_error),
                ("3-sigma clipped variances", lambda: sums / (_clipped_std(f1 - f2, 3.0) ** 2
                                                               - _clipped_std(b1 - b2, 3.0) ** 2),
                 2 * CLIP3_STD_BIAS),
            ]
            problem = _judge_number(name, value, truth, tol, "e-/ADU", variants, night.description, alternatives)
            if problem:
                return [problem]
    return []


# ---------------------------------------------------------------------------
# Photon transfer curve


def _pair_of_arrays(name, result, printed, count):
    """(signal, variance) float arrays of ``count`` points, or a problem string."""
    nothing = _returned_nothing(name, result, printed)
    if nothing:
        return nothing
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return (f"{name} should return two arrays, (signal_adu, variance_adu2), not {_type_name(result)}"
                + (f" of {len(result)} items" if isinstance(result, (tuple, list)) else ""))
    arrays = []
    for label, item in zip(("signal_adu", "variance_adu2"), result):
        if isinstance(item, list):
            item = np.asarray(item)
        if not isinstance(item, np.ndarray) or item.dtype.kind not in "iuf":
            return f"{name}: {label} should be an array of numbers, not {_type_name(item)}"
        if item.shape != (count,):
            return f"{name}: {label} has shape {item.shape}; expected one value per flat pair, shape ({count},)"
        arrays.append(item.astype(float))
    return tuple(arrays)


def ptc_truth(night):
    """Per pair: true signal (ADU), true variance of one frame (ADU^2), its relative standard error, judged?

    The signal is the simulator's noiseless mean level of the pair
    (``simulate.ptc_levels_adu``); the variance, shot noise (signal / gain)
    plus a bias frame's noise (:func:`read_noise_truth`: read noise, the
    readout's dark charge, rounding to whole counts).  Only pairs
    below ``PTC_LINEAR_FRACTION`` of the linear limit are judged (beyond, the
    bending response squeezes the noise, and the converter may clip).
    """
    camera = _camera(night)
    reference_signal, reference_variance = _reference(
        "photon_transfer", [tuple(p) for p in night.ptc_pairs], *_bias_pair(night))
    count = reference_signal.size
    standard_error = np.full(count, math.sqrt(2.0 / _pixels(night)))
    if camera is None:
        return reference_signal, reference_variance, standard_error, np.ones(count, bool)
    from sample_data import simulate

    signal = np.asarray(simulate.ptc_levels_adu(night.simulation, _truth(night))[1], dtype=float)
    gain = camera.gain_e_per_adu
    variance = signal / gain + (read_noise_truth(night)[0] / gain) ** 2
    judged = signal < PTC_LINEAR_FRACTION * linear_limit_adu(night)
    return signal, variance, standard_error, judged


def bias_level_spread(night):
    """How far sound estimates of the bias pair's level differ, ADU: mean, median, mean without cosmic rays.

    A plain mean keeps a cosmic ray, a median or clipped mean drops the trails
    that hot pixels leave while read out (which the flats hold too): on a warm
    chip or with a bright cosmic ray they differ by many ADU, which matters
    for the faintest pairs only.
    """
    first, second = (_read(path) for path in _bias_pair(night))
    both = 0.5 * (first + second)
    levels = [both.mean(), np.median(both), np.minimum(first, second).mean() + 0.5 * abs(np.mean(first - second))]
    return float(np.ptp(levels))


def _ptc_variants(night):
    pairs, biases = night.ptc_pairs, _bias_pair(night)
    bias_level = _mean_pair(*biases)
    bias_read = _clipped_std(_read(biases[0]) - _read(biases[1])) ** 2 / 2

    def each(function):
        return np.array([function(_read(a), _read(b)) for a, b in pairs])

    return [
        ("variance: the variance of one flat includes the flat's fixed pattern (a number ten or more times "
         "too large at high signal): use half the variance of the difference of the two flats",
         None, lambda: each(lambda a, b: np.var(a))),
        ("variance: the variance of the difference was not divided by 2 (it holds the noise of two frames)",
         None, lambda: each(lambda a, b: _clipped_std(a - b) ** 2)),
        ("variance: a standard deviation was returned, not a variance (ADU^2)",
         None, lambda: each(lambda a, b: _clipped_std(a - b) / math.sqrt(2))),
        ("variance: the read noise's variance was subtracted; this curve shows the total noise, read-noise "
         "floor included", None, lambda: each(lambda a, b: _clipped_std(a - b) ** 2 / 2) - bias_read),
        ("signal: the bias was not subtracted from the flats' mean",
         lambda: each(lambda a, b: (a.mean() + b.mean()) / 2),
         None),
        ("signal: the two flats' means were added, not averaged",
         lambda: each(lambda a, b: a.mean() + b.mean()) - 2 * bias_level, None),
    ]


def judge_photon_transfer(night, signal, variance):
    """Problems of a PTC (signal ADU, variance ADU^2 per pair) on ``night``; [] if sound."""
    name = "photon_transfer"
    reference_signal, reference_variance = _reference(
        name, [tuple(p) for p in night.ptc_pairs], *_bias_pair(night))
    true_signal, truth, standard_error, judged = ptc_truth(night)
    signal_tol = np.maximum(FLOOR * np.abs(true_signal), 1.0 + bias_level_spread(night))
    bad_signal = judged & (np.abs(signal - true_signal) > signal_tol)
    tol = np.array([tolerance(se, r, t) for se, r, t in zip(standard_error, reference_variance, truth)])
    bad_variance = judged & (np.abs(variance / truth - 1.0) > tol)
    if not bad_signal.any() and not bad_variance.any():
        worst = float(np.max(np.abs(variance[judged] / truth[judged] - 1.0)))
        NOTES.append(f"{name} on {night.description}: {int(judged.sum())} points below the bend judged, variances "
                     f"within {worst:.1%} of shot + read noise")
        return []
    for mistake, signal_of, variance_of in _ptc_variants(night):
        try:
            if signal_of is not None and bad_signal.any():
                wrong = signal_of()
                if np.all(np.abs(signal - wrong) <= np.maximum(0.02 * np.abs(wrong), 1.0)):
                    return [f"{name} on {night.description}: {mistake}"]
            if variance_of is not None and bad_variance.any():
                wrong = variance_of()
                close = np.abs(variance / wrong - 1.0) <= np.maximum(tol, 0.05)
                if np.all(close[judged]):
                    return [f"{name} on {night.description}: {mistake}"]
        except Exception:  # a variant that cannot be computed names nothing
            continue
    if bad_signal.any():
        index = int(np.flatnonzero(bad_signal)[0])
        return [f"{name} on {night.description}: the signal of pair {index} is {signal[index]:.5g} ADU; the mean "
                f"of the two flats above the bias is {true_signal[index]:.5g} ADU"]
    index = int(np.flatnonzero(bad_variance)[0])
    return [f"{name} on {night.description}: the variance of pair {index} is {variance[index]:.5g} ADU^2; shot "
            f"and read noise at {true_signal[index]:.4g} ADU make {truth[index]:.5g} ADU^2 "
            f"(a sound measurement comes within {tol[index]:.0%})"]


def diagnose_photon_transfer(func, nights=None):
    """Check ``photon_transfer(flat_pairs, bias_file_1, bias_file_2)`` against the camera's noise."""
    name = "photon_transfer"
    with _camera_nights(nights) as nights:
        for night in nights:
            pairs = [list(pair) for pair in night.ptc_pairs]
            try:
                result, printed = _call(func, name, pairs, *_bias_pair(night))
            except _Failed as failure:
                return [f"{failure} (on {night.description})"]
            arrays = _pair_of_arrays(name, result, printed, len(pairs))
            if isinstance(arrays, str):
                return [arrays]
            problems = judge_photon_transfer(night, *arrays)
            if problems:
                return problems
    return []


# ---------------------------------------------------------------------------
# Plot of the photon transfer curve


def _drawn(points, wanted):
    """Whether one of the drawn (x, y) sets is ``wanted`` (in any order of the points)."""
    wanted = wanted[np.argsort(wanted[:, 0])]
    for xy in points:
        if xy.ndim == 2 and xy.shape == wanted.shape:
            xy = xy[np.argsort(xy[:, 0])]
            if np.allclose(xy, wanted, rtol=1e-6, atol=1e-9):
                return True
    return False


def judge_ptc_axes(name, ax, signal, variance):
    """Problems with an AxesRecord that should show the photon-transfer curve on log-log axes.

    Either the variance (ADU^2) or the noise, its square root (ADU), may go
    on y against the signal (ADU) on x; the y label must give the unit of
    what is drawn.
    """
    if not isinstance(ax, AxesRecord):
        return [f"{name} should return the matplotlib Axes it drew on, not {_type_name(ax)}"]
    problems = []
    xscale, yscale = ax.xscale, ax.yscale
    if (xscale, yscale) != ("log", "log"):
        problems.append(f"the axes are {xscale} (x) and {yscale} (y): a photon transfer curve is drawn on "
                        "log-log axes (ax.loglog or ax.set_xscale('log') and ax.set_yscale('log'))")
    if "adu" not in ax.xlabel.lower():
        problems.append(f"the x label {ax.xlabel!r} does not give the unit: the signal is in ADU")
    points = list(ax.lines) + list(ax.points)  # (x, y) of each line and each scatter
    variance_drawn = _drawn(points, np.column_stack([signal, variance]))
    noise_drawn = _drawn(points, np.column_stack([signal, np.sqrt(np.clip(variance, 0, None))]))
    ylabel = ax.ylabel.lower().replace(" ", "")
    squared = any(mark in ylabel for mark in ("^2", "²", "^{2}", "**2", "adu2"))
    if variance_drawn and ("adu" not in ylabel or not squared):
        problems.append(f"the y label {ax.ylabel!r} does not give the unit: the variance is in ADU^2")
    elif noise_drawn and ("adu" not in ylabel or squared):
        problems.append(f"the y label {ax.ylabel!r} does not give the unit: the noise (the square root of the "
                        "variance) is in ADU")
    elif not (variance_drawn or noise_drawn):
        swapped = [xy[:, ::-1] for xy in points if xy.ndim == 2 and xy.shape[1] == 2]
        if _drawn(swapped, np.column_stack([signal, variance])) or _drawn(
                swapped, np.column_stack([signal, np.sqrt(np.clip(variance, 0, None))])):
            problems.append("the axes are swapped: the signal goes on x, the variance (or noise) on y")
        else:
            problems.append(f"the {len(signal)} points given (signal against variance, or against its square "
                            "root, the noise) were not found among the lines and markers drawn")
    return problems


def diagnose_plot_photon_transfer(func, nights=None):
    """Check ``plot_photon_transfer(signal_adu, variance_adu2, ax=None)`` by inspecting what it drew."""
    name = "plot_photon_transfer"
    problems = []
    with _camera_nights(nights) as nights:
        night = nights[-1]  # the second night: another shape and camera each grading run
        signal, variance = _reference("photon_transfer", [tuple(p) for p in night.ptc_pairs], *_bias_pair(night))
        try:
            result, printed = _call(func, name, signal, variance, ax=NEW_AXES)
            nothing = _returned_nothing(name, result, printed)
            if nothing:
                return [nothing]
            if isinstance(result, AxesRecord) and not result.same_as_given:
                return [f"{name} did not draw on (and return) the `ax` it was given"]
            problems += judge_ptc_axes(name, result, signal, variance)
            if not problems:
                result, printed = _call(func, name, signal, variance)
                nothing = _returned_nothing(name, result, printed)
                problems += ([f"called without ax: {nothing}"] if nothing else
                             [f"called without ax: {p}" for p in judge_ptc_axes(name, result, signal, variance)])
        except _Failed as failure:
            return [str(failure)]
    return problems


# ---------------------------------------------------------------------------
# Dark current


def _dark_stack(night, master_bias):
    """Bias-subtracted darks of the series, ADU, and their exposure times, s."""
    files = list(night.dark_series)
    return np.stack([_read(f) - master_bias for f in files]), np.array([_exptime(f) for f in files])


def _well_response(charge_e, camera):
    from sample_data import simulate

    response = getattr(simulate, "well_response", None)
    if response is None:
        return np.minimum(charge_e, camera.full_well_e)
    return response(charge_e, camera.full_well_e, camera.linear_limit_fraction)


def dark_current_truth(night, master_bias):
    """(truth e-/s/pixel, relative standard error) of the mean dark current from the night's dark series.

    The truth is the mean of the simulator's dark current over the pixels as
    the dark series shows it: the slope of the noiseless mean dark signal
    against the darks' exposure times.  That is the plain mean dark current,
    except where pixels fill their wells in the long darks: their charge
    stops growing, and the mean signal grows more slowly than the mean
    current says.  The standard error is that of a straight-line slope through
    the darks' mean signals, each as noisy as read and shot noise over that
    many pixels make it.
    """
    components = _truth(night)
    camera = _camera(night)
    times = np.array([_exptime(f) for f in night.dark_series])
    if components is None or camera is None:
        truth = _reference("fit_dark_current", list(night.dark_series), master_bias, _gain_of(night))
        read_e, mean_current = 0.0, truth
    else:
        current = components["dark_current_e_per_s"]
        readout = components["readout_dark_e"]
        # What a pixel reads above the master bias, e-: the charge it keeps, clipped by the converter.
        headroom_e = (camera.adc_max_adu - components["bias_offset_adu"]) * camera.gain_e_per_adu
        means = [float(np.mean(np.minimum(_well_response(current * t + readout, camera), headroom_e) - readout))
                 for t in times]
        truth = float(np.polyfit(times, means, 1)[0])
        read_e, mean_current = camera.read_noise_e, float(np.mean(current))
    weights = (times - times.mean()) / np.sum((times - times.mean()) ** 2)
    noise_e = np.sqrt((read_e ** 2 + mean_current * times) / _pixels(night))
    standard_error = float(np.sqrt(np.sum((weights * noise_e) ** 2))) / max(truth, 1e-12)
    return truth, standard_error


def diagnose_fit_dark_current(func, nights=None):
    """Check ``fit_dark_current(dark_files, master_bias, gain)`` against the camera's mean dark current."""
    name = "fit_dark_current"
    with _camera_nights(nights) as nights:
        for night in nights:
            master_bias = _reference("combine_bias", night.biases)
            gain = _gain_of(night)
            files = list(night.dark_series)
            try:
                result, printed = _call(func, name, files, master_bias, gain)
            except _Failed as failure:
                return [f"{failure} (on {night.description})"]
            value = _value(name, result, printed, "e-/s/pixel")
            if isinstance(value, str):
                return [value]
            truth, standard_error = dark_current_truth(night, master_bias)
            reference = _reference(name, files, master_bias, gain)
            tol = tolerance(standard_error, reference, truth)
            stack, times = _dark_stack(night, master_bias)
            means = stack.mean(axis=(1, 2))
            slope, intercept = np.polyfit(times, means, 1)
            longest = int(np.argmax(times))
            raw_means = means + master_bias.mean()
            variants = [
                ("the intercept of the fit was returned: the dark current is the slope (signal per second)",
                 lambda: intercept * gain),
                ("the dark signal was not divided by the exposure time (that is e-/pixel, not e-/s/pixel)",
                 lambda: means[longest] * gain),
                ("the dark signal was not divided by the exposure time (that is e-/pixel, not e-/s/pixel)",
                 lambda: means.mean() * gain),
                ("the result is in ADU/s: multiply by the gain (e-/ADU) to get electrons",
                 lambda: slope),
                ("divided by the gain: electrons = ADU x gain", lambda: slope / gain),
                ("the bias was not subtracted: each dark's signal includes the bias level",
                 lambda: float(np.mean(raw_means / times)) * gain),
                ("the median pixel's dark current leaves the hot pixels out: the mean over all pixels is asked",
                 lambda: np.polyfit(times, np.median(stack, axis=(1, 2)), 1)[0] * gain),
            ]
            # Cosmic rays add charge, more in longer darks: a plain mean per dark keeps them (the
            # reference leaves them out); on a small frame one hit moves the slope by a few percent.
            kept_rays = abs(slope * gain / reference - 1.0)
            alternatives = [("the plain mean of each dark (its cosmic rays kept)", lambda: slope * gain, kept_rays)]
            problem = _judge_number(name, value, truth, tol, "e-/s/pixel", variants, night.description, alternatives)
            if problem:
                return [problem]
    return []


# ---------------------------------------------------------------------------
# Bad pixels


def bad_pixel_limits(night):
    """The two ``max_dark_current`` values the check asks for, e-/s/pixel.

    First ``BAD_PIXEL_LIMIT_TYPICAL`` x the typical pixel's dark current (the
    hot pixels matter); then a limit above every pixel's dark current, so
    that only the non-linear pixels are bad (a mask that tests the current
    alone flags none of them).
    """
    components = _truth(night)
    camera = _camera(night)
    if components is not None and camera is not None:
        typical, highest = float(camera.dark_current_e_per_s), float(components["dark_current_e_per_s"].max())
    else:
        master_bias = _reference("combine_bias", night.biases)
        stack, times = _dark_stack(night, master_bias)
        slopes = np.polyfit(times, stack.reshape(len(times), -1), 1)[0] * _gain_of(night)
        typical, highest = float(np.median(slopes)), float(slopes.max())
    return BAD_PIXEL_LIMIT_TYPICAL * typical, 2.0 * highest


def bad_pixel_truth(night, limit):
    """(must be flagged, must not be flagged, non-linear) masks from the simulator's truth, or None.

    Non-linear: the simulator's ``nonlinear_pixels``, and any pixel whose dark
    charge in the longest dark reaches ``NONLINEAR_MUST_FULL_WELL`` of the
    full well.  Must: dark current above ``limit`` x ``BAD_PIXEL_MARGIN``, or
    non-linear.  Must not: dark current below ``limit`` / ``BAD_PIXEL_MARGIN``
    and charge below ``NONLINEAR_LINEAR_FRACTION`` of the linear limit.
    Pixels in between may go either way.
    """
    components = _truth(night)
    camera = _camera(night)
    if components is None or camera is None:
        return None

    current = components["dark_current_e_per_s"]
    longest = max(_exptime(f) for f in night.dark_series)
    charge = current * longest + components["readout_dark_e"]
    knee = getattr(camera, "linear_limit_fraction", 1.0) * camera.full_well_e
    nonlinear = components.get("nonlinear_pixels", np.zeros(current.shape, bool)) | (
        charge >= NONLINEAR_MUST_FULL_WELL * camera.full_well_e)
    must = (current > limit * BAD_PIXEL_MARGIN) | nonlinear
    must_not = (current < limit / BAD_PIXEL_MARGIN) & (charge < NONLINEAR_LINEAR_FRACTION * knee) & ~nonlinear
    return must, must_not, nonlinear


def _allowed_misses(count):
    return int(0.05 * count)


def _allowed_false(must_not):
    return max(BAD_PIXEL_FALSE_MIN, int(BAD_PIXEL_FALSE_FRACTION * must_not.sum()))


def _missed_nonlinear(name, where, missed, nonlinear):
    return (f"{name} on {where}: {int((missed & nonlinear).sum())} of the {int(nonlinear.sum())} non-linear "
            "pixels were not flagged: also flag pixels whose dark signal does not grow linearly with time "
            "(e.g. the longest dark falls short of the line through the shorter ones)")


def judge_bad_pixel_mask(night, mask, limit, master_bias, gain):
    """Problems of a bad-pixel mask on ``night`` for ``max_dark_current = limit``; [] if sound."""
    name = "bad_pixel_mask"
    where = f"{night.description} with max_dark_current={limit:.3g} e-/s"
    truth = bad_pixel_truth(night, limit)
    if truth is None:
        reference = _reference(name, list(night.dark_series), master_bias, gain, limit)
        must, must_not, nonlinear = reference, ~reference, np.zeros(reference.shape, bool)
    else:
        must, must_not, nonlinear = truth
    missed, false = must & ~mask, must_not & mask
    if missed.sum() <= _allowed_misses(must.sum()) and false.sum() <= _allowed_false(must_not):
        NOTES.append(f"{name} on {where}: {int(mask.sum())} pixels flagged; {int((must & mask).sum())} of the "
                     f"{int(must.sum())} bad ones caught, {int(false.sum())} good ones flagged")
        return []
    if (must_not & ~mask).sum() <= _allowed_false(must_not) and (must & mask).sum() <= _allowed_misses(
            must.sum()):
        return [f"{name} on {where}: the mask is inverted: True must mark the bad pixels"]
    if nonlinear.any() and false.sum() <= _allowed_false(must_not) and (missed & nonlinear).sum() > _allowed_misses(
            nonlinear.sum()) and not (missed & ~nonlinear).sum() > _allowed_misses(must.sum()):
        return [_missed_nonlinear(name, where, missed, nonlinear)]
    stack, times = _dark_stack(night, master_bias)
    slopes = np.polyfit(times, stack.reshape(len(times), -1), 1)[0].reshape(mask.shape)
    for mistake, wrong in (
            ("one dark's signal was compared with max_dark_current without dividing by its exposure time "
             "(e-, not e-/s)", stack[int(np.argmax(times))] * gain > limit),
            ("one dark's signal was compared with max_dark_current without dividing by its exposure time "
             "(e-, not e-/s)", stack[int(np.argmin(times))] * gain > limit),
            ("the dark current is in ADU/s: multiply by the gain before comparing with max_dark_current",
             slopes > limit),
            ("the dark current was divided by the gain: electrons = ADU x gain", slopes / gain > limit),
    ):
        if np.sum(wrong != mask) <= max(BAD_PIXEL_FALSE_MIN, 0.1 * max(int(wrong.sum()), 1)):
            if missed.any() or false.sum() > _allowed_false(must_not):
                return [f"{name} on {where}: {mistake}"]
    if false.sum() > _allowed_false(must_not):
        return [f"{name} on {where}: {int(false.sum())} good pixels (dark current well below max_dark_current, "
                "signal linear in time) were flagged: is the threshold too low, or does the test for "
                "non-linearity flag noise or cosmic rays?"]
    if nonlinear.any() and (missed & nonlinear).sum() > _allowed_misses(nonlinear.sum()):
        return [_missed_nonlinear(name, where, missed, nonlinear)]
    return [f"{name} on {where}: {int(missed.sum())} of the {int(must.sum())} pixels whose dark current is well "
            f"above max_dark_current were not flagged"]


def diagnose_bad_pixel_mask(func, nights=None):
    """Check ``bad_pixel_mask(dark_files, master_bias, gain, max_dark_current)`` against the truly bad pixels."""
    name = "bad_pixel_mask"
    with _camera_nights(nights) as nights:
        for night in nights:
            master_bias = _reference("combine_bias", night.biases)
            gain = _gain_of(night)
            for limit in bad_pixel_limits(night):
                try:
                    result, printed = _call(func, name, list(night.dark_series), master_bias, gain, limit)
                except _Failed as failure:
                    return [f"{failure} (on {night.description})"]
                nothing = _returned_nothing(name, result, printed)
                if nothing:
                    return [nothing]
                if not isinstance(result, np.ndarray):
                    return [f"{name} should return a numpy array of bool, not {_type_name(result)}"]
                if result.shape != night.shape:
                    return [f"{name} returned shape {result.shape} on {night.description}, expected {night.shape}"]
                if result.dtype != bool:
                    if result.dtype.kind in "iuf" and set(np.unique(result).tolist()) <= {0, 1}:
                        return [f"{name} returned {result.dtype} 0/1 values: return a bool mask "
                                "(e.g. slope > max_dark_current)"]
                    return [f"{name} returned {result.dtype} values: return a bool mask, True for bad pixels"]
                problems = judge_bad_pixel_mask(night, result, limit, master_bias, gain)
                if problems:
                    return problems
    return []

