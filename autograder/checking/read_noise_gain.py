"""Diagnoses of notebook 06's read noise and gain, judged against the camera's (see :mod:`.camera`)."""

import math

import numpy as np

from .camera import (CLIP3_STD_BIAS, MAD_EXTRA_ERRORS, MAD_STEP_ADU, STANDARD_ERRORS, _bias_pair, _camera,
                     _camera_nights, _clipped_std, _gain_of, _judge_number, _mad_std, _mean_pair, _measured,
                     _pixels, _plain_std, tolerance)
from .nights import _read
from .reference import _reference, _truth

#: The gain is measured on the brightest pair whose mean stays below this fraction of the linear
#: limit (the flat's pattern takes its brightest pixels some 20 % higher).
GAIN_PAIR_LINEAR_FRACTION = 0.65


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


def diagnose_measure_read_noise(func, nights=None):
    """Check ``measure_read_noise(bias_file_1, bias_file_2, gain)`` against the camera's read noise."""
    name = "measure_read_noise"
    with _camera_nights(nights) as nights:
        for night in nights:
            first, second = _bias_pair(night)
            gain = _gain_of(night)
            value = _measured(func, name, night, "e-", first, second, gain)
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
    with _camera_nights(nights, "ptc") as nights:
        for night in nights:
            pair, biases = gain_pair(night), _bias_pair(night)
            value = _measured(func, name, night, "e-/ADU", pair[0], pair[1], biases[0], biases[1])
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

