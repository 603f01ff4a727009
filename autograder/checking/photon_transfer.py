"""Diagnoses of notebook 06's photon-transfer curve and its plot, judged against the camera's (see :mod:`.camera`)."""

import math

import numpy as np

from ..candidates import NEW_AXES, AxesRecord
from .camera import FLOOR, NOTES, _bias_pair, _camera, _camera_nights, _clipped_std, _mean_pair, _pixels, tolerance
from .compare import _call, _Failed, _returned_nothing, _type_name
from .nights import _read
from .reference import _reference, _truth
from .read_noise_gain import linear_limit_adu, read_noise_truth

#: PTC points are judged up to this fraction of the linear limit (beyond, the response bends).
PTC_LINEAR_FRACTION = 0.75


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
    with _camera_nights(nights, "ptc") as nights:
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
    with _camera_nights(nights, "ptc") as nights:
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

