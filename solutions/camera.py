"""Reference solution of notebook 06, "Know your camera": measure the camera itself.

One small function per measurement, in the order the notebook takes them:

1. :func:`measure_read_noise` -- read noise from the difference of two biases, e-.
2. :func:`measure_gain` -- gain from a flat pair and a bias pair (Janesick's
   difference method), e-/ADU.
3. :func:`photon_transfer` -- one (signal, variance) point per flat pair, ADU
   and ADU^2; :func:`plot_photon_transfer` draws them on log-log axes.
4. :func:`fit_dark_current` -- mean dark current, the slope of the mean
   dark signal against exposure time, e-/s/pixel.
5. :func:`bad_pixel_mask` -- pixels too hot, or not linear in time.

Why differences: a single frame's scatter holds the fixed patterns (the
bias's column structure, the flat's vignetting and pixel response) as well
as the noise.  The difference of two frames of the same kind cancels every
fixed pattern and keeps only the noise, twice over: its variance is twice a
frame's, its standard deviation sqrt(2) times a frame's.

Every noise statistic here is a sigma-clipped one (:func:`_clipped_variance`):
biases and flats catch cosmic rays, which a plain standard deviation would
count as noise.

The conventions of :mod:`solutions.reduction` hold (its private helpers are
reused): frames are read as float64 before any subtraction, no frame size
is assumed, inputs are never changed, and bad input raises
``FileNotFoundError``, ``ValueError`` or ``TypeError`` naming the file or
argument.
"""

import math
import os

import numpy as np

from .reduction import _check_image, _exposure_time, _positive_number, _read_frame, _stack_frames

__all__ = [
    "measure_read_noise",
    "measure_gain",
    "photon_transfer",
    "plot_photon_transfer",
    "fit_dark_current",
    "bad_pixel_mask",
]

#: Clipping threshold of the noise statistics, in standard deviations.  Wide
#: enough that clipping removes no Gaussian noise worth speaking of (a 5-sigma
#: cut shortens a Gaussian's standard deviation by less than 0.01 %), narrow
#: enough to drop cosmic rays.
_CLIP_SIGMA = 5.0

#: How far (in standard deviations of its own expected noise) a pixel's
#: longest dark may fall below the straight line through its shorter darks
#: before the pixel counts as non-linear.
_NONLINEAR_SIGMA = 6.0


# ---------------------------------------------------------------------------
# Private helpers


def _clipped_variance(values):
    """Variance of ``values`` after iterative ``_CLIP_SIGMA`` clipping about the median.

    The outliers (cosmic rays, hot pixels) are dropped; for Gaussian noise the
    result equals the plain variance to better than 0.01 %.
    """
    from astropy.stats import sigma_clip

    clipped = sigma_clip(np.ravel(values), sigma=_CLIP_SIGMA, maxiters=10, cenfunc="median", stdfunc="std")
    return float(np.ma.var(clipped, ddof=1))


def _bias_level(bias_1, bias_2):
    """Mean level of two bias frames without their cosmic rays, ADU.

    Pixel by pixel the two are averaged, except where one lies more than
    ``_CLIP_SIGMA`` noise sigmas above the other (a cosmic ray: the lower one
    is kept).  Unlike a median or a clipped mean of one frame, this keeps the
    bias's real structure (columns, the trails of hot pixels read out), which
    the flats hold too.
    """
    difference = bias_1 - bias_2
    limit = _CLIP_SIGMA * math.sqrt(_clipped_variance(difference))
    clean = np.where(difference > limit, bias_2, np.where(difference < -limit, bias_1, 0.5 * (bias_1 + bias_2)))
    return float(clean.mean())


def _read_pair(path_1, path_2, argname_1, argname_2):
    """Read two frames of one shape as float64 ADU; return (frame 1, frame 2, header 1, header 2)."""
    first, header_1 = _read_frame(path_1, argname_1)
    second, header_2 = _read_frame(path_2, argname_2)
    if first.shape != second.shape:
        raise ValueError(
            f"{argname_2} '{os.fspath(path_2)}' has shape {second.shape} but "
            f"{argname_1} '{os.fspath(path_1)}' has shape {first.shape}"
        )
    return first, second, header_1, header_2


def _check_shape(shape, expected, what, expected_what):
    if shape != expected:
        raise ValueError(f"{what} has shape {shape} but {expected_what} has shape {expected}")


def _master_bias(master_bias, shape, source):
    """The master bias as a float array of ``shape``: from an array (ADU) or a FITS file name."""
    if isinstance(master_bias, (str, os.PathLike)):
        bias, _ = _read_frame(master_bias, "master_bias")
        _check_shape(bias.shape, shape, f"master_bias '{os.fspath(master_bias)}'", f"the frames in {source}")
        return bias
    return _check_image(master_bias, "master_bias", shape, source)


def _dark_series(dark_files, master_bias):
    """Bias-subtracted darks (N, ny, nx) in ADU, their exposure times (s) and paths.

    Raises ValueError unless the darks have at least two different exposure times.
    """
    stack, headers, paths = _stack_frames(dark_files, "dark_files")
    bias = _master_bias(master_bias, stack.shape[1:], "dark_files")
    exptimes = np.array([_exposure_time(h, os.fspath(p), "dark_files") for h, p in zip(headers, paths)])
    if np.ptp(exptimes) <= 1e-6 * exptimes.max():
        raise ValueError(
            f"dark_files: every dark has EXPTIME {exptimes[0]:g} s; a fit against time needs darks of at "
            "least two different exposure times"
        )
    stack = stack.astype(np.float64)
    stack -= bias
    return stack, exptimes, paths


def _line_fit(times, values):
    """Least-squares straight line ``values = intercept + slope * times`` along axis 0.

    ``values`` is (N,) or (N, ...) for N times; returns (slope, intercept) of
    the shape of one value.
    """
    t = np.asarray(times, dtype=np.float64)
    dt = t - t.mean()
    values = np.asarray(values, dtype=np.float64)
    weights = (dt / np.sum(dt * dt)).reshape((-1,) + (1,) * (values.ndim - 1))
    slope = np.sum(weights * values, axis=0)
    intercept = values.mean(axis=0) - slope * t.mean()
    return slope, intercept


def _means_per_time(stack_e, exptimes):
    """Per exposure time, the mean dark signal of each pixel without cosmic rays, e-.

    Parameters
    ----------
    stack_e : numpy.ndarray
        (N, ny, nx) bias-subtracted darks, e-.
    exptimes : numpy.ndarray
        (N,) their exposure times, s.

    Returns
    -------
    times : numpy.ndarray
        (T,) the distinct exposure times, increasing, s.
    means : numpy.ndarray
        (T, ny, nx) mean signal of the darks of each time, e-; where one dark
        of a time lies more than ``_CLIP_SIGMA`` noise sigmas above the mean
        of the others (a cosmic ray; a well never gains charge), the others'
        mean.
    variances : numpy.ndarray
        (T, ny, nx) expected variance of each mean, e-^2: read noise and
        shot noise over the number of darks.
    """
    from astropy.stats import mad_std

    times = np.unique(exptimes)
    # Read noise of a bias-subtracted dark, e-: the pixels' scatter about their straight lines.
    slope, intercept = _line_fit(exptimes, stack_e)
    residuals = stack_e - (intercept + slope * exptimes.reshape((-1,) + (1,) * (stack_e.ndim - 1)))
    dof = max(len(exptimes) - 2, 1)
    typical_signal = max(float(np.median(stack_e.mean(axis=0))), 0.0)
    read_var = max(mad_std(residuals) ** 2 * len(exptimes) / dof - typical_signal, 1e-6)
    means, variances = [], []
    for t in times:
        group = stack_e[exptimes == t]
        mean = group.mean(axis=0)
        if len(group) > 1:
            top = group.max(axis=0)
            rest = (group.sum(axis=0) - top) / (len(group) - 1)
            hit = top - rest > _CLIP_SIGMA * np.sqrt(2.0 * (read_var + np.clip(rest, 0, None)))
            mean = np.where(hit, rest, mean)
        means.append(mean)
        variances.append((read_var + np.clip(mean, 0, None)) / len(group))
    return times, np.array(means), np.array(variances)


# ---------------------------------------------------------------------------
# Public API


def measure_read_noise(bias_file_1, bias_file_2, gain):
    """Read noise of the camera from two bias frames.

    The difference of the two biases cancels the bias level and its column
    pattern and keeps the read noise of two reads: its (sigma-clipped)
    standard deviation is sqrt(2) times one frame's read noise.

    Parameters
    ----------
    bias_file_1, bias_file_2 : str or os.PathLike
        Two raw bias frames (ADU) of one shape.
    gain : float
        Gain, e-/ADU.

    Returns
    -------
    float
        Read noise, e- rms per pixel per read.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        If a file is not FITS, the shapes differ, or ``gain`` is not positive.
    TypeError
        If ``gain`` is not a number or a file name is not a str/path.
    """
    gain = _positive_number(gain, "gain", "e-/ADU")
    first, second, _, _ = _read_pair(bias_file_1, bias_file_2, "bias_file_1", "bias_file_2")
    difference_sigma_adu = math.sqrt(_clipped_variance(first - second))
    return difference_sigma_adu / math.sqrt(2.0) * gain


def measure_gain(flat_file_1, flat_file_2, bias_file_1, bias_file_2):
    """Gain of the camera from a pair of flats and a pair of biases (Janesick's method).

    ``gain = ((F1 + F2) - (B1 + B2)) / (var(F1 - F2) - var(B1 - B2))``, with
    the frames' means in the numerator (the biases' without their cosmic
    rays, :func:`_bias_level`, which would lower the signal) and sigma-clipped variances
    of the differences in the denominator.  The differences cancel the flat's pattern
    and the bias's structure; the bias pair's variance removes the read noise;
    the factors of two of the two sums and the two differences cancel.

    Parameters
    ----------
    flat_file_1, flat_file_2 : str or os.PathLike
        Two raw flats (ADU) of one level, well below saturation.
    bias_file_1, bias_file_2 : str or os.PathLike
        Two raw biases (ADU) of the same shape.

    Returns
    -------
    float
        Gain, e-/ADU.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        If a file is not FITS, the shapes differ, the flats are no brighter
        than the biases, or their difference is no noisier than the biases'.
    TypeError
        If a file name is not a str/path.
    """
    flat_1, flat_2, _, _ = _read_pair(flat_file_1, flat_file_2, "flat_file_1", "flat_file_2")
    bias_1, bias_2, _, _ = _read_pair(bias_file_1, bias_file_2, "bias_file_1", "bias_file_2")
    _check_shape(bias_1.shape, flat_1.shape, f"bias_file_1 '{os.fspath(bias_file_1)}'",
                 f"flat_file_1 '{os.fspath(flat_file_1)}'")
    signal_adu = flat_1.mean() + flat_2.mean() - 2.0 * _bias_level(bias_1, bias_2)
    if not signal_adu > 0:
        raise ValueError(
            f"flat_file_1 '{os.fspath(flat_file_1)}' and flat_file_2 '{os.fspath(flat_file_2)}' are no brighter "
            "than the biases: give two exposed flats"
        )
    shot_variance_adu2 = _clipped_variance(flat_1 - flat_2) - _clipped_variance(bias_1 - bias_2)
    if not shot_variance_adu2 > 0:
        raise ValueError(
            f"the difference of flat_file_1 '{os.fspath(flat_file_1)}' and flat_file_2 "
            f"'{os.fspath(flat_file_2)}' is no noisier than the biases': give two exposed flats"
        )
    return float(signal_adu / shot_variance_adu2)


def photon_transfer(flat_pairs, bias_file_1, bias_file_2):
    """Points of the photon transfer curve: mean signal and noise variance per flat pair.

    For each pair (A, B): the signal is the mean of the two flats minus the
    mean of the two biases without their cosmic rays (:func:`_bias_level`);
    the variance is the sigma-clipped variance of A - B over two, which is
    one frame's noise variance without the flat's pattern.  **The read
    noise's variance is included** (nothing is
    subtracted): as is customary, the curve shows the total noise, so it
    levels off at the read-noise floor at low signal, rises with slope 1
    (variance = signal / gain) in the shot-noise regime, and drops where the
    pixels fill up (full well).

    Parameters
    ----------
    flat_pairs : sequence of (str or os.PathLike, str or os.PathLike)
        Pairs of raw flats (ADU) of one level each, e.g. from faint to past
        the full well.
    bias_file_1, bias_file_2 : str or os.PathLike
        Two raw biases (ADU): the zero of the signal.

    Returns
    -------
    signal_adu : numpy.ndarray
        Mean signal above the bias of each pair, ADU (float, one per pair).
    variance_adu2 : numpy.ndarray
        Noise variance of one frame of each pair (shot and read noise), ADU^2.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        If ``flat_pairs`` is empty or an item is not a pair, a file is not
        FITS, or the shapes differ.
    TypeError
        If ``flat_pairs`` is not a sequence of pairs or a file name is not a str/path.
    """
    if isinstance(flat_pairs, (str, bytes, os.PathLike)) or not hasattr(flat_pairs, "__iter__"):
        raise TypeError(f"flat_pairs must be a list of (flat, flat) file-name pairs, got {flat_pairs!r}")
    pairs = list(flat_pairs)
    if not pairs:
        raise ValueError("flat_pairs is empty: give at least one pair of flats")
    bias_1, bias_2, _, _ = _read_pair(bias_file_1, bias_file_2, "bias_file_1", "bias_file_2")
    bias_level_adu = _bias_level(bias_1, bias_2)
    signal, variance = [], []
    for index, pair in enumerate(pairs):
        if isinstance(pair, (str, bytes, os.PathLike)) or len(pair) != 2:
            raise ValueError(f"flat_pairs[{index}] must be a pair (flat_a, flat_b) of file names, got {pair!r}")
        where = f"flat_pairs[{index}]"
        flat_a, flat_b, _, _ = _read_pair(pair[0], pair[1], where, where)
        _check_shape(flat_a.shape, bias_1.shape, f"{where} '{os.fspath(pair[0])}'",
                     f"bias_file_1 '{os.fspath(bias_file_1)}'")
        signal.append(0.5 * (flat_a.mean() + flat_b.mean()) - bias_level_adu)
        variance.append(0.5 * _clipped_variance(flat_a - flat_b))
    return np.array(signal, dtype=np.float64), np.array(variance, dtype=np.float64)


def plot_photon_transfer(signal_adu, variance_adu2, ax=None):
    """Draw a photon transfer curve: variance against signal, both axes logarithmic.

    Parameters
    ----------
    signal_adu : array_like
        Mean signal above the bias per point, ADU (positive values are drawn).
    variance_adu2 : array_like
        Noise variance per point, ADU^2, of the same length.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default the current Axes.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    ValueError
        If the two arrays are not 1-D of one length.
    """
    import matplotlib.pyplot as plt

    signal = np.asarray(signal_adu, dtype=float)
    variance = np.asarray(variance_adu2, dtype=float)
    if signal.ndim != 1 or variance.shape != signal.shape:
        raise ValueError(
            f"signal_adu and variance_adu2 must be 1-D arrays of one length, got shapes {signal.shape} "
            f"and {variance.shape}"
        )
    if ax is None:
        ax = plt.gca()
    ax.loglog(signal, variance, "o")
    ax.set_xlabel("Mean signal above bias (ADU)")
    ax.set_ylabel("Variance (ADU$^2$)")
    ax.set_title("Photon transfer curve")
    return ax


def fit_dark_current(dark_files, master_bias, gain):
    """Mean dark current: the slope of the mean dark signal against exposure time.

    Each dark has the master bias subtracted; the darks of one exposure time
    are averaged pixel by pixel, leaving out a cosmic ray where one dark of
    that time lies far above the others (:func:`_means_per_time`); the mean
    over the frame of each time's signal is fitted against EXPTIME (read from
    each header) by a straight line (least squares, with an intercept, which
    takes up whatever does not grow with time).  The slope, times the gain,
    is the mean dark current over all pixels, hot ones included.  (Pixels
    whose wells fill in the long darks stop adding signal: their share of the
    mean grows more slowly than their current.)

    Parameters
    ----------
    dark_files : list of str or os.PathLike
        Raw darks (ADU) of one shape, of at least two different exposure
        times (EXPTIME, seconds); several darks per time help against cosmic
        rays.
    master_bias : array_like or str or os.PathLike
        Master bias of the same shape, ADU: a 2-D array, or the name of a FITS
        file holding it.  Not modified.
    gain : float
        Gain, e-/ADU.

    Returns
    -------
    float
        Mean dark current of all pixels (the fitted slope times the gain),
        e-/s/pixel.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        If ``dark_files`` is empty, a file is not FITS, a shape differs, a
        dark has no positive EXPTIME, all darks share one EXPTIME, or
        ``gain`` is not positive.
    TypeError
        If ``gain`` is not a number, ``master_bias`` is neither an array nor
        a file name, or ``dark_files`` is a single name.
    """
    gain = _positive_number(gain, "gain", "e-/ADU")
    stack, exptimes, _ = _dark_series(dark_files, master_bias)
    stack *= gain  # e-
    times, means, _ = _means_per_time(stack, exptimes)
    slope_e_per_s, _ = _line_fit(times, means.mean(axis=(1, 2)))
    return float(slope_e_per_s)


def bad_pixel_mask(dark_files, master_bias, gain, max_dark_current):
    """Pixels to distrust: too much dark current, or a dark signal not linear in time.

    The darks are bias-subtracted and converted to electrons; the darks of
    one exposure time are averaged (leaving out, pixel by pixel, a value that
    lies far above the others of its time: a cosmic ray).  Per pixel:

    * its dark current is the least-squares slope of the signal against
      EXPTIME; it is bad if that exceeds ``max_dark_current``;
    * it is not linear if the signal of the longest exposure falls short of
      the straight line through the shorter ones by more than
      ``_NONLINEAR_SIGMA`` times the noise of that difference, which read
      noise and shot noise make (the read noise of a bias-subtracted dark is
      measured from the scatter of all pixels about their lines).  Only a
      shortfall counts: a filling well loses charge, a cosmic ray adds it.

    Parameters
    ----------
    dark_files, master_bias, gain
        As for :func:`fit_dark_current`, but the darks must have at least
        three different exposure times.
    max_dark_current : float
        Largest acceptable dark current, e-/s/pixel.

    Returns
    -------
    numpy.ndarray of bool
        Of the frames' shape; True marks a bad pixel.

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        As for :func:`fit_dark_current`.
    ValueError
        Also if the darks have fewer than three exposure times, or
        ``max_dark_current`` is not positive.
    TypeError
        Also if ``max_dark_current`` is not a number.
    """
    gain = _positive_number(gain, "gain", "e-/ADU")
    max_dark_current = _positive_number(max_dark_current, "max_dark_current", "e-/s/pixel")
    stack, exptimes, _ = _dark_series(dark_files, master_bias)
    times = np.unique(exptimes)
    if times.size < 3:
        raise ValueError(
            f"dark_files: the darks have {times.size} exposure times ({', '.join(f'{t:g}' for t in times)} s); "
            "telling a non-linear pixel from a hot one needs at least three"
        )
    stack *= gain  # e-
    times, means, variances = _means_per_time(stack, exptimes)

    slope, _ = _line_fit(times, means)
    hot = slope > max_dark_current

    # Non-linear: the longest time against the straight line through the shorter ones.
    short = times[:-1]
    coefficients = 1.0 / short.size + (times[-1] - short.mean()) * (short - short.mean()) / np.sum(
        (short - short.mean()) ** 2)
    predicted = np.tensordot(coefficients, means[:-1], axes=1)
    sigma = np.sqrt(np.tensordot(coefficients**2, variances[:-1], axes=1) + variances[-1])
    nonlinear = predicted - means[-1] > _NONLINEAR_SIGMA * sigma
    return hot | nonlinear
