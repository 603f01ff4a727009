"""Comparing a candidate's result with the reference's, and naming the mistake it reproduces.

Calling the candidate (through its runner, or a :class:`~autograder.candidates.LocalFunction`),
describing a result of the wrong kind, the tolerances, the closeness to the
simulator's noiseless truth that lets a sound method of another kind pass,
and :data:`NOTES`, what the last diagnosis recognised and accepted.
"""

import numpy as np

from ..candidates import CandidateFailed, LocalFunction, Unsupported

_isclose = np.isclose
_allclose = np.allclose

#: Relative tolerance for comparing floating-point images with the reference.
RTOL = 1e-5
#: Absolute tolerance (ADU, or normalized units for flats) for the same.
ATOL = 1e-3


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


def _closest_variant(variants, distance):
    """The known mistake whose outcome lies closest: ``(mistake, outcome, distance)``, or None.

    ``variants`` are ``(mistake, outcome function)`` pairs; ``distance(outcome)``
    says how far an outcome lies from the result.  A variant that cannot be
    computed, gives None or lies at no finite distance names nothing.
    """
    best, best_distance = None, np.inf
    for mistake, variant in variants:
        try:
            outcome = variant()
        except Exception:  # a variant that cannot be computed names nothing
            continue
        if outcome is None:
            continue
        gap = distance(outcome)
        if gap < best_distance:
            best, best_distance = (mistake, outcome, gap), gap
    return best


def _name_mistake(result, variants, expected=None, rtol=1e-5, atol=1e-6):
    """Return the name of the known mistake that ``result`` reproduces, if any.

    The mistake whose outcome lies closest to ``result`` is named when it
    matches to within the tolerances, or lies at least ten times closer to
    ``result`` than the right answer ``expected`` does.
    """
    closest = _closest_variant(variants, lambda value: _distance(result, value))
    if closest is None:
        return None
    mistake, value, best_distance = closest
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


#: On a night without truth, a result may differ from the reference's by this many times the noise of the
#: reference's estimate (rms over the pixels): two sound estimators from the same frames differ by less.
NOISE_RMS_FACTOR = 1.0
#: ... and keep at most this many more pixels than the reference further than 5 times that noise from it.
NOISE_FAR_PIXELS = 3


def _within_noise(result, expected, noise, valid=None):
    """Whether ``result`` agrees with the reference's ``expected`` within the night's ``noise``.

    ``noise`` is the noise of the reference's estimate, per pixel (a number,
    or an array of the image's shape where pixels differ, as hot pixels carry
    the shot noise of their charge), in the result's unit, measured from the
    night's own frames (:func:`median_noise`).  The result passes when the
    rms of its difference from the reference, in units of that noise, is at
    most :data:`NOISE_RMS_FACTOR`, the mean difference (an offset) at most a
    tenth of the typical noise plus three standard errors, and no more than
    :data:`NOISE_FAR_PIXELS` pixels lie further than 5 times their noise (a
    plain mean keeps the cosmic rays a median removes).  Returns (bool, rms
    of the difference, typical noise).
    """
    difference = np.asarray(result, dtype=float) - np.asarray(expected, dtype=float)
    noise = np.broadcast_to(np.asarray(noise, dtype=float), difference.shape)
    keep = np.isfinite(difference) & np.isfinite(noise) & (noise > 0)
    if valid is not None:
        keep &= valid
    if keep.sum() < max(10, 0.99 * np.isfinite(np.asarray(expected, dtype=float)).sum()):
        return False, np.inf, np.nan
    kept, scale = difference[keep], noise[keep]
    typical = float(np.median(scale))
    rms = float(np.sqrt(np.mean(kept ** 2)))
    within = float(np.sqrt(np.mean((kept / scale) ** 2))) <= NOISE_RMS_FACTOR
    offset_ok = abs(float(np.mean(kept))) <= 0.1 * typical + 3 * float(np.sqrt(np.mean(scale ** 2))) / np.sqrt(kept.size)
    far = int(np.sum(np.abs(kept) > 5 * scale))
    return bool(within and offset_ok and far <= NOISE_FAR_PIXELS), rms, typical


def frame_noise(paths, prepare=None):
    """Noise of one frame of ``paths`` per pixel, measured from the frames.

    A robust standard deviation (MAD) of the difference of the first two
    frames, over sqrt 2.  ``prepare(frame, path)`` (optional) turns each
    frame (float, as read) into what is combined (bias-subtracted,
    normalized, ...), so the noise is in its unit.
    """
    from astropy.io import fits
    from astropy.stats import mad_std

    paths = list(paths)
    first, second = (np.asarray(fits.getdata(path), dtype=float) for path in paths[:2])
    if prepare is not None:
        first, second = prepare(first, paths[0]), prepare(second, paths[1])
    return float(mad_std(first - second, ignore_nan=True) / np.sqrt(2.0))


def median_noise(paths, prepare=None, charge_adu=None, gain=None):
    """Noise per pixel of the median of the frames ``paths``: sqrt(pi/2) x one frame's / sqrt(N).

    One frame's noise is :func:`frame_noise`; with ``charge_adu`` (an image,
    ADU) and ``gain`` (e-/ADU), each pixel adds the shot noise of its charge
    above the typical pixel's (``charge_adu / gain`` ADU^2): a hot pixel's
    dark signal scatters more from frame to frame.  Returns a number or an
    array.
    """
    paths = list(paths)
    variance = frame_noise(paths, prepare) ** 2
    if charge_adu is not None:
        charge = np.asarray(charge_adu, dtype=float)
        variance = variance + np.clip(charge - np.median(charge), 0, None) / gain
    return np.sqrt(np.pi / 2.0) * np.sqrt(variance) / np.sqrt(len(paths))


def _compare(name, result, expected, variants, where, rtol=RTOL, atol=ATOL, truth=None, alternatives=(),
             valid=None, noise=None):
    """Compare an array result with the reference; name the mistake if known.

    A result that differs from the reference's but is, on this night, at
    least as close to the simulator's noiseless ``truth`` passes (a sound
    method of another kind: a sigma-clipped mean, float32 arithmetic, ...);
    what it was recognised as goes to :data:`NOTES`.  On a night without
    truth (an observatory's frames), a result within the night's ``noise`` of
    the reference's passes instead (:func:`_within_noise`).
    """
    if _close(result, expected, rtol=rtol, atol=atol):
        return None
    if truth is None and noise is not None:
        accepted, rms, typical = _within_noise(result, expected, noise, valid)
        if accepted:
            known = _name_mistake(result, alternatives, expected, rtol=1e-4, atol=1e-6) if alternatives else None
            NOTES.append(f"{name} on {where}: {known or 'another sound method'}: accepted, within the frames' "
                         f"noise of the reference (rms difference {rms:.3g}, the estimate's noise {typical:.3g})")
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


def _plain_value(value):
    """``value`` as the runner would send it: plain numbers, text or arrays only."""
    import json

    from .. import runner as codec
    from ..candidates import decode

    blobs = []
    try:
        return decode(json.loads(json.dumps(codec.encode(value, blobs))), blobs)
    except CandidateFailed:
        return Unsupported(type(value).__name__)
