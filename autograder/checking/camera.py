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

This module holds what the diagnoses share: the nights to judge on, the
camera of a night, the tolerance and the judging of one measured number.
The diagnoses are in :mod:`.read_noise_gain`, :mod:`.photon_transfer` and
:mod:`.dark_series`; the machinery (calling the candidate, the nights, the
reference cache) is that of :mod:`.compare`, :mod:`.nights` and
:mod:`.reference`.
"""

import contextlib
import math

import numpy as np

from .compare import NOTES, _call, _closest_variant, _Failed, _returned_nothing, _type_name
from .nights import _nights, _read, series_night

#: Smallest relative tolerance of a measured camera parameter.
FLOOR = 0.03
#: Standard errors of the estimate a sound measurement may be off by.
STANDARD_ERRORS = 4.0
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
def _camera_nights(nights, series=None):
    """The nights to judge on: ``nights`` if given (tests), else the course's night and the second night.

    With ``series`` (``'ptc'`` or ``'dark_series'``), a night without that
    series stands aside for the simulated camera written beside its frames
    (:func:`.nights.series_night`), whose truth the simulator knows.
    """
    if nights is not None:
        yield [series_night(night, series) if series else night for night in nights]
        return
    with _nights() as (both, _scratch):
        yield [series_night(night, series) if series else night for night in both]


def _camera(night):
    """The simulated camera of ``night``, or None for frames the simulator did not make."""
    simulation = getattr(night, "simulation", None)
    return None if simulation is None else simulation.camera


def _bias_pair(night):
    return night.biases[0], night.biases[1]


def _pixels(night):
    return int(night.shape[0] * night.shape[1])


def _gain_of(night):
    camera = _camera(night)
    if camera is not None:
        return float(camera.gain_e_per_adu)
    from convenience_functions import lab

    return lab.GAIN_E_PER_ADU


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


def _measured(func, name, night, unit, *args):
    """The candidate's measurement on ``night`` as a float, or the problem (a string)."""
    try:
        result, printed = _call(func, name, *args)
    except _Failed as failure:
        return f"{failure} (on {night.description})"
    return _value(name, result, printed, unit)


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

    def relative_gap(expected):  # a variant giving 0 or no finite number names nothing
        return abs(value / expected - 1.0) if np.isfinite(expected) and expected != 0 else np.inf

    best, _expected, best_off = _closest_variant(variants, relative_gap) or (None, None, np.inf)
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

