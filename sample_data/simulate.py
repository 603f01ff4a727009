"""Simulate nights of raw CCD frames for the data reduction lab.

One description of a night (:class:`NightDescription`: its size, seed,
camera, exposure times and frames) is rendered by one set of physical
components.  The same code makes

* the bundled night (:func:`bundled_description`, names and exposure times
  from :mod:`convenience_functions.lab`): 20 bias frames (10 taken with the
  R set, 10 with the V set), 10 dark frames of 60 s, 5 R-band twilight
  flats whose exposure times grow as the sky fades, one 180 s R-band
  frame of M101 (a face-on spiral) with field stars, and, for measuring the
  camera itself (notebook 06), 8 pairs of R-band flats lit by a lamp of
  constant brightness (the photon-transfer series, from a few tens of
  electrons to past the full well) and a dark series of 30 to 300 s;
* the grader's small second night (``autograder.checks.second_night``);
* the small nights the tests need (``tests/conftest.py``).

Each image component has its own small function below, with its unit in
the docstring, and takes every camera parameter it needs as an argument.
Patterns that belong to the camera or the scene (the bias columns, the dark
current and its hot pixels, the flat field, the galaxy and the stars) come
from fixed child streams of the seed, so they are the same in every frame
and :func:`true_components` can rebuild them.  The noise of each frame
(photon noise, read noise, cosmic rays) comes from a child stream keyed by
the frame's position in the night's list of frames, so a frame's bytes do
not depend on which frames were made before it; the very hot pixels' charge
has a second stream per frame, so adding them changed no other pixel.

A frame is made the way a camera makes it, in electrons first::

    exposure_e = Poisson(rate_e_per_s * flat * t) + Poisson(dark_e_per_s * t)
    readout_e  = Poisson(charge the packet picks up while it is shifted out)
    kept_e = well_response(exposure_e + readout_e + cosmic_rays_e)
    raw_adu = bias_adu + kept_e / gain + Normal(0, read_noise_e / gain)
    raw = clip(rint(raw_adu), 0, 65535).astype(uint16)

where :func:`well_response` is linear up to 70 % of the full well, then
bends smoothly and stops at the full well (100,000 e- for the lab's camera,
about 51,500 ADU above nothing, below the converter's 65535).

and written as a 16-bit FITS image.  FITS has no unsigned integers: the
file stores signed 16-bit numbers with ``BZERO = 32768`` added back on
reading.  Cosmic rays hit during the exposure *and* during the readout, so
even a 0 s bias frame catches a few; while it is shifted out, every charge
packet also collects the dark current of the pixels it passes, so hot
pixels leave faint trails in every frame, biases included.

The frames come with three given master frames (master bias, dark and
flat), made from them by the reference module and written into the same
folder by :mod:`sample_data.given_masters`, and with a truth file written by
the same code, holding every parameter of the night, the values a correct
reduction should recover and the sha256 of every file.  The truth file
stays with the course: it is written *beside* the frames' folder, never
into it (:func:`truth_path`), since that folder is what students receive.

Run ``ccdlab data --help`` for the command line; :func:`main` does the work.
"""

import dataclasses
import datetime
import hashlib
import io
import json
import math
import re
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from astropy.io import fits

from convenience_functions import lab, night as night_file, paths

#: Bumped whenever a change makes the generator write different bytes.
GENERATOR_VERSION = "3.0"

#: Seed of the bundled frames (the date of the night the lab's real frames were taken).
DEFAULT_SEED = 20200131

#: Shape (ny, nx) of the bundled frames: 60 frames of 200 x 200 pixels keep
#: the ``sample_data`` folder at about 5.5 MB (it must stay under 8 MB).
DEFAULT_SHAPE = (200, 200)

#: Folder of the bundled frames (what students receive).
BUNDLED_DIR = paths.BUNDLED_DATA_DIR

#: The truth file of the night in folder ``DIR`` is ``DIR_truth.json`` beside it.
TRUTH_SUFFIX = "_truth.json"

# --- the bundled night ------------------------------------------------------
# Its names and times, as the observatory's camera software wrote them (the
# source lab's frames).  They reach the lab through the night's description
# (``night.json``, written with the frames), which ``convenience_functions.lab``
# reads: this is the one place they are written.
#: Names of the bias frames: 10 taken with the R set, 10 with the V set.
BIAS_FILES = tuple([f"CalR-{i:04d}Bias.fit" for i in range(1, 11)] + [f"CalV-{i:04d}Bias.fit" for i in range(1, 11)])
#: Names of the darks, 5 with each set, all of DARK_EXPTIME_S.
DARK_FILES = tuple([f"CalR-{i:04d}Dark.fit" for i in range(1, 6)] + [f"CalV-{i:04d}Dark.fit" for i in range(1, 6)])
#: Names of the five R-band twilight flats.
FLAT_FILES = tuple(f"CalR-{i:04d}R.fit" for i in range(1, 6))
SCIENCE_FILE = "M101_MartiC_180-0001.fit"
#: Exposure time of every dark, s.
DARK_EXPTIME_S = 60.0
#: Exposure time of the R-band science frame, s.
SCIENCE_EXPTIME_S = 180.0
#: Exposure times of the twilight flats, s: they grow as the sky darkens, so
#: the flats reach similar counts.
FLAT_EXPTIMES_S = (2.0, 2.5, 3.0, 4.0, 5.0)
#: Counts range the bias histogram of notebook 02 is zoomed to, ADU (the
#: source lab's; other nights derive theirs from their bias,
#: ``convenience_functions.night.histogram_range``).
BIAS_HISTOGRAM_RANGE_ADU = (1300, 1700)
#: The photon-transfer series (notebook 06): pairs of R-band flats lit by a
#: lamp of constant brightness, faint to bright: the faintest pair sits on the
#: read-noise floor, the middle ones in the shot-noise regime, the next two
#: where the response bends, and the brightest is past the full well.
PTC_FLAT_PAIRS = tuple((f"LampR-{i:02d}a.fit", f"LampR-{i:02d}b.fit") for i in range(1, 9))
#: Exposure time of each pair, s.
PTC_EXPTIMES_S = (0.05, 0.4, 3.0, 12.0, 40.0, 80.0, 100.0, 200.0)
#: The dark series (notebook 06): two darks at each of these times, s.
DARK_SERIES_EXPTIMES_S = (30.0, 60.0, 180.0, 300.0)
#: Their names, ordered by exposure time: ``Dark-030s-1.fit``, ``Dark-030s-2.fit``, ...
DARK_SERIES_FILES = tuple(f"Dark-{t:03.0f}s-{i}.fit" for t in DARK_SERIES_EXPTIMES_S for i in (1, 2))
#: Gain of the lab's camera, e-/ADU.
GAIN_E_PER_ADU = 2.0

#: Smallest and largest accepted frame side, in pixels.
MIN_SIDE = 16
MAX_SIDE = 8192

# --- camera: a thermoelectrically (Peltier) cooled CCD ----------------------
#: Dark current of an ordinary pixel at 0 C, e-/s/pixel, and the temperature
#: step that halves it, C (the lab's rule for its camera class, ``lab``).
DARK_CURRENT_AT_0C_E_PER_S = lab.DARK_CURRENT_AT_0C_E_PER_S
DARK_CURRENT_HALVING_C = lab.DARK_CURRENT_HALVING_C
CCD_TEMP_C = -20.0
BIAS_LEVEL_ADU = 1500.0
BIAS_COLUMN_SIGMA_ADU = 4.0
READ_NOISE_E = 10.0
#: Charge a pixel holds before it saturates, e-: at the lab's gain about
#: 50,000 ADU above the bias, so the well fills before the converter's 65535.
FULL_WELL_E = 100_000.0
#: Fraction of the full well up to which a pixel's response is linear
#: (above it the response bends, see :func:`well_response`).
LINEAR_LIMIT_FRACTION = 0.7
#: Time to shift out a whole frame, s.
READOUT_S = 12.0
HOT_PIXEL_FRACTION = 0.003
#: Hot pixels' dark current as multiples of an ordinary pixel's (log-uniform).
HOT_PIXEL_FACTOR_RANGE = (10.0, 1000.0)
#: Very hot pixels, whose dark signal fills the well in the long darks (so
#: it is not linear in time): fraction of the pixels (3 of 200 x 200), and
#: the range of the times in which their dark current alone fills the well,
#: s (log-uniform).
VERY_HOT_PIXEL_FRACTION = 7.5e-5
VERY_HOT_FILL_TIME_RANGE_S = (150.0, 300.0)
#: Bits of the analogue-to-digital converter: it writes 0 .. 2**16 - 1 ADU.
ADC_BITS = 16
INSTRUMENT = "ccdlab simulated CCD"
COMMENT = "Simulated frame for the ccdlab CCD data reduction lab."
TELESCOPE = "ccdlab simulated 0.5 m"

# --- optics (flat field) ----------------------------------------------------
VIGNETTING_AT_CORNER = 0.15
PIXEL_RESPONSE_SIGMA = 0.01

# --- sky and scene ----------------------------------------------------------
SKY_E_PER_S = 15.0
#: The lamp of the photon-transfer flats fills an ordinary pixel's well in
#: this time, s (its photon rate is the full well over it, e-/s/pixel).
LAMP_FILL_TIME_S = 100.0
#: Range of the twilight flats' levels above the bias for the lab's camera,
#: ADU: 44-56 % of its full well.  Another camera's flats are exposed to the
#: same fraction of its own full well (:class:`NightDescription`).
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

# Child streams of the seed: one per fixed pattern, one per frame, one per frame for the very hot pixels.
_PATTERN_STREAM = 0
_FRAME_STREAM = 1
_DEFECT_STREAM = 2
_STREAM_BIAS, _STREAM_DARK, _STREAM_HOT, _STREAM_FLAT = 0, 1, 2, 3
_STREAM_GALAXY, _STREAM_STARS, _STREAM_TWILIGHT, _STREAM_VERY_HOT = 4, 5, 6, 7

# Rows per block when evaluating smooth patterns, to bound memory.
_ROW_BLOCK = 256

# Start times (UTC) of the night's sequences, the night of 2020-01-31.
_FLATS_START = datetime.datetime(2020, 1, 31, 23, 48, 0)
_SCIENCE_START = datetime.datetime(2020, 2, 1, 3, 21, 40)
_BIAS_START = datetime.datetime(2020, 2, 1, 4, 2, 0)
_LAMP_START = datetime.datetime(2020, 2, 1, 4, 30, 0)
_DARK_SERIES_START = datetime.datetime(2020, 2, 1, 5, 0, 0)

#: Descriptions of the parameters that many functions below share, written
#: once: a docstring line that holds only ``{name}``, or ``{name, name}``,
#: stands for ``_SHARED_PARAMETERS[name]`` of each name (filled in by
#: :func:`_shared_parameters`).
_SHARED_PARAMETERS = {
    "shape": """\
shape : tuple of int
    ``(ny, nx)`` in pixels.""",
    "rows": """\
shape : tuple of int
    ``(ny, nx)`` of the whole frame, pixels.
row0, row1 : int
    Rows to evaluate.""",
    "pattern_rng": """\
rng : numpy.random.Generator
    Fixed stream of the pattern (:func:`pattern_rng`).""",
    "frame_rng": """\
rng : numpy.random.Generator
    Noise stream of the frame (:func:`frame_rng`).""",
    "seed": """\
seed : int
    Seed of the night.""",
}


def _shared_parameters(function):
    """Decorator: write the descriptions of ``_SHARED_PARAMETERS`` into ``function``'s docstring."""
    def descriptions(match):
        indent, names = match.groups()
        text = "\n".join(_SHARED_PARAMETERS[name.strip()] for name in names.split(","))
        return textwrap.indent(text, indent)

    if function.__doc__:  # None under python -OO
        function.__doc__ = re.sub(r"^( *)\{(\w+(?:, \w+)*)\}$", descriptions, function.__doc__, flags=re.MULTILINE)
    return function


def dark_current_at(temp_c, at_0c_e_per_s=DARK_CURRENT_AT_0C_E_PER_S, halving_c=DARK_CURRENT_HALVING_C):
    """Return the typical dark current of the camera's class at a temperature.

    Parameters
    ----------
    temp_c : float
        Sensor temperature, C.
    at_0c_e_per_s : float
        Dark current of an ordinary pixel at 0 C, e-/s/pixel.
    halving_c : float
        Cooling that halves the dark current, C.

    Returns
    -------
    float
        Dark current of an ordinary pixel, e-/s/pixel (0.05 at -20 C with
        the defaults: a thermoelectrically cooled CCD, whose ordinary pixels
        have 0.01-0.1 e-/s).
    """
    return at_0c_e_per_s * 2.0 ** (temp_c / halving_c)


@dataclasses.dataclass(frozen=True)
class Camera:
    """Every parameter of the simulated camera.

    The defaults describe the lab's camera, a thermoelectrically (Peltier)
    cooled CCD run at -20 C (``lab.CAMERA_CLASS``), whose typical pixel has
    a dark current of 0.01-0.1 e-/s.

    Attributes
    ----------
    gain_e_per_adu : float
        Gain, e-/ADU.
    read_noise_e : float
        Read noise, e- rms.
    bias_level_adu : float
        Mean bias level, ADU.
    bias_column_sigma_adu : float
        Column-to-column scatter of the bias, ADU.
    ccd_temp_c : float
        Sensor temperature, C (``CCD-TEMP``).
    dark_current_e_per_s : float
        Median dark current of the ordinary pixels, e-/s/pixel; by default
        :func:`dark_current_at` the sensor temperature.
    hot_pixel_fraction : float
        Fraction of the pixels that are hot.
    hot_pixel_factor_range : tuple of float
        Hot pixels' dark current as multiples of ``dark_current_e_per_s``.
    very_hot_pixel_fraction : float
        Fraction of the pixels that are very hot: their dark current fills
        the well in the long darks, so their dark signal is not linear in
        time (at least one pixel).
    very_hot_fill_time_range_s : tuple of float
        Range of the times in which a very hot pixel's dark current alone
        fills the well, s (log-uniform): its current is ``full_well_e`` over
        that time, e-/s.
    full_well_e : float
        Charge a pixel holds, e-; beyond it the pixel saturates.
    linear_limit_fraction : float
        Fraction of the full well up to which the response is linear; above
        it the response bends (:func:`well_response`), reaching the full well
        at ``2 - linear_limit_fraction`` full wells of collected charge.
    readout_s : float
        Time to shift out a whole frame, s.
    adc_bits : int
        Bits of the converter, which writes whole counts from 0 to
        ``2**adc_bits - 1`` ADU.
    """

    gain_e_per_adu: float = GAIN_E_PER_ADU
    read_noise_e: float = READ_NOISE_E
    bias_level_adu: float = BIAS_LEVEL_ADU
    bias_column_sigma_adu: float = BIAS_COLUMN_SIGMA_ADU
    ccd_temp_c: float = CCD_TEMP_C
    dark_current_e_per_s: float = None
    hot_pixel_fraction: float = HOT_PIXEL_FRACTION
    hot_pixel_factor_range: tuple = HOT_PIXEL_FACTOR_RANGE
    very_hot_pixel_fraction: float = VERY_HOT_PIXEL_FRACTION
    very_hot_fill_time_range_s: tuple = VERY_HOT_FILL_TIME_RANGE_S
    full_well_e: float = FULL_WELL_E
    linear_limit_fraction: float = LINEAR_LIMIT_FRACTION
    readout_s: float = READOUT_S
    adc_bits: int = ADC_BITS

    def __post_init__(self):
        if self.dark_current_e_per_s is None:
            object.__setattr__(self, "dark_current_e_per_s", dark_current_at(self.ccd_temp_c))
        for name in ("gain_e_per_adu", "read_noise_e", "full_well_e"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"Camera {name} must be a positive number, not {value!r}")
        for name in ("bias_level_adu", "dark_current_e_per_s", "readout_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"Camera {name} must be a number >= 0, not {value!r}")
        if not 0.0 < self.linear_limit_fraction <= 1.0:
            raise ValueError(f"Camera linear_limit_fraction must be in (0, 1], not {self.linear_limit_fraction!r}")
        object.__setattr__(self, "very_hot_fill_time_range_s", tuple(self.very_hot_fill_time_range_s))

    @property
    def adc_max_adu(self):
        """Largest count the converter writes, ADU (65535 for 16 bits)."""
        return 2 ** self.adc_bits - 1

    @property
    def full_well_adu(self):
        """The full well seen through the gain, ADU above the bias."""
        return self.full_well_e / self.gain_e_per_adu

    @property
    def saturation_adu(self):
        """Count from which on a pixel no longer measures light, ADU (the ``SATURATE`` keyword).

        The smaller of the converter's largest number and the lowest count
        a full pixel reads: the full well seen through the gain above the
        bias level, less the spread of the bias's column pattern (6 of its
        sigmas) and of the read noise (5 sigmas), so that every full pixel
        reads at least this much.
        """
        spread_adu = 6.0 * self.bias_column_sigma_adu + 5.0 * self.read_noise_e / self.gain_e_per_adu
        return int(min(self.adc_max_adu, math.floor(self.bias_level_adu + self.full_well_adu - spread_adu)))


@dataclasses.dataclass(frozen=True)
class NightDescription:
    """One night: its frames, their exposure times, the camera and the sky.

    Attributes
    ----------
    shape : tuple of int
        ``(ny, nx)`` of every frame, pixels.
    seed : int
        Seed of the night's patterns and noise.
    camera : Camera
    bias_files, dark_files, flat_files : tuple of str
        Names of the bias, dark and flat frames.
    science_file : str
        Name of the science frame.
    dark_exptime_s : float
        Exposure time of every dark, s.
    science_exptime_s : float
        Exposure time of the science frame, s.
    flat_exptimes_s : tuple of float
        Exposure time of each flat, s (one per flat file).
    flat_level_range_adu : tuple of float, optional
        Range the flats' levels above the bias are drawn from, ADU: the
        twilight fades between flats, and the exposure times only partly
        make up for it.  By default ``FLAT_LEVEL_RANGE_ADU`` scaled to the
        camera's full well in ADU (the same fraction of the well as the
        lab's camera).
    sky_e_per_s : float
        Sky background of the science frame before the flat, e-/s/pixel.
    cosmic_rays_per_pixel_per_s : float
        Rate of cosmic-ray hits, per pixel per second of exposure or readout.
    planted_hits : tuple
        Strong hits placed by hand: ``(file name, row, column, rows, columns,
        e- per pixel)`` each, a block of charge (tests and the grader's
        second night use one in a bias frame).
    ptc_pairs : tuple of (str, str)
        Names of the photon-transfer flats, pairs of lamp flats of equal
        exposure time, faint to bright; may be empty.
    ptc_exptimes_s : tuple of float
        Exposure time of each pair, s.
    lamp_e_per_s : float, optional
        Photon rate of the lamp before the flat field, e-/s/pixel; by default
        the camera's full well over ``LAMP_FILL_TIME_S``.
    dark_series_files : tuple of str
        Names of the dark series, ordered by exposure time, the same number
        of files for each time; may be empty.
    dark_series_exptimes_s : tuple of float
        The dark series' exposure times, s, increasing: the first
        ``len(dark_series_files) // len(dark_series_exptimes_s)`` files have
        the first, and so on.
    band : str
        Filter of the flats and science frame, and of calibration frames
        whose name does not say (``CalV-...`` says V).
    label : str
        Words for messages, e.g. ``'the bundled night'``.
    bias_histogram_range_adu : tuple of float, optional
        Counts range of notebook 02's bias histogram, ADU; by default derived
        from the first bias frame once it is made
        (``convenience_functions.night.histogram_range``).
    """

    shape: tuple
    seed: int
    camera: Camera = Camera()
    bias_files: tuple = BIAS_FILES
    dark_files: tuple = DARK_FILES
    flat_files: tuple = FLAT_FILES
    science_file: str = SCIENCE_FILE
    dark_exptime_s: float = DARK_EXPTIME_S
    science_exptime_s: float = SCIENCE_EXPTIME_S
    flat_exptimes_s: tuple = FLAT_EXPTIMES_S
    flat_level_range_adu: tuple = None
    sky_e_per_s: float = SKY_E_PER_S
    cosmic_rays_per_pixel_per_s: float = COSMIC_RAYS_PER_PIXEL_PER_S
    planted_hits: tuple = ()
    band: str = "R"
    label: str = "the bundled night"
    ptc_pairs: tuple = PTC_FLAT_PAIRS
    ptc_exptimes_s: tuple = PTC_EXPTIMES_S
    lamp_e_per_s: float = None
    dark_series_files: tuple = DARK_SERIES_FILES
    dark_series_exptimes_s: tuple = DARK_SERIES_EXPTIMES_S
    bias_histogram_range_adu: tuple = None

    def __post_init__(self):
        object.__setattr__(self, "shape", _check_shape(self.shape))
        object.__setattr__(self, "seed", _check_seed(self.seed))
        if not isinstance(self.camera, Camera):
            raise TypeError(f"camera must be a Camera, not {type(self.camera).__name__}")
        for name in ("bias_files", "dark_files", "flat_files", "flat_exptimes_s", "planted_hits",
                     "ptc_exptimes_s", "dark_series_files", "dark_series_exptimes_s"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "ptc_pairs", tuple(tuple(pair) for pair in self.ptc_pairs))
        if self.flat_level_range_adu is None:
            scale = self.camera.full_well_adu / Camera().full_well_adu  # 1.0 for the lab's camera
            object.__setattr__(self, "flat_level_range_adu", tuple(level * scale for level in FLAT_LEVEL_RANGE_ADU))
        if self.lamp_e_per_s is None:
            object.__setattr__(self, "lamp_e_per_s", self.camera.full_well_e / LAMP_FILL_TIME_S)
        self._check_series()
        if len(self.flat_exptimes_s) != len(self.flat_files):
            raise ValueError(
                f"flat_exptimes_s has {len(self.flat_exptimes_s)} exposure times for "
                f"{len(self.flat_files)} flat_files"
            )
        for name in ("dark_exptime_s", "science_exptime_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {getattr(self, name)!r}")
        if not all(t > 0 for t in self.flat_exptimes_s):
            raise ValueError(f"flat_exptimes_s must be positive seconds, not {self.flat_exptimes_s!r}")
        names = self.names()
        if len(set(names)) != len(names):
            raise ValueError(f"the night's frame names repeat: {names}")
        for hit in self.planted_hits:
            if hit[0] not in names:
                raise ValueError(f"planted hit {hit!r} names no frame of the night")

    def _check_series(self):
        """Raise ValueError if the photon-transfer or dark series is not valid."""
        if any(len(pair) != 2 for pair in self.ptc_pairs):
            raise ValueError(f"ptc_pairs must be pairs of file names, not {self.ptc_pairs!r}")
        if len(self.ptc_exptimes_s) != len(self.ptc_pairs):
            raise ValueError(
                f"ptc_exptimes_s has {len(self.ptc_exptimes_s)} exposure times for {len(self.ptc_pairs)} ptc_pairs"
            )
        times = self.dark_series_exptimes_s
        if bool(times) != bool(self.dark_series_files) or (times and len(self.dark_series_files) % len(times)):
            raise ValueError(
                f"dark_series_files ({len(self.dark_series_files)} files) must hold the same number of "
                f"files for each of the dark_series_exptimes_s {times!r}"
            )
        if list(times) != sorted(set(times)):
            raise ValueError(f"dark_series_exptimes_s must increase, not {times!r}")
        for name in ("ptc_exptimes_s", "dark_series_exptimes_s"):
            if not all(t > 0 for t in getattr(self, name)):
                raise ValueError(f"{name} must be positive seconds, not {getattr(self, name)!r}")
        if not self.lamp_e_per_s > 0:
            raise ValueError(f"lamp_e_per_s must be a positive number of e-/s, not {self.lamp_e_per_s!r}")

    def dark_series_exptime(self, name):
        """Return the exposure time of the dark-series file ``name``, s."""
        per_time = len(self.dark_series_files) // len(self.dark_series_exptimes_s)
        return self.dark_series_exptimes_s[self.dark_series_files.index(name) // per_time]

    def names(self):
        """Return the frames' names in the order of :meth:`frame_specs`."""
        return ([*self.flat_files, self.science_file] + list(self.bias_files) + list(self.dark_files)
                + [name for pair in self.ptc_pairs for name in pair] + list(self.dark_series_files))

    def frame_specs(self):
        """Return the night's frames in a fixed order, with their header values.

        Returns
        -------
        list of dict
            ``name``, ``imagetyp``, ``exptime`` (s), ``filter``, ``date_obs``
            (ISO, UTC) and ``kind`` (``bias``, ``dark``, ``flat``,
            ``science``, or ``lamp`` for the photon-transfer flats) per frame.  A frame's position in this list keys its
            noise stream.
        """
        readout = self.camera.readout_s
        specs = []
        clock = _FLATS_START
        for name, exptime in zip(self.flat_files, self.flat_exptimes_s):
            specs.append(_spec(name, "flat", "Flat Field", exptime, self.band, clock))
            clock += datetime.timedelta(seconds=exptime + 30.0)
        specs.append(_spec(self.science_file, "science", "Light Frame", self.science_exptime_s, self.band,
                           _SCIENCE_START))
        clock = _BIAS_START
        for name in self.bias_files:
            specs.append(_spec(name, "bias", "Bias Frame", 0.0, _filter_of(name, self.band), clock))
            clock += datetime.timedelta(seconds=readout)
        for name in self.dark_files:
            specs.append(_spec(name, "dark", "Dark Frame", self.dark_exptime_s, _filter_of(name, self.band), clock))
            clock += datetime.timedelta(seconds=self.dark_exptime_s + readout)
        # Added after the frames above, so that their noise streams stay the same.
        clock = _LAMP_START
        for pair, exptime in zip(self.ptc_pairs, self.ptc_exptimes_s):
            for name in pair:
                specs.append(_spec(name, "lamp", "Flat Field", exptime, _filter_of(name, self.band), clock))
                clock += datetime.timedelta(seconds=exptime + readout)
        clock = _DARK_SERIES_START
        for name in self.dark_series_files:
            exptime = self.dark_series_exptime(name)
            specs.append(_spec(name, "dark", "Dark Frame", exptime, _filter_of(name, self.band), clock))
            clock += datetime.timedelta(seconds=exptime + readout)
        return specs

    def parameters(self):
        """Return every parameter of the night as plain JSON-able data (for the truth file).

        Shape and seed are left out: the truth file has them at its top level.
        """
        data = dataclasses.asdict(self)
        del data["shape"], data["seed"]
        return json.loads(json.dumps(data))


@_shared_parameters
def bundled_description(shape=DEFAULT_SHAPE, seed=DEFAULT_SEED, camera=None):
    """Return the description of the lab's night (the bundled night's names and times above).

    Parameters
    ----------
    {shape}
    {seed}
    camera : Camera, optional
        Default: the lab's camera, ``Camera()``.

    Returns
    -------
    NightDescription
    """
    return NightDescription(shape=shape, seed=seed, camera=Camera() if camera is None else camera,
                            bias_histogram_range_adu=BIAS_HISTOGRAM_RANGE_ADU)

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


def defect_rng(seed, index):
    """Return the generator of the very hot pixels' noise in the frame at ``index``.

    A stream of its own, apart from :func:`frame_rng`, so that the very hot
    pixels change no other pixel's noise.
    """
    sequence = np.random.SeedSequence(seed, spawn_key=(_DEFECT_STREAM, index))
    return np.random.default_rng(sequence)


# =============================================================================
# Camera components
# =============================================================================

@_shared_parameters
def bias_pattern(shape, rng, level_adu, column_sigma_adu):
    """Return the noiseless bias offset: a level plus a fixed column pattern.

    Each column gets its own offset (Gaussian, ``column_sigma_adu``), on top
    of a slow wave of one period across the chip (a sine with a random
    phase, so a hump, a dip or both, depending on the seed); a few warm
    columns sit tens of ADU high.

    Parameters
    ----------
    {shape, pattern_rng}
    level_adu : float
        Mean bias level, ADU.
    column_sigma_adu : float
        Column-to-column scatter, ADU.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float32 bias offset, ADU.
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


@_shared_parameters
def read_noise(shape, rng, read_noise_e, gain):
    """Return one read of Gaussian read noise.

    The noise is drawn in ADU (float32, like the frame's other patterns), so
    the gain turns the read noise in electrons into its rms in ADU.

    Parameters
    ----------
    {shape, frame_rng}
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


@_shared_parameters
def dark_current(shape, rng, median_e_per_s):
    """Return the dark current of ordinary pixels.

    The current scatters by 10 % from pixel to pixel and rises by 20 % towards
    one edge of the chip (warmer near the readout amplifier).

    Parameters
    ----------
    {shape, pattern_rng}
    median_e_per_s : float
        Median dark current of the ordinary pixels, e-/s/pixel.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float32 dark current, e-/s/pixel.
    """
    ny, nx = shape
    scatter = rng.gamma(100.0, 0.01, shape)  # mean 1, rms 0.1
    glow = 1.0 + 0.2 * np.linspace(0.0, 1.0, nx)
    current = scatter * glow[np.newaxis, :]
    current *= median_e_per_s / np.median(current)
    return current.astype(np.float32)


@_shared_parameters
def hot_pixels(shape, rng, fraction, current_range_e_per_s):
    """Return the hot pixels and their dark current.

    Parameters
    ----------
    {shape, pattern_rng}
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


@_shared_parameters
def very_hot_pixels(shape, rng, fraction, fill_time_range_s, full_well_e, exclude):
    """Return the very hot pixels, whose dark signal fills the well in long darks.

    Their dark current (on top of an ordinary pixel's) is so high that the
    well fills within a few minutes:
    in a short dark their signal grows in proportion to the exposure time,
    in a long one it bends over (:func:`well_response`) and stops at the
    full well, so a straight line through the dark signal against time
    does not fit them.

    Parameters
    ----------
    {shape, pattern_rng}
    fraction : float
        Fraction of the pixels that are very hot (at least one pixel).
    fill_time_range_s : tuple of float
        Range of the times in which a pixel's dark current alone fills the
        well, s (log-uniform).
    full_well_e : float
        Charge a pixel holds, e-.
    exclude : numpy.ndarray
        ``(ny, nx)`` bool, pixels that may not be chosen (the hot pixels).

    Returns
    -------
    mask : numpy.ndarray
        ``(ny, nx)`` bool, True on very hot pixels.
    current : numpy.ndarray
        Dark current each adds to an ordinary pixel's, e-/s, in the order of
        ``mask.nonzero()``.
    """
    free = np.flatnonzero(~exclude.ravel())
    n_very_hot = min(free.size, max(1, int(round(fraction * shape[0] * shape[1]))))
    index = np.sort(rng.choice(free, size=n_very_hot, replace=False))
    mask = np.zeros(shape[0] * shape[1], dtype=bool)
    mask[index] = True
    low, high = np.log(fill_time_range_s)
    fill_time_s = np.exp(rng.uniform(low, high, n_very_hot))
    return mask.reshape(shape), (full_well_e / fill_time_s).astype(np.float32)


def well_response(charge_e, full_well_e, linear_limit_fraction):
    """Return the charge a pixel keeps (and reports) for the charge it collects.

    Linear up to ``linear_limit_fraction`` of the full well; above it the
    response bends along a parabola that starts with the linear slope and
    flattens out, reaching the full well with zero slope at ``2 -
    linear_limit_fraction`` full wells of collected charge; more charge is
    lost.  With the lab's 0.7, a pixel that collected 80 % of the full well
    reports 1 % less, at 100 % it reports 92.5 %, from 130 % on it is full.
    The bending also squeezes the noise: a pixel's variance shrinks as the
    square of the response's slope, so the photon-transfer curve turns
    over before the full well.

    Parameters
    ----------
    charge_e : numpy.ndarray
        Collected charge, e-.
    full_well_e : float
        Charge a pixel holds, e-.
    linear_limit_fraction : float
        Fraction of the full well up to which the response is linear, in
        (0, 1]; 1 means linear up to a hard stop at the full well.

    Returns
    -------
    numpy.ndarray
        Charge kept, e- (float64); equal to ``charge_e`` below the linear
        limit.
    """
    knee_e = linear_limit_fraction * full_well_e
    span_e = 2.0 * (full_well_e - knee_e)  # collected charge over which the response bends
    if span_e == 0.0:
        return np.minimum(charge_e, full_well_e)
    excess = np.clip(charge_e - knee_e, 0.0, span_e)
    return np.minimum(charge_e, knee_e) + excess - excess * excess / (2.0 * span_e)


def very_hot_charge(very_hot_e_per_s, very_hot_readout_e, exptime_s, rng):
    """Return the dark charge the very hot pixels add to one frame, with its Poisson noise.

    Parameters
    ----------
    very_hot_e_per_s : numpy.ndarray
        ``(ny, nx)`` very hot pixels' dark current on top of an ordinary
        pixel's, e-/s/pixel (zero elsewhere).
    very_hot_readout_e : numpy.ndarray
        ``(ny, nx)`` charge their current adds to the packets shifted past
        them during the readout, e- (:func:`readout_dark`).
    exptime_s : float
        Exposure time, s.
    rng : numpy.random.Generator
        The frame's stream of the very hot pixels (:func:`defect_rng`).

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float64 charge, e-.
    """
    return rng.poisson(very_hot_e_per_s * np.float32(exptime_s) + very_hot_readout_e).astype(np.float64)


def readout_dark(dark_e_per_s, readout_s):
    """Return the dark charge each packet collects while the frame is shifted out.

    Rows are shifted one by one towards the serial register at row 0; the
    packet that starts at row ``y`` spends ``readout_s / ny`` seconds on each
    of rows ``y, y-1, ..., 0`` and collects their dark current, so a hot
    pixel leaves a faint trail in the rows above it.

    Parameters
    ----------
    dark_e_per_s : numpy.ndarray
        ``(ny, nx)`` dark current, e-/s/pixel.
    readout_s : float
        Time to shift out the whole frame, s.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float32 expected charge, e-.
    """
    row_time = readout_s / dark_e_per_s.shape[0]
    return (np.cumsum(dark_e_per_s, axis=0, dtype=np.float64) * row_time).astype(np.float32)



# =============================================================================
# Optics: the flat field
# =============================================================================

def _centred_grid(shape, row0, row1):
    """Return pixel coordinates of rows ``row0:row1``, relative to the centre."""
    ny, nx = shape
    y = np.arange(row0, row1, dtype=np.float64)[:, np.newaxis] - (ny - 1) / 2.0
    x = np.arange(nx, dtype=np.float64)[np.newaxis, :] - (nx - 1) / 2.0
    return y, x


@_shared_parameters
def vignetting(shape, row0, row1, depth=VIGNETTING_AT_CORNER):
    """Return the smooth radial fall-off of the optics for rows ``row0:row1``.

    Parameters
    ----------
    {rows}
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


@_shared_parameters
def dust_donut_params(shape, rng):
    """Draw the dust specks on the filter: centres, radii and depths.

    Three to five specks, anywhere but the outer 10 % of each side; a ring's
    radius is 3-7 % of the shorter side (at least 2.5 pixels), its width a
    quarter of that, its depth 2-5 %.

    Parameters
    ----------
    {shape, pattern_rng}

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


@_shared_parameters
def dust_donuts(shape, row0, row1, donuts):
    """Return the shadow of out-of-focus dust (rings) for rows ``row0:row1``.

    Parameters
    ----------
    {rows}
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


@_shared_parameters
def flat_pattern(shape, rng):
    """Return the true flat field: vignetting, dust donuts and pixel response.

    :func:`vignetting` times :func:`dust_donuts` (of the specks drawn by
    :func:`dust_donut_params`), times a pixel-to-pixel response that
    scatters by ``PIXEL_RESPONSE_SIGMA``, divided by its median.

    Parameters
    ----------
    {shape, pattern_rng}

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

@_shared_parameters
def sky_background(shape, level_e_per_s=SKY_E_PER_S):
    """Return a flat sky background.

    Parameters
    ----------
    {shape}
    level_e_per_s : float
        Sky brightness before the flat field, e-/s/pixel.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float64 photon rate, e-/s/pixel.
    """
    return np.full(shape, float(level_e_per_s))


@_shared_parameters
def galaxy_params(shape, rng):
    """Draw the galaxy's geometry (centre, size, orientation of the arms).

    The centre lies within 5 % of the frame's side from the frame's centre;
    the disk's scale length is 0.11 of the shorter side; the disk is seen
    nearly face-on (axis ratio 0.85-0.95).

    Parameters
    ----------
    {shape, pattern_rng}

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


@_shared_parameters
def galaxy(shape, row0, row1, params):
    """Return a face-on two-armed spiral (exponential disk + bulge), rows ``row0:row1``.

    Parameters
    ----------
    {rows}
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


@_shared_parameters
def star_field(shape, rng, galaxy_centre, galaxy_scale_pix):
    """Draw the field stars: many faint ones and a few that saturate.

    Faint stars follow a truncated power law in brightness; their peak stays
    low enough that no pixel saturates even on the galaxy's core.  The bright
    stars are kept away from the edges and from the galaxy.

    Parameters
    ----------
    {shape, pattern_rng}
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


@_shared_parameters
def sky_rate(shape, seed, sky_e_per_s=SKY_E_PER_S):
    """Return the photon rate from the sky, the galaxy and the stars.

    Parameters
    ----------
    {shape}
    {seed}
    sky_e_per_s : float
        Sky background before the flat field, e-/s/pixel.

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
        block = sky_background((row1 - row0, nx), sky_e_per_s) + galaxy(shape, row0, row1, galaxy_p)
        for y, x, peak in np.concatenate([faint, bright]):
            if row0 - 100 <= y < row1 + 100:
                add_star(block, y, x, peak, row_offset=row0)
        rate[row0:row1] = block
    return rate


@_shared_parameters
def cosmic_rays(shape, rng, exposed_s, rate_per_pixel_per_s, e_per_pixel_range=COSMIC_RAY_E_PER_PIXEL_RANGE):
    """Return the charge left by cosmic rays during one exposure and its readout.

    Each hit is a short straight track (a blob when it comes in head-on).

    Parameters
    ----------
    {shape, frame_rng}
    exposed_s : float
        Time the chip collects charge: exposure time plus readout, s.
    rate_per_pixel_per_s : float
        Mean number of hits per pixel per second.
    e_per_pixel_range : tuple of float
        Range of the charge a hit leaves in each pixel of its track, e-.

    Returns
    -------
    charge : numpy.ndarray
        ``(ny, nx)`` float32 deposited charge, e-.
    n_hits : int
        Number of cosmic rays.
    """
    ny, nx = shape
    charge = np.zeros(shape, dtype=np.float32)
    n_hits = int(rng.poisson(rate_per_pixel_per_s * ny * nx * exposed_s))
    for _ in range(n_hits):
        y0, x0 = rng.uniform(0, ny - 1), rng.uniform(0, nx - 1)
        length = min(rng.exponential(2.0), 8.0)
        angle = rng.uniform(0.0, np.pi)
        e_per_pix = rng.uniform(*e_per_pixel_range)
        steps = np.linspace(0.0, length, max(2, int(length * 2) + 1))
        ys = np.clip(np.rint(y0 + steps * math.sin(angle)), 0, ny - 1).astype(np.intp)
        xs = np.clip(np.rint(x0 + steps * math.cos(angle)), 0, nx - 1).astype(np.intp)
        pixels = np.unique(ys * nx + xs)
        charge.ravel()[pixels] += np.float32(e_per_pix)
    return charge, n_hits


def twilight_rates(seed, flat_exptimes_s, level_range_adu, gain):
    """Return the twilight sky's photon rate during each flat, e-/s/pixel.

    The sky fades as the flats go on; the exposure times grow to make up for
    it, but only partly: each flat's level above the bias is drawn from
    ``level_range_adu``, so the flats' levels differ.

    Parameters
    ----------
    seed : int
        Seed of the night.
    flat_exptimes_s : sequence of float
        Exposure time of each flat, s.
    level_range_adu : tuple of float
        Range of the flats' levels, ADU.
    gain : float
        Gain, e-/ADU.

    Returns
    -------
    list of float
        Photon rate per flat, e-/s/pixel.
    """
    rng = pattern_rng(seed, _STREAM_TWILIGHT)
    levels_adu = rng.uniform(*level_range_adu, len(flat_exptimes_s))
    return [float(level * gain / t) for level, t in zip(levels_adu, flat_exptimes_s)]



# =============================================================================
# The whole camera
# =============================================================================

def _as_description(night=None, shape=None, seed=None):
    """Return ``night``, or the bundled description of ``shape`` and ``seed``."""
    if night is not None:
        if shape is not None or seed is not None:
            raise ValueError("give either night or shape and seed, not both")
        if not isinstance(night, NightDescription):
            raise TypeError(f"night must be a NightDescription, not {type(night).__name__}")
        return night
    return bundled_description(DEFAULT_SHAPE if shape is None else shape, DEFAULT_SEED if seed is None else seed)


def _components(night):
    """Return the noiseless patterns as float32 arrays (the ones frames use)."""
    shape, seed, camera = night.shape, night.seed, night.camera
    offset = bias_pattern(shape, pattern_rng(seed, _STREAM_BIAS), camera.bias_level_adu,
                          camera.bias_column_sigma_adu)
    dark = dark_current(shape, pattern_rng(seed, _STREAM_DARK), camera.dark_current_e_per_s)
    low, high = camera.hot_pixel_factor_range
    hot_mask, hot_current = hot_pixels(
        shape, pattern_rng(seed, _STREAM_HOT), camera.hot_pixel_fraction,
        (low * camera.dark_current_e_per_s, high * camera.dark_current_e_per_s),
    )
    dark[hot_mask] = hot_current
    very_hot_mask, very_hot_current = very_hot_pixels(
        shape, pattern_rng(seed, _STREAM_VERY_HOT), camera.very_hot_pixel_fraction,
        camera.very_hot_fill_time_range_s, camera.full_well_e, hot_mask,
    )
    very_hot = np.zeros(shape, dtype=np.float32)
    very_hot[very_hot_mask] = very_hot_current
    readout = readout_dark(dark, camera.readout_s)
    very_hot_readout = readout_dark(very_hot, camera.readout_s)
    total_readout = readout + very_hot_readout
    flat = flat_pattern(shape, pattern_rng(seed, _STREAM_FLAT))
    sky = sky_rate(shape, seed, night.sky_e_per_s)
    return {
        "bias_offset_adu": offset,
        "readout_dark_e": total_readout,
        "bias_adu": (offset + total_readout / np.float32(camera.gain_e_per_adu)).astype(np.float32),
        "dark_current_e_per_s": dark + very_hot,
        "very_hot_dark_current_e_per_s": very_hot,
        "hot_pixels": hot_mask,
        "nonlinear_pixels": very_hot_mask,
        "flat": flat,
        "sky_e_per_s": sky,
        # For rendering: the very hot pixels' charge has a noise stream of its own (defect_rng).
        "_dark_without_very_hot_e_per_s": dark,
        "_readout_without_very_hot_e": readout,
        "_very_hot_readout_e": very_hot_readout,
    }


def true_components(shape=None, seed=None, *, night=None):
    """Return the noiseless patterns that the frames of a night are made from.

    Parameters
    ----------
    shape : tuple of int, optional
        ``(ny, nx)`` of the bundled night's description, pixels; default
        ``DEFAULT_SHAPE``.
    seed : int, optional
        Seed of the bundled night's description; default ``DEFAULT_SEED``.
    night : NightDescription, optional
        Any night instead (then give neither ``shape`` nor ``seed``).

    Returns
    -------
    dict of numpy.ndarray
        ``bias_offset_adu`` (the electronics' level and column pattern, ADU),
        ``readout_dark_e`` (dark charge collected while shifting out, e-),
        ``bias_adu`` (what a bias frame holds without noise: the two
        together, ADU), ``dark_current_e_per_s`` (hot and very hot pixels
        included, e-/s/pixel), ``very_hot_dark_current_e_per_s`` (the very
        hot pixels' current on top of an ordinary pixel's, zero elsewhere,
        e-/s/pixel), ``hot_pixels`` (bool mask of the hot pixels,
        whose dark signal stays linear in time), ``nonlinear_pixels`` (bool
        mask of the very hot pixels, whose dark signal fills the well in long
        darks, :func:`very_hot_pixels`), ``flat`` (relative response,
        median 1) and ``sky_e_per_s`` (sky, galaxy and stars before the flat,
        e-/s/pixel).  All float64 except the mask; the values are exactly
        those used for the frames.
    """
    components = _components(_as_description(night, shape, seed))
    return {
        name: (value if value.dtype == bool else value.astype(np.float64))
        for name, value in components.items() if not name.startswith("_")
    }


def frame_specs(night=None):
    """Return the frames of ``night`` (default: the bundled night), see :meth:`NightDescription.frame_specs`."""
    return _as_description(night).frame_specs()


def _spec(name, kind, imagetyp, exptime, band, clock):
    return {
        "name": name,
        "kind": kind,
        "imagetyp": imagetyp,
        "exptime": float(exptime),
        "filter": band,
        "date_obs": clock.isoformat(timespec="seconds"),
    }


def _filter_of(name, default):
    """Return the filter letter of a calibration file name such as ``CalV-0003Dark.fit``, else ``default``."""
    match = re.match(r"Cal([A-Z])-", name)
    return default if match is None else match.group(1)


def expose(spec, components, rng, twilight_e_per_s=None):
    """Return the charge collected during one exposure (readout not included).

    Parameters
    ----------
    spec : dict
        One entry of :meth:`NightDescription.frame_specs`.
    components : dict
        From :func:`_components` (float32 patterns).
    rng : numpy.random.Generator
        Noise stream of the frame.
    twilight_e_per_s : float, optional
        Photon rate lighting a flat before the flat field, e-/s/pixel: the
        twilight sky's for a twilight flat, the lamp's for a lamp flat.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float64 collected charge, e-.
    """
    shape = components["bias_adu"].shape
    t = spec["exptime"]
    charge = np.zeros(shape, dtype=np.float64)
    if spec["kind"] == "bias":
        return charge
    if spec["kind"] in ("flat", "lamp"):
        charge += rng.poisson(components["flat"] * np.float32(twilight_e_per_s * t))
    elif spec["kind"] == "science":
        charge += rng.poisson(components["sky_e_per_s"] * components["flat"] * np.float32(t))
    charge += rng.poisson(components["_dark_without_very_hot_e_per_s"] * np.float32(t))
    return charge


def digitize(bias_adu, charge_e, noise_adu, gain, full_well_e, adc_max_adu):
    """Convert charge to 16-bit counts the way the camera does.

    Parameters
    ----------
    bias_adu : numpy.ndarray
        Bias offset, ADU.
    charge_e : numpy.ndarray
        Collected charge, e-; a pixel holds at most ``full_well_e``.
    noise_adu : numpy.ndarray
        Read noise of this read, ADU.
    gain : float
        Gain, e-/ADU.
    full_well_e : float
        Charge a pixel holds, e-.
    adc_max_adu : int
        Largest count the converter writes, ADU.

    Returns
    -------
    numpy.ndarray
        uint16 counts, ADU, clipped to ``0..adc_max_adu``.
    """
    counts = bias_adu + np.minimum(charge_e, full_well_e) / gain + noise_adu
    np.rint(counts, out=counts)
    np.clip(counts, 0, adc_max_adu, out=counts)
    return counts.astype(np.uint16)


def frame_header(spec, night):
    """Return the FITS header a camera would write for one frame of ``night``."""
    camera = night.camera
    header = fits.Header()
    header["IMAGETYP"] = (spec["imagetyp"], "type of image")
    header["EXPTIME"] = (spec["exptime"], "[s] exposure time")
    header["FILTER"] = (spec["filter"], "filter in the beam")
    header["DATE-OBS"] = (spec["date_obs"], "[UTC] start of exposure")
    if spec["kind"] == "science":
        header["OBJECT"] = ("M101", "target")
    header["INSTRUME"] = (INSTRUMENT, "camera")
    header["TELESCOP"] = (TELESCOPE, "telescope")
    header["GAIN"] = (camera.gain_e_per_adu, "[e-/ADU] detector gain")
    header["RDNOISE"] = (camera.read_noise_e, "[e-] read noise")
    header["SATURATE"] = (camera.saturation_adu, "[ADU] counts above this are not light")
    header["CCD-TEMP"] = (camera.ccd_temp_c, "[C] sensor temperature")
    header["XBINNING"] = (1, "binning along columns")
    header["YBINNING"] = (1, "binning along rows")
    header["BUNIT"] = ("adu", "unit of the pixel values")
    header["SIMSEED"] = (night.seed, "seed of the ccdlab simulator")
    header["SIMVERS"] = (GENERATOR_VERSION, "version of the ccdlab simulator")
    header["COMMENT"] = COMMENT
    return header


def frame_bytes(data, header):
    """Return the bytes of a FITS file holding ``data`` (uint16) and ``header``."""
    return hdu_bytes(fits.PrimaryHDU(data=data, header=header))


def hdu_bytes(hdu, *, checksum=False):
    """Return the bytes of a FITS file holding one raw frame, the primary HDU ``hdu``.

    The one writer of raw frames: the simulator's (:func:`frame_bytes`) and
    the imported ones (:mod:`sample_data.import_night`).

    Parameters
    ----------
    hdu : astropy.io.fits.PrimaryHDU
        The frame's counts (ADU) and header.
    checksum : bool
        Add or update the CHECKSUM and DATASUM cards.

    Returns
    -------
    bytes
    """
    buffer = io.BytesIO()
    hdu.writeto(buffer, checksum=checksum)
    return buffer.getvalue()


def _planted(night, name, shape):
    """Charge of the hits planted by hand in frame ``name``, e-."""
    charge = np.zeros(shape, dtype=np.float64)
    for frame, row, column, rows, columns, e_per_pixel in night.planted_hits:
        if frame == name:
            charge[row:row + rows, column:column + columns] += e_per_pixel
    return charge


def render(night, index, components, twilight):
    """Make the counts of the frame at ``index`` of ``night.frame_specs()``.

    Returns
    -------
    data : numpy.ndarray
        ``(ny, nx)`` uint16 counts, ADU.
    n_hits : int
        Number of cosmic rays that hit it (during the exposure or the readout).
    """
    camera = night.camera
    spec = night.frame_specs()[index]
    rng = frame_rng(night.seed, index)
    rate = None
    if spec["kind"] == "flat":
        rate = twilight[list(night.flat_files).index(spec["name"])]
    elif spec["kind"] == "lamp":
        rate = night.lamp_e_per_s
    charge = expose(spec, components, rng, rate)
    charge += rng.poisson(components["_readout_without_very_hot_e"])
    charge += very_hot_charge(components["very_hot_dark_current_e_per_s"], components["_very_hot_readout_e"],
                              spec["exptime"], defect_rng(night.seed, index))
    hits, n_hits = cosmic_rays(charge.shape, rng, spec["exptime"] + camera.readout_s,
                               night.cosmic_rays_per_pixel_per_s)
    charge += hits
    charge += _planted(night, spec["name"], charge.shape)
    charge = well_response(charge, camera.full_well_e, camera.linear_limit_fraction)
    noise = read_noise(charge.shape, rng, camera.read_noise_e, camera.gain_e_per_adu)
    data = digitize(components["bias_offset_adu"], charge, noise, camera.gain_e_per_adu, camera.full_well_e,
                    camera.adc_max_adu)
    return data, n_hits


def frame_data(name, shape=None, seed=None, *, night=None):
    """Make one raw frame of a night on its own, without writing anything.

    The counts equal those of the same file written by
    :func:`simulate_night`: each frame has its own noise stream.

    Parameters
    ----------
    name : str
        One of the night's file names (for the bundled night a name from
        ``lab``: ``BIAS_FILES``, ``DARK_FILES``, ``FLAT_FILES``,
        ``SCIENCE_FILE``, ``PTC_FLAT_PAIRS`` or ``DARK_SERIES_FILES``).
    shape, seed :
        Of the bundled night's description, as for :func:`true_components`.
    night : NightDescription, optional
        Any night instead.

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
    night = _as_description(night, shape, seed)
    names = night.names()
    if name not in names:
        raise ValueError(f"{name!r} is not one of the frames of {night.label}: {names}")
    index = names.index(name)
    twilight = _twilight(night)
    data, _ = render(night, index, _components(night), twilight)
    return data, frame_header(night.frame_specs()[index], night)


def _twilight(night):
    return twilight_rates(night.seed, night.flat_exptimes_s, night.flat_level_range_adu,
                          night.camera.gain_e_per_adu)


# =============================================================================
# The night
# =============================================================================

def _rounded(value, digits=10):
    """Round a float to ``digits`` significant digits (stable truth.json)."""
    value = float(value)
    if value == 0.0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits}g}")


def _truth(night, components, twilight, frames):
    """Collect every parameter of the night and what a correct reduction should recover."""
    camera = night.camera
    gain = camera.gain_e_per_adu
    galaxy_p, faint, bright = _scene(night.shape, night.seed)
    dark = components["dark_current_e_per_s"].astype(np.float64)
    hot = components["hot_pixels"]
    nonlinear = components["nonlinear_pixels"]
    flat_levels = [r * t / gain for r, t in zip(twilight, night.flat_exptimes_s)]
    ptc_linear, ptc_levels = ptc_levels_adu(night, components)
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": night.seed,
        "shape": [night.shape[0], night.shape[1]],
        "night": night.parameters(),
        "gain_e_per_adu": gain,
        "read_noise_e": camera.read_noise_e,
        "read_noise_adu": camera.read_noise_e / gain,
        "saturation_adu": camera.saturation_adu,
        "full_well_e": camera.full_well_e,
        "full_well_adu": _rounded(camera.full_well_adu),
        "linear_limit_fraction": camera.linear_limit_fraction,
        "linear_limit_adu": _rounded(camera.linear_limit_fraction * camera.full_well_adu),
        "bias_level_adu": _rounded(components["bias_adu"].astype(np.float64).mean()),
        "mean_dark_current_e_per_s": _rounded(dark.mean()),
        "median_dark_current_e_per_s": _rounded(np.median(dark)),
        "mean_dark_current_without_hot_pixels_e_per_s": _rounded(dark[~hot & ~nonlinear].mean()),
        "n_hot_pixels": int(hot.sum()),
        "n_nonlinear_pixels": int(nonlinear.sum()),
        "nonlinear_pixels_dark_current_e_per_s": [_rounded(d) for d in dark[nonlinear]],
        "ptc_exptimes_s": list(night.ptc_exptimes_s),
        "lamp_e_per_s": _rounded(night.lamp_e_per_s),
        "ptc_linear_levels_adu": [_rounded(level) for level in ptc_linear],
        "ptc_levels_adu": [_rounded(level) for level in ptc_levels],
        "dark_series_exptimes_s": list(night.dark_series_exptimes_s),
        "dark_exptime_s": night.dark_exptime_s,
        "science_exptime_s": night.science_exptime_s,
        "flat_exptimes_s": list(night.flat_exptimes_s),
        "flat_twilight_e_per_s": [_rounded(r) for r in twilight],
        "flat_levels_adu": [_rounded(level) for level in flat_levels],
        "sky_background_e_per_s": night.sky_e_per_s,
        "sky_background_adu": night.sky_e_per_s * night.science_exptime_s / gain,
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



def ptc_levels_adu(night, components):
    """Return the true mean signal above the bias of each photon-transfer pair, ADU.

    Parameters
    ----------
    night : NightDescription
    components : dict
        From :func:`_components`.

    Returns
    -------
    linear : list of float
        Mean over the frame of the lamp's and the dark current's charge over
        the gain: what a linear camera would read, ADU.
    levels : list of float
        The same through the pixels' response (:func:`well_response`):
        what this camera reads on average, ADU (noiseless).
    """
    camera = night.camera
    flat = components["flat"].astype(np.float64)
    dark = components["dark_current_e_per_s"].astype(np.float64)
    readout = components["readout_dark_e"].astype(np.float64)
    linear, levels = [], []
    for t in night.ptc_exptimes_s:
        charge = (night.lamp_e_per_s * flat + dark) * t
        kept = well_response(charge + readout, camera.full_well_e, camera.linear_limit_fraction) - readout
        linear.append(float(charge.mean()) / camera.gain_e_per_adu)
        levels.append(float(kept.mean()) / camera.gain_e_per_adu)
    return linear, levels


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


def _has_lab_names(night):
    """True if the night's frames carry the bundled night's names (then it gets the given masters)."""
    return (night.bias_files, night.dark_files, night.flat_files, night.science_file) == (
        BIAS_FILES, DARK_FILES, FLAT_FILES, SCIENCE_FILE)


def night_names(night=None):
    """Return the names of the files a night's folder holds: frames, its description, given masters.

    The given masters come with the nights that carry the bundled night's names.
    """
    night = _as_description(night)
    masters = list(lab.GIVEN_MASTER_FILES.values()) if _has_lab_names(night) else []
    return [*night.names(), night_file.NIGHT_FILE, *masters]


def description_file(night, first_bias):
    """Return the night's description for its ``night.json`` (:mod:`convenience_functions.night`).

    Parameters
    ----------
    night : NightDescription
    first_bias : numpy.ndarray or None
        The night's first bias frame, ADU, for the histogram range when the
        description does not set one (else unused).

    Returns
    -------
    dict
    """
    histogram = night.bias_histogram_range_adu or night_file.histogram_range(first_bias)
    return {
        "label": night.label,
        "shape": list(night.shape),
        "band": night.band,
        "camera": {"name": INSTRUMENT, "gain_e_per_adu": night.camera.gain_e_per_adu, "gain_from": "the simulator",
                   "ccd_temp_c": night.camera.ccd_temp_c},
        "bias_files": list(night.bias_files),
        "dark_files": list(night.dark_files),
        "flat_files": list(night.flat_files),
        "science_file": night.science_file,
        "dark_exptime_s": night.dark_exptime_s,
        "science_exptime_s": night.science_exptime_s,
        "flat_exptimes_s": list(night.flat_exptimes_s),
        "bias_histogram_range_adu": [int(v) if float(v).is_integer() else v for v in histogram],
        "ptc_pairs": [list(pair) for pair in night.ptc_pairs],
        "ptc_exptimes_s": list(night.ptc_exptimes_s),
        "dark_series_files": list(night.dark_series_files),
        "dark_series_exptimes_s": list(night.dark_series_exptimes_s),
        "source": {"simulator": GENERATOR_VERSION},
    }


def simulate_night(out_dir, shape=None, seed=None, *, night=None, overwrite=False, truth_file=None):
    """Write a night of raw frames (and its given masters) into ``out_dir``, and its truth file.

    Frames are made and written one at a time, so even 4096 x 4096 frames
    fit in memory.  A night with the lab's file names then gets its three
    given master frames, made from its frames by
    :func:`sample_data.given_masters.write_given_masters`.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder to write into; created if missing.
    shape : tuple of int, optional
        ``(ny, nx)`` of the bundled night's description, pixels.
    seed : int, optional
        Seed of the bundled night's description.
    night : NightDescription, optional
        Any night instead of the bundled one (then no ``shape`` or ``seed``).
    overwrite : bool
        Replace files of the same names.  Without it, a folder that already
        holds one of the night's files, or an existing truth file, is
        refused (:func:`main` compares bytes first and asks for ``--force``
        only when they differ).
    truth_file : str or pathlib.Path or False, optional
        Where to write the truth; default :func:`truth_path` of ``out_dir``
        (beside it, never inside it); False writes none.

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
        If ``truth_file`` is inside ``out_dir``, or the night is not valid.
    """
    from . import given_masters

    night = _as_description(night, shape, seed)
    out_dir = Path(out_dir)
    if truth_file is not False:
        truth_file = truth_path(out_dir) if truth_file is None else Path(truth_file)
        if out_dir.resolve() in truth_file.resolve().parents:
            raise ValueError(
                f"truth file {truth_file} is inside the frames folder {out_dir}: "
                "the folder goes to students, the truth must stay beside it"
            )
    if not overwrite:
        present = [out_dir / name for name in night_names(night) if (out_dir / name).exists()]
        present += [truth_file] if truth_file is not False and truth_file.exists() else []
        if present:
            raise FileExistsError(
                f"{present[0]} already exists (and {len(present) - 1} more of the night's "
                "files); refusing to overwrite"
            )
    out_dir.mkdir(parents=True, exist_ok=True)

    components = _components(night)
    twilight = _twilight(night)
    frames = {}
    saturation = night.camera.saturation_adu
    for index, spec in enumerate(night.frame_specs()):
        data, n_hits = render(night, index, components, twilight)
        blob = frame_bytes(data, frame_header(spec, night))
        (out_dir / spec["name"]).write_bytes(blob)
        frames[spec["name"]] = {
            "imagetyp": spec["imagetyp"],
            "exptime_s": spec["exptime"],
            "filter": spec["filter"],
            "date_obs": spec["date_obs"],
            "cosmic_rays": n_hits,
            "n_saturated": int(np.count_nonzero(data >= saturation)),
            "sha256": hashlib.sha256(blob).hexdigest(),
        }
    # The first bias sets 02's histogram range only when the description does not.
    first_bias = (fits.getdata(out_dir / night.bias_files[0])
                  if night.bias_histogram_range_adu is None and night.bias_files else None)
    night_file.write(out_dir, description_file(night, first_bias))
    truth = _truth(night, components, twilight, frames)
    if _has_lab_names(night):
        masters = given_masters.write_given_masters(out_dir)
        truth["given_masters"] = {
            Path(path).name: hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in masters.values()
        }
    if truth_file is not False:
        truth_file.parent.mkdir(parents=True, exist_ok=True)
        truth_file.write_text(_truth_text(truth), encoding="utf-8")
    return truth


# =============================================================================
# Command line
# =============================================================================

def _same_folder(a, b):
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def _positive(value, name, unit):
    """Return ``value`` as a positive float, or raise ValueError naming the option."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number ({unit}), not {value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a positive number ({unit}), not {value!r}")
    return number


def main(*, out=None, size=None, seed=None, gain=None, read_noise=None, full_well=None, force=False):
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
    gain : float, optional
        Gain of the camera, e-/ADU; default the lab's (``Camera``).
    read_noise : float, optional
        Read noise of the camera, e- rms; default ``READ_NOISE_E``.
    full_well : float, optional
        Full well of the camera's pixels, e-; default ``FULL_WELL_E``.  The
        photon-transfer lamp scales with it (``LAMP_FILL_TIME_S``), so the
        series still runs from the read-noise floor to past the full well.
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
    given.  The bundled folder only ever receives the default night.
    Regenerating the bundled night (frames, given masters and truth) is
    ``ccdlab data``, or ``ccdlab data --force`` after a deliberate change.
    Every parameter of the night goes into its truth file.
    """
    try:
        shape = DEFAULT_SHAPE if size is None else parse_size(size)
        seed = DEFAULT_SEED if seed is None else _check_seed(seed)
        changes = {}
        if gain is not None:
            changes["gain_e_per_adu"] = _positive(gain, "--gain", "e-/ADU")
        if read_noise is not None:
            changes["read_noise_e"] = _positive(read_noise, "--read-noise", "e-")
        if full_well is not None:
            changes["full_well_e"] = _positive(full_well, "--full-well", "e-")
        camera = dataclasses.replace(Camera(), **changes)
        night = bundled_description(shape, seed, camera)
    except ValueError as error:
        print(f"ccdlab data: {error}", file=sys.stderr)
        return 2
    out_dir = BUNDLED_DIR if out is None else Path(out).expanduser()
    if _same_folder(out_dir, BUNDLED_DIR) and night != bundled_description():
        print(
            f"ccdlab data: refusing to write seed {seed}, size {shape[0]}x{shape[1]} "
            f"(gain {camera.gain_e_per_adu:g} e-/ADU, read noise {camera.read_noise_e:g} e-) into the "
            f"bundled folder {BUNDLED_DIR}, which holds only the default set "
            f"(seed {DEFAULT_SEED}, size {DEFAULT_SHAPE[0]}x{DEFAULT_SHAPE[1]}, the lab's camera); "
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
        simulate_night(staging / "night", night=night, truth_file=staging / "truth")
        pairs = [(staging / "night" / name, out_dir / name) for name in night_names(night)]
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
                f"ccdlab data: {out_dir} already holds these {len(night.names())} frames of "
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
        f"ccdlab data: wrote {len(night.names())} frames of {shape[0]}x{shape[1]} pixels "
        f"(seed {seed}, gain {camera.gain_e_per_adu:g} e-/ADU, read noise {camera.read_noise_e:g} e-) and "
        f"{len(lab.GIVEN_MASTER_FILES)} given masters to {out_dir}, the truth to {truth_file}{note}"
    )
    return 0
