"""Simulate one night of raw CCD frames for the data reduction lab.

The night holds the frames the lab needs, named and timed as the
observatory's camera software wrote them (every name and exposure time comes
from :mod:`convenience_functions.lab`):

* 20 bias frames (10 taken with the R set, 10 with the V set),
* 10 dark frames of 60 s,
* 5 R-band twilight flats whose exposure times grow as the sky darkens,
* one 180 s R-band frame of M101 (a face-on spiral) with field stars.

Each image component has its own small function below, with its unit in
the docstring.  Patterns that belong to the camera or the scene (the bias
columns, the dark current and its hot pixels, the flat field, the galaxy
and the stars) come from fixed child streams of the seed, so they are the
same in every frame and :func:`true_components` can rebuild them.  The
noise of each frame (photon noise, read noise, cosmic rays) comes from a
child stream keyed by the frame's position in the file list, so a frame's
bytes do not depend on which frames were made before it.

A frame is made the way a camera makes it, in electrons first::

    collected_e = Poisson(rate_e_per_s * flat * t) + Poisson(dark_e_per_s * t) + cosmic_rays_e
    raw_adu = bias_adu + collected_e / gain + Normal(0, read_noise_e / gain)
    raw = clip(rint(raw_adu), 0, 65535).astype(uint16)

and written as a 16-bit unsigned FITS image (BITPIX=16, BZERO=32768).

The frames come with three given master frames (master bias, dark and
flat), made from them by the reference module and written into the same
folder by :mod:`sample_data.given_masters`, and with a truth file written by
the same code, holding the values a correct reduction should recover and
the sha256 of every file.  The truth file stays with the course: it is
written *beside* the frames' folder, never into it (:func:`truth_path`), since
that folder is what students receive.

Run ``ccdlab data --help`` for the command line; :func:`main` does the work.
"""

import datetime
import hashlib
import io
import json
import math
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from astropy.io import fits

from convenience_functions import lab

#: Bumped whenever a change makes the generator write different bytes.
GENERATOR_VERSION = "1.1"

#: Seed of the bundled frames (the date of the night the lab's real frames were taken).
DEFAULT_SEED = 20200131

#: Shape (ny, nx) of the bundled frames: 36 frames of 200 x 200 pixels keep
#: the ``sample_data`` folder at about 3 MB (it must stay under 5 MB).
DEFAULT_SHAPE = (200, 200)

#: Folder of the bundled frames (what students receive).
BUNDLED_DIR = Path(__file__).resolve().parent / "frames"

#: The truth file of the night in folder ``DIR`` is ``DIR_truth.json`` beside it.
TRUTH_SUFFIX = "_truth.json"

#: Smallest and largest accepted frame side, in pixels.
MIN_SIDE = 16
MAX_SIDE = 8192

# --- camera -----------------------------------------------------------------
BIAS_LEVEL_ADU = 1500.0
BIAS_COLUMN_SIGMA_ADU = 4.0
READ_NOISE_E = 10.0
MEAN_DARK_CURRENT_E_PER_S = 0.5
HOT_PIXEL_FRACTION = 0.003
HOT_PIXEL_CURRENT_RANGE_E_PER_S = (5.0, 100.0)
CCD_TEMP_C = -20.0
INSTRUMENT = "ccdlab simulated CCD"
COMMENT = "Simulated frame for the ccdlab CCD data reduction lab."
TELESCOPE = "ccdlab simulated 0.5 m"

# --- optics (flat field) ----------------------------------------------------
VIGNETTING_AT_CORNER = 0.15
PIXEL_RESPONSE_SIGMA = 0.01

# --- sky and scene ----------------------------------------------------------
SKY_E_PER_S = 15.0
FLAT_LEVEL_RANGE_ADU = (22000.0, 28000.0)
PSF_FWHM_PIX = 3.0
PSF_MOFFAT_BETA = 3.0
STARS_PER_PIXEL = 1.0e-3
FAINT_STAR_PEAK_RANGE_E_PER_S = (3.0, 250.0)
BRIGHT_STAR_PEAK_RANGE_E_PER_S = (3000.0, 20000.0)
PIXELS_PER_EXTRA_BRIGHT_STAR = 200_000
GALAXY_DISK_PEAK_E_PER_S = 60.0
GALAXY_BULGE_PEAK_E_PER_S = 120.0

# --- cosmic rays ------------------------------------------------------------
COSMIC_RAYS_PER_PIXEL_PER_S = 1.1e-6
COSMIC_RAY_E_PER_PIXEL_RANGE = (200.0, 800.0)

# Child streams of the seed: one per fixed pattern, one per frame.
_PATTERN_STREAM = 0
_FRAME_STREAM = 1
_STREAM_BIAS, _STREAM_DARK, _STREAM_HOT, _STREAM_FLAT = 0, 1, 2, 3
_STREAM_GALAXY, _STREAM_STARS, _STREAM_TWILIGHT = 4, 5, 6

# Rows per block when evaluating smooth patterns, to bound memory.
_ROW_BLOCK = 256

# Start times (UTC) of the night's sequences, the night of 2020-01-31.
_FLATS_START = datetime.datetime(2020, 1, 31, 23, 48, 0)
_SCIENCE_START = datetime.datetime(2020, 2, 1, 3, 21, 40)
_BIAS_START = datetime.datetime(2020, 2, 1, 4, 2, 0)
_READOUT_S = 12.0


# =============================================================================
# Arguments
# =============================================================================

def parse_size(text):
    """Read a frame size given as ``N`` (square) or ``NYxNX``.

    Parameters
    ----------
    text : str or int
        ``1024``, ``"1024"`` or ``"200x240"`` (rows x columns, pixels).

    Returns
    -------
    tuple of int
        ``(ny, nx)`` in pixels.

    Raises
    ------
    ValueError
        If ``text`` is not of that form or a side is outside
        ``MIN_SIDE``..``MAX_SIDE`` pixels.
    """
    if isinstance(text, bool):
        raise ValueError(f"size must be N or NYxNX, not {text!r}")
    if isinstance(text, (int, np.integer)):
        sides = (int(text), int(text))
    elif isinstance(text, str):
        match = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?", text)
        if match is None:
            raise ValueError(
                f"size must be N or NYxNX (for example 1024 or 200x240), not {text!r}"
            )
        ny = int(match.group(1))
        nx = int(match.group(2)) if match.group(2) is not None else ny
        sides = (ny, nx)
    else:
        raise ValueError(f"size must be N or NYxNX, not {text!r} of type {type(text).__name__}")
    try:
        return _check_shape(sides)
    except ValueError as error:
        raise ValueError(f"size {text!r}: {error}") from None


def _check_shape(shape):
    """Return ``shape`` as a tuple ``(ny, nx)`` of ints, checked."""
    try:
        sides = tuple(shape)
    except TypeError:
        raise ValueError(f"shape must be (ny, nx), not {shape!r}") from None
    if len(sides) != 2 or not all(
        isinstance(side, (int, np.integer)) and not isinstance(side, bool) for side in sides
    ):
        raise ValueError(f"shape must be two whole numbers of pixels (ny, nx), not {shape!r}")
    ny, nx = (int(side) for side in sides)
    for name, side in (("ny", ny), ("nx", nx)):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise ValueError(
                f"shape {name}={side} is outside {MIN_SIDE}..{MAX_SIDE} pixels"
            )
    return ny, nx


def _check_seed(seed):
    """Return ``seed`` as a non-negative int, checked."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    return int(seed)


# =============================================================================
# Random streams
# =============================================================================

def pattern_rng(seed, component):
    """Return the generator of one fixed pattern (bias columns, hot pixels...).

    Parameters
    ----------
    seed : int
        Seed of the night.
    component : int
        Number of the pattern (the ``_STREAM_*`` constants).

    Returns
    -------
    numpy.random.Generator
    """
    sequence = np.random.SeedSequence(seed, spawn_key=(_PATTERN_STREAM, component))
    return np.random.default_rng(sequence)


def frame_rng(seed, index):
    """Return the noise generator of the frame at ``index`` in :func:`frame_specs`."""
    sequence = np.random.SeedSequence(seed, spawn_key=(_FRAME_STREAM, index))
    return np.random.default_rng(sequence)


# =============================================================================
# Camera components
# =============================================================================

def bias_pattern(shape, rng, level_adu=BIAS_LEVEL_ADU, column_sigma_adu=BIAS_COLUMN_SIGMA_ADU):
    """Return the noiseless bias: a level plus a fixed column pattern.

    Each column gets its own offset (Gaussian, ``column_sigma_adu``), on top
    of a slow wave across the chip; a few warm columns sit tens of ADU high.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` in pixels.
    rng : numpy.random.Generator
        Fixed stream of the bias pattern.
    level_adu : float
        Mean bias level, ADU.
    column_sigma_adu : float
        Column-to-column scatter, ADU.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float32 bias, ADU.
    """
    ny, nx = shape
    columns = rng.normal(0.0, column_sigma_adu, nx)
    phase = rng.uniform(0.0, 2.0 * np.pi)
    columns += 3.0 * column_sigma_adu * np.sin(np.linspace(0.0, 2.0 * np.pi, nx) + phase)
    n_warm = max(1, nx // 100)
    warm = rng.choice(nx, size=n_warm, replace=False)
    columns[warm] += rng.uniform(20.0, 60.0, n_warm)
    row = (level_adu + columns).astype(np.float32)
    return np.broadcast_to(row, (ny, nx)).copy()


def read_noise(shape, rng, read_noise_e=READ_NOISE_E, gain=lab.GAIN_E_PER_ADU):
    """Return one read of Gaussian read noise.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` in pixels.
    rng : numpy.random.Generator
        Noise stream of the frame.
    read_noise_e : float
        Read noise, e- (rms).
    gain : float
        Gain, e-/ADU.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float32 noise, ADU, mean zero and rms ``read_noise_e / gain``.
    """
    noise = rng.standard_normal(shape, dtype=np.float32)
    noise *= np.float32(read_noise_e / gain)
    return noise


def dark_current(shape, rng, mean_e_per_s=MEAN_DARK_CURRENT_E_PER_S):
    """Return the dark current of ordinary pixels.

    The current scatters by 10 % from pixel to pixel and rises by 20 % towards
    one edge of the chip (warmer near the readout amplifier).

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` in pixels.
    rng : numpy.random.Generator
        Fixed stream of the dark pattern.
    mean_e_per_s : float
        Mean dark current of the ordinary pixels, e-/s/pixel.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float32 dark current, e-/s/pixel.
    """
    ny, nx = shape
    scatter = rng.gamma(100.0, 0.01, shape)  # mean 1, rms 0.1
    glow = 1.0 + 0.2 * np.linspace(0.0, 1.0, nx)
    current = scatter * glow[np.newaxis, :]
    current *= mean_e_per_s / current.mean()
    return current.astype(np.float32)


def hot_pixels(shape, rng, fraction=HOT_PIXEL_FRACTION,
               current_range_e_per_s=HOT_PIXEL_CURRENT_RANGE_E_PER_S):
    """Return the hot pixels and their dark current.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` in pixels.
    rng : numpy.random.Generator
        Fixed stream of the hot pixels.
    fraction : float
        Fraction of the pixels that are hot.
    current_range_e_per_s : tuple of float
        Range of their dark current, e-/s/pixel (log-uniform).

    Returns
    -------
    mask : numpy.ndarray
        ``(ny, nx)`` bool, True on hot pixels.
    current : numpy.ndarray
        Dark current of each hot pixel, e-/s, in the order of ``mask.nonzero()``.
    """
    npix = shape[0] * shape[1]
    n_hot = max(1, int(round(fraction * npix)))
    index = np.sort(rng.choice(npix, size=n_hot, replace=False))
    mask = np.zeros(npix, dtype=bool)
    mask[index] = True
    low, high = np.log(current_range_e_per_s)
    current = np.exp(rng.uniform(low, high, n_hot)).astype(np.float32)
    return mask.reshape(shape), current


# =============================================================================
# Optics: the flat field
# =============================================================================

def _centred_grid(shape, row0, row1):
    """Return pixel coordinates of rows ``row0:row1``, relative to the centre."""
    ny, nx = shape
    y = np.arange(row0, row1, dtype=np.float64)[:, np.newaxis] - (ny - 1) / 2.0
    x = np.arange(nx, dtype=np.float64)[np.newaxis, :] - (nx - 1) / 2.0
    return y, x


def vignetting(shape, row0, row1, depth=VIGNETTING_AT_CORNER):
    """Return the smooth radial fall-off of the optics for rows ``row0:row1``.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` of the whole frame, pixels.
    row0, row1 : int
        Rows to evaluate.
    depth : float
        Fractional loss of light in the corners (0.15 means 15 %).

    Returns
    -------
    numpy.ndarray
        ``(row1 - row0, nx)`` float64 relative response, 1 on the axis.
    """
    ny, nx = shape
    y, x = _centred_grid(shape, row0, row1)
    r2 = (y * y + x * x) / (((ny - 1) / 2.0) ** 2 + ((nx - 1) / 2.0) ** 2)
    return 1.0 - depth * r2 * (0.7 + 0.3 * r2)


def dust_donut_params(shape, rng):
    """Draw the dust specks on the filter: centres, radii and depths.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` in pixels.
    rng : numpy.random.Generator
        Fixed stream of the flat field.

    Returns
    -------
    list of tuple
        ``(y, x, radius_pix, width_pix, depth)`` per donut; depth is the
        fractional loss of light on the ring.
    """
    ny, nx = shape
    side = min(ny, nx)
    donuts = []
    for _ in range(int(rng.integers(3, 6))):
        radius = max(2.5, side * rng.uniform(0.03, 0.07))
        donuts.append((
            float(rng.uniform(0.1, 0.9) * (ny - 1)),
            float(rng.uniform(0.1, 0.9) * (nx - 1)),
            float(radius),
            float(max(0.8, 0.25 * radius)),
            float(rng.uniform(0.02, 0.05)),
        ))
    return donuts


def dust_donuts(shape, row0, row1, donuts):
    """Return the shadow of out-of-focus dust (rings) for rows ``row0:row1``.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` of the whole frame, pixels.
    row0, row1 : int
        Rows to evaluate.
    donuts : list of tuple
        From :func:`dust_donut_params`.

    Returns
    -------
    numpy.ndarray
        ``(row1 - row0, nx)`` float64 relative response, 1 away from the dust.
    """
    ny, nx = shape
    y = np.arange(row0, row1, dtype=np.float64)[:, np.newaxis]
    x = np.arange(nx, dtype=np.float64)[np.newaxis, :]
    response = np.ones((row1 - row0, nx))
    for yc, xc, radius, width, depth in donuts:
        r = np.hypot(y - yc, x - xc)
        response *= 1.0 - depth * np.exp(-0.5 * ((r - radius) / width) ** 2)
    return response


def flat_pattern(shape, rng):
    """Return the true flat field: vignetting, dust donuts and pixel response.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` in pixels.
    rng : numpy.random.Generator
        Fixed stream of the flat field.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float32 relative response (dimensionless), median 1.
    """
    ny, nx = shape
    donuts = dust_donut_params(shape, rng)
    flat = np.empty(shape, dtype=np.float64)
    for row0 in range(0, ny, _ROW_BLOCK):
        row1 = min(ny, row0 + _ROW_BLOCK)
        flat[row0:row1] = vignetting(shape, row0, row1) * dust_donuts(shape, row0, row1, donuts)
    flat *= 1.0 + PIXEL_RESPONSE_SIGMA * rng.standard_normal(shape)
    flat /= np.median(flat)
    return flat.astype(np.float32)


# =============================================================================
# Sky and scene
# =============================================================================

def sky_background(shape, level_e_per_s=SKY_E_PER_S):
    """Return a flat sky background.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` in pixels.
    level_e_per_s : float
        Sky brightness before the flat field, e-/s/pixel.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float64 photon rate, e-/s/pixel.
    """
    return np.full(shape, float(level_e_per_s))


def galaxy_params(shape, rng):
    """Draw the galaxy's geometry (centre, size, orientation of the arms).

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` in pixels.
    rng : numpy.random.Generator
        Fixed stream of the galaxy.

    Returns
    -------
    dict
        Centre ``y``, ``x`` (pixels), disk scale length ``scale_pix``,
        ``axis_ratio``, position angle ``pa_rad`` and arm phase ``phase_rad``.
    """
    ny, nx = shape
    side = min(ny, nx)
    return {
        "y": (ny - 1) / 2.0 + rng.uniform(-0.05, 0.05) * ny,
        "x": (nx - 1) / 2.0 + rng.uniform(-0.05, 0.05) * nx,
        "scale_pix": 0.11 * side,
        "axis_ratio": rng.uniform(0.85, 0.95),
        "pa_rad": rng.uniform(0.0, np.pi),
        "phase_rad": rng.uniform(0.0, 2.0 * np.pi),
    }


def galaxy(shape, row0, row1, params):
    """Return a face-on two-armed spiral (exponential disk + bulge), rows ``row0:row1``.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` of the whole frame, pixels.
    row0, row1 : int
        Rows to evaluate.
    params : dict
        From :func:`galaxy_params`.

    Returns
    -------
    numpy.ndarray
        ``(row1 - row0, nx)`` float64 photon rate, e-/s/pixel.
    """
    ny, nx = shape
    y = np.arange(row0, row1, dtype=np.float64)[:, np.newaxis] - params["y"]
    x = np.arange(nx, dtype=np.float64)[np.newaxis, :] - params["x"]
    cos_pa, sin_pa = math.cos(params["pa_rad"]), math.sin(params["pa_rad"])
    u = x * cos_pa + y * sin_pa
    v = (-x * sin_pa + y * cos_pa) / params["axis_ratio"]
    h = params["scale_pix"]
    r = np.hypot(u, v)
    theta = np.arctan2(v, u)
    pitch = np.radians(28.0)
    arm_phase = 2.0 * (theta - np.log(r / h + 0.05) / np.tan(pitch) - params["phase_rad"])
    arm_strength = 0.7 * (1.0 - np.exp(-((r / (0.6 * h)) ** 2)))
    arms = 1.0 + arm_strength * (((1.0 + np.cos(arm_phase)) / 2.0) ** 2 * 2.0 - 0.75)
    disk = GALAXY_DISK_PEAK_E_PER_S * np.exp(-r / h) * arms
    bulge = GALAXY_BULGE_PEAK_E_PER_S * np.exp(-r / (0.18 * h))
    return disk + bulge


def moffat_alpha(fwhm_pix=PSF_FWHM_PIX, beta=PSF_MOFFAT_BETA):
    """Return the Moffat core width alpha (pixels) for a FWHM in pixels."""
    return fwhm_pix / (2.0 * math.sqrt(2.0 ** (1.0 / beta) - 1.0))


def add_star(image, y, x, peak_e_per_s, row_offset=0,
             fwhm_pix=PSF_FWHM_PIX, beta=PSF_MOFFAT_BETA):
    """Add one star with a Moffat profile to ``image`` in place.

    Parameters
    ----------
    image : numpy.ndarray
        Photon rate, e-/s/pixel, changed in place.
    y, x : float
        Centre of the star, pixels (``y`` in whole-frame rows).
    peak_e_per_s : float
        Photon rate at the centre, e-/s/pixel.
    row_offset : int
        Whole-frame row of ``image[0]``.
    fwhm_pix, beta : float
        Moffat FWHM (pixels) and power index.
    """
    alpha = moffat_alpha(fwhm_pix, beta)
    # Out to where the wing drops below 0.01 e-/s: invisible under the sky.
    ratio = max(peak_e_per_s / 0.01, 1.0)
    radius = int(math.ceil(alpha * math.sqrt(ratio ** (1.0 / beta) - 1.0)))
    radius = min(max(radius, 3), 100)
    ny, nx = image.shape
    y0, y1 = max(int(y) - radius, row_offset), min(int(y) + radius + 1, row_offset + ny)
    x0, x1 = max(int(x) - radius, 0), min(int(x) + radius + 1, nx)
    if y0 >= y1 or x0 >= x1:
        return
    yy = np.arange(y0, y1, dtype=np.float64)[:, np.newaxis] - y
    xx = np.arange(x0, x1, dtype=np.float64)[np.newaxis, :] - x
    profile = (1.0 + (yy * yy + xx * xx) / alpha ** 2) ** (-beta)
    image[y0 - row_offset:y1 - row_offset, x0:x1] += peak_e_per_s * profile


def star_field(shape, rng, galaxy_centre, galaxy_scale_pix):
    """Draw the field stars: many faint ones and a few that saturate.

    Faint stars follow a truncated power law in brightness; their peak stays
    low enough that no pixel saturates even on the galaxy's core.  The bright
    stars are kept away from the edges and from the galaxy.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` in pixels.
    rng : numpy.random.Generator
        Fixed stream of the stars.
    galaxy_centre : tuple of float
        ``(y, x)`` of the galaxy, pixels.
    galaxy_scale_pix : float
        Disk scale length, pixels.

    Returns
    -------
    faint : numpy.ndarray
        ``(n, 3)`` rows of ``y, x`` (pixels) and peak rate (e-/s/pixel).
    bright : numpy.ndarray
        Same for the bright stars.
    """
    ny, nx = shape
    npix = ny * nx
    n_faint = max(3, int(round(STARS_PER_PIXEL * npix)))
    low, high = FAINT_STAR_PEAK_RANGE_E_PER_S
    a = 0.8  # N(>peak) falls as peak**-0.8
    u = rng.uniform(0.0, 1.0, n_faint)
    peaks = (low ** -a - u * (low ** -a - high ** -a)) ** (-1.0 / a)
    faint = np.column_stack([
        rng.uniform(-0.5, ny - 0.5, n_faint),
        rng.uniform(-0.5, nx - 0.5, n_faint),
        peaks,
    ])

    n_bright = 2 + npix // PIXELS_PER_EXTRA_BRIGHT_STAR
    margin_y, margin_x = max(4.0, 0.1 * ny), max(4.0, 0.1 * nx)
    bright = []
    for _ in range(n_bright):
        for _attempt in range(100):
            y = rng.uniform(margin_y, ny - 1 - margin_y)
            x = rng.uniform(margin_x, nx - 1 - margin_x)
            far_from_galaxy = math.hypot(y - galaxy_centre[0], x - galaxy_centre[1]) > 2.5 * galaxy_scale_pix
            far_from_others = all(math.hypot(y - b[0], x - b[1]) > 12.0 for b in bright)
            if far_from_galaxy and far_from_others:
                break
        low_b, high_b = np.log(BRIGHT_STAR_PEAK_RANGE_E_PER_S)
        bright.append((y, x, math.exp(rng.uniform(low_b, high_b))))
    return faint, np.array(bright, dtype=np.float64)


def _scene(shape, seed):
    """Return the scene's parameters: galaxy, faint stars and bright stars."""
    galaxy_p = galaxy_params(shape, pattern_rng(seed, _STREAM_GALAXY))
    faint, bright = star_field(
        shape, pattern_rng(seed, _STREAM_STARS),
        (galaxy_p["y"], galaxy_p["x"]), galaxy_p["scale_pix"],
    )
    return galaxy_p, faint, bright


def sky_rate(shape, seed):
    """Return the photon rate from the sky, the galaxy and the stars.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` in pixels.
    seed : int
        Seed of the night.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float32 photon rate before the flat field, e-/s/pixel.
    """
    ny, nx = shape
    galaxy_p, faint, bright = _scene(shape, seed)
    rate = np.empty(shape, dtype=np.float32)
    for row0 in range(0, ny, _ROW_BLOCK):
        row1 = min(ny, row0 + _ROW_BLOCK)
        block = sky_background((row1 - row0, nx)) + galaxy(shape, row0, row1, galaxy_p)
        for y, x, peak in np.concatenate([faint, bright]):
            if row0 - 100 <= y < row1 + 100:
                add_star(block, y, x, peak, row_offset=row0)
        rate[row0:row1] = block
    return rate


def cosmic_rays(shape, rng, exptime_s, rate_per_pixel_per_s=COSMIC_RAYS_PER_PIXEL_PER_S):
    """Return the charge left by cosmic rays during one exposure.

    Each hit is a short straight track (a blob when it comes in head-on).

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` in pixels.
    rng : numpy.random.Generator
        Noise stream of the frame.
    exptime_s : float
        Exposure time, s.
    rate_per_pixel_per_s : float
        Mean number of hits per pixel per second.

    Returns
    -------
    charge : numpy.ndarray
        ``(ny, nx)`` float32 deposited charge, e-.
    n_hits : int
        Number of cosmic rays.
    """
    ny, nx = shape
    charge = np.zeros(shape, dtype=np.float32)
    n_hits = int(rng.poisson(rate_per_pixel_per_s * ny * nx * exptime_s))
    for _ in range(n_hits):
        y0, x0 = rng.uniform(0, ny - 1), rng.uniform(0, nx - 1)
        length = min(rng.exponential(2.0), 8.0)
        angle = rng.uniform(0.0, np.pi)
        e_per_pix = rng.uniform(*COSMIC_RAY_E_PER_PIXEL_RANGE)
        steps = np.linspace(0.0, length, max(2, int(length * 2) + 1))
        ys = np.clip(np.rint(y0 + steps * math.sin(angle)), 0, ny - 1).astype(np.intp)
        xs = np.clip(np.rint(x0 + steps * math.cos(angle)), 0, nx - 1).astype(np.intp)
        pixels = np.unique(ys * nx + xs)
        charge.ravel()[pixels] += np.float32(e_per_pix)
    return charge, n_hits


def twilight_rates(seed):
    """Return the twilight sky's photon rate during each flat, e-/s/pixel.

    The sky fades as the flats go on; the exposure times in
    ``lab.FLAT_EXPTIMES_S`` were chosen to make up for it, so every flat
    lands between ``FLAT_LEVEL_RANGE_ADU`` above the bias.
    """
    rng = pattern_rng(seed, _STREAM_TWILIGHT)
    levels_adu = rng.uniform(*FLAT_LEVEL_RANGE_ADU, len(lab.FLAT_EXPTIMES_S))
    return [
        float(level * lab.GAIN_E_PER_ADU / t)
        for level, t in zip(levels_adu, lab.FLAT_EXPTIMES_S)
    ]


# =============================================================================
# The whole camera
# =============================================================================

def _components(shape, seed):
    """Return the noiseless patterns as float32 arrays (the ones frames use)."""
    bias = bias_pattern(shape, pattern_rng(seed, _STREAM_BIAS))
    dark = dark_current(shape, pattern_rng(seed, _STREAM_DARK))
    hot_mask, hot_current = hot_pixels(shape, pattern_rng(seed, _STREAM_HOT))
    dark[hot_mask] = hot_current
    flat = flat_pattern(shape, pattern_rng(seed, _STREAM_FLAT))
    sky = sky_rate(shape, seed)
    return {
        "bias_adu": bias,
        "dark_current_e_per_s": dark,
        "hot_pixels": hot_mask,
        "flat": flat,
        "sky_e_per_s": sky,
    }


def true_components(shape=DEFAULT_SHAPE, seed=DEFAULT_SEED):
    """Return the noiseless patterns that the frames of a night are made from.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` in pixels.
    seed : int
        Seed of the night.

    Returns
    -------
    dict of numpy.ndarray
        ``bias_adu`` (bias level and column pattern, ADU),
        ``dark_current_e_per_s`` (hot pixels included, e-/s/pixel),
        ``hot_pixels`` (bool mask), ``flat`` (relative response, median 1) and
        ``sky_e_per_s`` (sky, galaxy and stars before the flat, e-/s/pixel).
        All float64 except the mask; the values are exactly those used for
        the frames.
    """
    shape = _check_shape(shape)
    seed = _check_seed(seed)
    components = _components(shape, seed)
    return {
        name: (value if value.dtype == bool else value.astype(np.float64))
        for name, value in components.items()
    }


def frame_specs():
    """Return the night's frames in a fixed order, with their header values.

    Returns
    -------
    list of dict
        ``name``, ``imagetyp``, ``exptime`` (s), ``filter``, ``date_obs``
        (ISO, UTC) and ``kind`` (``bias``, ``dark``, ``flat``, ``science``)
        per frame.  A frame's position in this list keys its noise stream.
    """
    specs = []
    clock = _FLATS_START
    for name, exptime in zip(lab.FLAT_FILES, lab.FLAT_EXPTIMES_S):
        specs.append(_spec(name, "flat", "Flat Field", exptime, "R", clock))
        clock += datetime.timedelta(seconds=exptime + 30.0)
    specs.append(_spec(lab.SCIENCE_FILE, "science", "Light Frame",
                       lab.SCIENCE_EXPTIME_S, "R", _SCIENCE_START))
    clock = _BIAS_START
    for name in lab.BIAS_FILES:
        specs.append(_spec(name, "bias", "Bias Frame", 0.0, _filter_of(name), clock))
        clock += datetime.timedelta(seconds=_READOUT_S)
    for name in lab.DARK_FILES:
        specs.append(_spec(name, "dark", "Dark Frame", lab.DARK_EXPTIME_S, _filter_of(name), clock))
        clock += datetime.timedelta(seconds=lab.DARK_EXPTIME_S + _READOUT_S)
    return specs


def _spec(name, kind, imagetyp, exptime, band, clock):
    return {
        "name": name,
        "kind": kind,
        "imagetyp": imagetyp,
        "exptime": float(exptime),
        "filter": band,
        "date_obs": clock.isoformat(timespec="seconds"),
    }


def _filter_of(name):
    """Return the filter letter of a calibration file name such as ``CalV-0003Dark.fit``."""
    match = re.match(r"Cal([A-Z])-", name)
    if match is None:
        raise ValueError(f"cannot tell the filter of calibration file {name!r}")
    return match.group(1)


def expose(spec, components, rng, twilight_e_per_s=None):
    """Return the charge collected during one exposure.

    Parameters
    ----------
    spec : dict
        One entry of :func:`frame_specs`.
    components : dict
        From :func:`_components` (float32 patterns).
    rng : numpy.random.Generator
        Noise stream of the frame.
    twilight_e_per_s : float, optional
        Twilight sky rate of a flat, e-/s/pixel.

    Returns
    -------
    charge : numpy.ndarray
        ``(ny, nx)`` float64 collected charge, e-.
    n_cosmic_rays : int
    """
    shape = components["bias_adu"].shape
    t = spec["exptime"]
    charge = np.zeros(shape, dtype=np.float64)
    if spec["kind"] == "bias":
        return charge, 0
    if spec["kind"] == "flat":
        charge += rng.poisson(components["flat"] * np.float32(twilight_e_per_s * t))
    elif spec["kind"] == "science":
        charge += rng.poisson(components["sky_e_per_s"] * components["flat"] * np.float32(t))
    charge += rng.poisson(components["dark_current_e_per_s"] * np.float32(t))
    n_hits = 0
    if spec["kind"] in ("dark", "science"):
        hits, n_hits = cosmic_rays(shape, rng, t)
        charge += hits
    return charge, n_hits


def digitize(bias_adu, charge_e, noise_adu, gain=lab.GAIN_E_PER_ADU):
    """Convert charge to 16-bit counts the way the camera's ADC does.

    Parameters
    ----------
    bias_adu : numpy.ndarray
        Bias pattern, ADU.
    charge_e : numpy.ndarray
        Collected charge, e-.
    noise_adu : numpy.ndarray
        Read noise of this read, ADU.
    gain : float
        Gain, e-/ADU.

    Returns
    -------
    numpy.ndarray
        uint16 counts, ADU, clipped to 0..65535 (saturation).
    """
    counts = bias_adu + charge_e / gain + noise_adu
    np.rint(counts, out=counts)
    np.clip(counts, 0, lab.SATURATION_ADU, out=counts)
    return counts.astype(np.uint16)


def frame_header(spec, seed):
    """Return the FITS header a camera would write for one frame."""
    header = fits.Header()
    header["IMAGETYP"] = (spec["imagetyp"], "type of image")
    header["EXPTIME"] = (spec["exptime"], "[s] exposure time")
    header["FILTER"] = (spec["filter"], "filter in the beam")
    header["DATE-OBS"] = (spec["date_obs"], "[UTC] start of exposure")
    if spec["kind"] == "science":
        header["OBJECT"] = ("M101", "target")
    header["INSTRUME"] = (INSTRUMENT, "camera")
    header["TELESCOP"] = (TELESCOPE, "telescope")
    header["GAIN"] = (lab.GAIN_E_PER_ADU, "[e-/ADU] detector gain")
    header["RDNOISE"] = (READ_NOISE_E, "[e-] read noise")
    header["SATURATE"] = (lab.SATURATION_ADU, "[ADU] largest value")
    header["CCD-TEMP"] = (CCD_TEMP_C, "[C] sensor temperature")
    header["XBINNING"] = (1, "binning along columns")
    header["YBINNING"] = (1, "binning along rows")
    header["BUNIT"] = ("adu", "unit of the pixel values")
    header["SIMSEED"] = (seed, "seed of the ccdlab simulator")
    header["SIMVERS"] = (GENERATOR_VERSION, "version of the ccdlab simulator")
    header["COMMENT"] = COMMENT
    return header


def frame_bytes(data, header):
    """Return the bytes of a FITS file holding ``data`` (uint16) and ``header``."""
    buffer = io.BytesIO()
    fits.PrimaryHDU(data=data, header=header).writeto(buffer)
    return buffer.getvalue()


def _render(index, spec, components, twilight, seed):
    """Make the counts of the frame at ``index`` of :func:`frame_specs`."""
    rng = frame_rng(seed, index)
    rate = None
    if spec["kind"] == "flat":
        rate = twilight[list(lab.FLAT_FILES).index(spec["name"])]
    charge, n_hits = expose(spec, components, rng, rate)
    noise = read_noise(charge.shape, rng)
    return digitize(components["bias_adu"], charge, noise), n_hits


def frame_data(name, shape=DEFAULT_SHAPE, seed=DEFAULT_SEED):
    """Make one raw frame of a night on its own, without writing anything.

    The counts equal those of the same file written by
    :func:`simulate_night`: each frame has its own noise stream.

    Parameters
    ----------
    name : str
        A file name from ``lab`` (``BIAS_FILES``, ``DARK_FILES``,
        ``FLAT_FILES`` or ``SCIENCE_FILE``).
    shape : tuple of int
        ``(ny, nx)`` in pixels.
    seed : int
        Seed of the night.

    Returns
    -------
    data : numpy.ndarray
        ``(ny, nx)`` uint16 counts, ADU.
    header : astropy.io.fits.Header
        The header the file gets.

    Raises
    ------
    ValueError
        If ``name`` is not one of the night's frames.
    """
    shape = _check_shape(shape)
    seed = _check_seed(seed)
    specs = frame_specs()
    names = [spec["name"] for spec in specs]
    if name not in names:
        raise ValueError(f"{name!r} is not one of the night's frames (see convenience_functions.lab)")
    index = names.index(name)
    data, _ = _render(index, specs[index], _components(shape, seed), twilight_rates(seed), seed)
    return data, frame_header(specs[index], seed)


# =============================================================================
# The night
# =============================================================================

def _rounded(value, digits=10):
    """Round a float to ``digits`` significant digits (stable truth.json)."""
    value = float(value)
    if value == 0.0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits}g}")


def _truth(shape, seed, components, twilight, frames):
    """Collect what a correct reduction should recover."""
    galaxy_p, faint, bright = _scene(shape, seed)
    dark = components["dark_current_e_per_s"].astype(np.float64)
    hot = components["hot_pixels"]
    flat_levels = [r * t / lab.GAIN_E_PER_ADU for r, t in zip(twilight, lab.FLAT_EXPTIMES_S)]
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "shape": [shape[0], shape[1]],
        "gain_e_per_adu": lab.GAIN_E_PER_ADU,
        "read_noise_e": READ_NOISE_E,
        "read_noise_adu": READ_NOISE_E / lab.GAIN_E_PER_ADU,
        "saturation_adu": lab.SATURATION_ADU,
        "bias_level_adu": _rounded(components["bias_adu"].astype(np.float64).mean()),
        "mean_dark_current_e_per_s": _rounded(dark.mean()),
        "median_dark_current_e_per_s": _rounded(np.median(dark)),
        "mean_dark_current_without_hot_pixels_e_per_s": _rounded(dark[~hot].mean()),
        "n_hot_pixels": int(hot.sum()),
        "dark_exptime_s": lab.DARK_EXPTIME_S,
        "science_exptime_s": lab.SCIENCE_EXPTIME_S,
        "flat_exptimes_s": list(lab.FLAT_EXPTIMES_S),
        "flat_twilight_e_per_s": [_rounded(r) for r in twilight],
        "flat_levels_adu": [_rounded(level) for level in flat_levels],
        "sky_background_e_per_s": SKY_E_PER_S,
        "sky_background_adu": SKY_E_PER_S * lab.SCIENCE_EXPTIME_S / lab.GAIN_E_PER_ADU,
        "galaxy": {
            "y": _rounded(galaxy_p["y"]),
            "x": _rounded(galaxy_p["x"]),
            "scale_pix": _rounded(galaxy_p["scale_pix"]),
        },
        "n_stars": int(len(faint) + len(bright)),
        "psf_fwhm_pix": PSF_FWHM_PIX,
        "saturated_stars": [
            {"y": _rounded(y), "x": _rounded(x), "peak_e_per_s": _rounded(p)}
            for y, x, p in bright
        ],
        "frames": frames,
    }


def _truth_text(truth):
    return json.dumps(truth, indent=2, sort_keys=True) + "\n"


def truth_path(folder):
    """Return where the truth file of the night in ``folder`` goes.

    It sits beside the folder, never inside it, so that handing out the
    folder (or copying it for a grading kernel) never hands out the answers:
    ``sample_data/frames`` has ``sample_data/frames_truth.json``.

    Parameters
    ----------
    folder : str or pathlib.Path
        Folder of a night's frames.

    Returns
    -------
    pathlib.Path
    """
    folder = Path(folder).expanduser().resolve()
    return folder.with_name(folder.name + TRUTH_SUFFIX)


#: Truth file of the bundled night.
BUNDLED_TRUTH = truth_path(BUNDLED_DIR)


def night_names():
    """Return the names of the files a night's folder holds: frames, then given masters."""
    return [spec["name"] for spec in frame_specs()] + list(lab.GIVEN_MASTER_FILES.values())


def simulate_night(out_dir, shape=DEFAULT_SHAPE, seed=DEFAULT_SEED, *, overwrite=False, truth_file=None):
    """Write a night of raw frames and its given masters into ``out_dir``, and its truth file.

    Frames are made and written one at a time, so even 4096 x 4096 frames
    fit in memory.  The three given master frames are then made from them
    by :func:`sample_data.given_masters.write_given_masters`.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder to write into; created if missing.
    shape : tuple of int
        ``(ny, nx)`` of every frame, pixels.
    seed : int
        Seed of the night.
    overwrite : bool
        Replace files of the same names.  Without it, a folder that already
        holds one of the night's files, or an existing truth file, is
        refused (:func:`main` compares bytes first and asks for ``--force``
        only when they differ).
    truth_file : str or pathlib.Path, optional
        Where to write the truth; default :func:`truth_path` of ``out_dir``
        (beside it, never inside it).

    Returns
    -------
    dict
        The truth, as written to the truth file.

    Raises
    ------
    FileExistsError
        If ``out_dir`` already holds one of the files, or the truth file
        exists, and ``overwrite`` is False.
    ValueError
        If ``truth_file`` is inside ``out_dir``.
    """
    from . import given_masters

    shape = _check_shape(shape)
    seed = _check_seed(seed)
    out_dir = Path(out_dir)
    truth_file = truth_path(out_dir) if truth_file is None else Path(truth_file)
    if out_dir.resolve() in truth_file.resolve().parents:
        raise ValueError(
            f"truth file {truth_file} is inside the frames folder {out_dir}: "
            "the folder goes to students, the truth must stay beside it"
        )
    if not overwrite:
        present = [out_dir / name for name in night_names() if (out_dir / name).exists()]
        present += [truth_file] if truth_file.exists() else []
        if present:
            raise FileExistsError(
                f"{present[0]} already exists (and {len(present) - 1} more of the night's "
                "files); refusing to overwrite"
            )
    out_dir.mkdir(parents=True, exist_ok=True)

    components = _components(shape, seed)
    twilight = twilight_rates(seed)
    frames = {}
    for index, spec in enumerate(frame_specs()):
        data, n_hits = _render(index, spec, components, twilight, seed)
        blob = frame_bytes(data, frame_header(spec, seed))
        (out_dir / spec["name"]).write_bytes(blob)
        frames[spec["name"]] = {
            "imagetyp": spec["imagetyp"],
            "exptime_s": spec["exptime"],
            "filter": spec["filter"],
            "date_obs": spec["date_obs"],
            "cosmic_rays": n_hits,
            "n_saturated": int(np.count_nonzero(data == lab.SATURATION_ADU)),
            "sha256": hashlib.sha256(blob).hexdigest(),
        }
    masters = given_masters.write_given_masters(out_dir)
    truth = _truth(shape, seed, components, twilight, frames)
    truth["given_masters"] = {
        Path(path).name: hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in masters.values()
    }
    truth_file.parent.mkdir(parents=True, exist_ok=True)
    truth_file.write_text(_truth_text(truth), encoding="utf-8")
    return truth


# =============================================================================
# Command line
# =============================================================================

def _same_folder(a, b):
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def main(*, out=None, size=None, seed=None, force=False):
    """Write a simulated night (``ccdlab data``).

    Parameters
    ----------
    out : str or pathlib.Path, optional
        Folder to write into; default the bundled ``sample_data/frames``.
        Its truth file goes beside it (:func:`truth_path`).
    size : str or int, optional
        ``N`` or ``NYxNX`` in pixels; default ``DEFAULT_SHAPE``.
    seed : int, optional
        Default ``DEFAULT_SEED``.
    force : bool
        Replace files whose bytes differ from the new ones.

    Returns
    -------
    int
        0 on success, 1 when refused (the reason goes to stderr), 2 on bad
        arguments.

    Notes
    -----
    The night is first written into a hidden staging folder inside ``out``
    and compared with what ``out`` and the truth file already hold; nothing
    is replaced unless all files are new or identical, or ``force`` is
    given.  The bundled folder only ever receives the default seed and size.
    Regenerating the bundled night (frames, given masters and truth) is
    ``ccdlab data``, or ``ccdlab data --force`` after a deliberate change.
    """
    try:
        shape = DEFAULT_SHAPE if size is None else parse_size(size)
        seed = DEFAULT_SEED if seed is None else _check_seed(seed)
    except ValueError as error:
        print(f"ccdlab data: {error}", file=sys.stderr)
        return 2
    out_dir = BUNDLED_DIR if out is None else Path(out).expanduser()
    if _same_folder(out_dir, BUNDLED_DIR) and (shape, seed) != (DEFAULT_SHAPE, DEFAULT_SEED):
        print(
            f"ccdlab data: refusing to write seed {seed}, size {shape[0]}x{shape[1]} into the "
            f"bundled folder {BUNDLED_DIR}, which holds only the default set "
            f"(seed {DEFAULT_SEED}, size {DEFAULT_SHAPE[0]}x{DEFAULT_SHAPE[1]}); "
            "pass --out with another folder",
            file=sys.stderr,
        )
        return 1
    if out_dir.exists() and not out_dir.is_dir():
        print(f"ccdlab data: --out {out_dir} exists and is not a folder", file=sys.stderr)
        return 1
    out_dir.mkdir(parents=True, exist_ok=True)
    truth_file = truth_path(out_dir)

    staging = Path(tempfile.mkdtemp(prefix=".ccdlab-staging-", dir=out_dir))
    try:
        simulate_night(staging / "night", shape, seed, truth_file=staging / "truth")
        pairs = [(staging / "night" / name, out_dir / name) for name in night_names()]
        pairs.append((staging / "truth", truth_file))
        differing = [
            target for staged, target in pairs
            if target.exists() and target.read_bytes() != staged.read_bytes()
        ]
        if differing and not force:
            print(
                f"ccdlab data: {len(differing)} of the night's files already exist with "
                f"different contents (e.g. {differing[0]}); refusing to overwrite them. "
                "Use --force to replace them, or --out with another folder.",
                file=sys.stderr,
            )
            return 1
        existing = [target for _, target in pairs if target.exists()]
        if not differing and len(existing) == len(pairs):
            print(
                f"ccdlab data: {out_dir} already holds these {len(frame_specs())} frames of "
                f"{shape[0]}x{shape[1]} pixels (seed {seed}) and the given masters, and {truth_file} "
                "the truth, byte for byte; nothing changed"
            )
            return 0
        for staged, target in pairs:
            staged.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    note = f", replacing {len(differing)} differing files" if differing else ""
    print(
        f"ccdlab data: wrote {len(frame_specs())} frames of {shape[0]}x{shape[1]} pixels "
        f"(seed {seed}) and {len(lab.GIVEN_MASTER_FILES)} given masters to {out_dir}, "
        f"the truth to {truth_file}{note}"
    )
    return 0
