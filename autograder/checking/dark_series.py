"""Diagnoses of notebook 06 on the dark series: the dark current and the bad-pixel mask, against the camera's."""

import numpy as np

from .camera import NOTES, _camera, _camera_nights, _gain_of, _judge_number, _measured, _pixels, tolerance
from .compare import _call, _Failed, _returned_nothing, _type_name
from .nights import _exptime, _read
from .reference import _reference, _truth

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


# ---------------------------------------------------------------------------
# Dark current


def _dark_stack(night, master_bias):
    """Bias-subtracted darks of the series, ADU, and their exposure times, s."""
    files = list(night.dark_series)
    return np.stack([_read(f) - master_bias for f in files]), np.array([_exptime(f) for f in files])


def _bias_and_gain(night):
    """The reference master bias of ``night``, ADU, and its camera's gain, e-/ADU."""
    return _reference("combine_bias", night.biases), _gain_of(night)


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
    with _camera_nights(nights, "dark_series") as nights:
        for night in nights:
            master_bias, gain = _bias_and_gain(night)
            files = list(night.dark_series)
            value = _measured(func, name, night, "e-/s/pixel", files, master_bias, gain)
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
    with _camera_nights(nights, "dark_series") as nights:
        for night in nights:
            master_bias, gain = _bias_and_gain(night)
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

