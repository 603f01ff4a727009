"""Facts about the lab: file names, exposure times, gain and plot ranges.

Every notebook and helper of the lab reads these values from here, so each
fact is written exactly once.  The facts of the night (which frames, their
exposure times, the camera's gain, ...) are read from the description of
the night in the data folder (``night.json``, :mod:`.night`): the bundled
simulated night, or the folder the ``CCDLAB_DATA`` environment variable
names, such as a night imported from an observatory's own frames.  So
``lab.DARK_EXPTIME_S`` is the exposure time of
the darks of whichever night the lab is reducing.
"""

from . import night as _night

#: The kind of camera the lab's nights come from: its sensor is cooled by a
#: Peltier element to the temperature the headers' CCD-TEMP gives.
CAMERA_CLASS = "thermoelectrically cooled CCD"

#: Silicon's dark current about halves for every DARK_CURRENT_HALVING_C of
#: cooling; an ordinary pixel of such a camera has about
#: DARK_CURRENT_AT_0C_E_PER_S at 0 C (e-/s), within a factor
#: TYPICAL_DARK_CURRENT_SPREAD either way (lab.TYPICAL_DARK_CURRENT_E_PER_S
#: is that range at the night's CCD_TEMP_C: 0.01-0.1 e-/s at -20 C).
DARK_CURRENT_AT_0C_E_PER_S = 0.5
DARK_CURRENT_HALVING_C = 6.0
TYPICAL_DARK_CURRENT_SPREAD = (0.2, 2.0)


def typical_dark_current(temp_c):
    """Return the dark current of an ordinary pixel of a cooled CCD at ``temp_c`` C, e-/s/pixel.

    ``DARK_CURRENT_AT_0C_E_PER_S`` halved for every ``DARK_CURRENT_HALVING_C`` of cooling.
    """
    return DARK_CURRENT_AT_0C_E_PER_S * 2.0 ** (temp_c / DARK_CURRENT_HALVING_C)

#: Raw frames are unsigned 16-bit integers: this is the largest value the
#: camera's converter can write (where the converter saturates), ADU.  A
#: pixel stops measuring light earlier, when its well is full: the SATURATE
#: keyword of a raw frame's header gives that level (the smaller of this and
#: the full well seen through the gain above the bias), and for this camera
#: it is the full well, well below this number.
SATURATION_ADU = 65535

#: The facts of the night, read from its ``night.json`` when first used
#: (:func:`__getattr__`), with what each holds:
NIGHT_FACTS = {
    "GAIN_E_PER_ADU": "detector gain, e-/ADU (the camera's or the headers' EGAIN / GAIN)",
    "DARK_EXPTIME_S": "exposure time of every dark frame, s",
    "SCIENCE_EXPTIME_S": "exposure time of the science frame, s",
    "FLAT_EXPTIMES_S": "exposure times of the flats, s, one per flat in the order of FLAT_FILES",
    "BIAS_HISTOGRAM_RANGE_ADU": "counts range (low, high) the bias histogram is zoomed to, ADU",
    "BIAS_FILES": "names of the bias frames",
    "DARK_FILES": "names of the dark frames, all of DARK_EXPTIME_S",
    "FLAT_FILES": "names of the flats",
    "SCIENCE_FILE": "name of the science frame",
    "FIRST_BIAS_FILE": "the bias frame the first notebooks look at (the first of BIAS_FILES)",
    "FIRST_DARK_FILE": "the first of DARK_FILES",
    "FIRST_FLAT_FILE": "the first of FLAT_FILES",
    "CALIBRATED_SCIENCE_FILE": "file name of the calibrated science frame: the science file's stem + '_proc.fits'",
    "BAND": "filter of the flats and the science frame (None when the headers name none)",
    "NIGHT_LABEL": "words for the night, e.g. 'the bundled night'",
    "SHAPE": "(ny, nx) of every frame, pixels",
    "CCD_TEMP_C": "sensor temperature, C, or None when the headers give none",
    "TYPICAL_DARK_CURRENT_E_PER_S": "(low, high) dark current of an ordinary pixel of a cooled CCD at CCD_TEMP_C, "
                                    "e-/s (typical_dark_current times TYPICAL_DARK_CURRENT_SPREAD, to one digit), or None",
    # The photon-transfer series (notebook 06): pairs of flats lit by a lamp
    # of constant brightness, faint to bright, two frames per exposure time so
    # that their difference holds only noise; empty when the night has none.
    "PTC_FLAT_PAIRS": "pairs (a, b) of file names of the photon-transfer flats, faint to bright",
    "PTC_EXPTIMES_S": "exposure time of each pair of PTC_FLAT_PAIRS, s",
    # The dark series (notebook 06): darks of several exposure times, the
    # same number per time, for the dark current as the slope of the dark
    # signal against time and for the pixels whose dark signal is not linear.
    "DARK_SERIES_EXPTIMES_S": "exposure times of the dark series, s, increasing",
    "DARK_SERIES_FILES": "names of the dark series, ordered by exposure time (each file's EXPTIME gives its time)",
}


def night_facts(folder=None):
    """Return the facts of the night in ``folder`` (default: the data folder) as a dict.

    Parameters
    ----------
    folder : str or pathlib.Path, optional
        A folder of frames with its ``night.json``; default
        :func:`convenience_functions.paths.data_dir`.

    Returns
    -------
    dict
        One entry per name of :data:`NIGHT_FACTS`.

    Raises
    ------
    convenience_functions.night.NightFileError
        If the folder's ``night.json`` is missing or not valid.
    """
    if folder is None:
        from .paths import data_dir

        folder = data_dir()
    night = _night.cached(folder)
    science = night["science_file"]
    stem = science.rsplit(".", 1)[0] if "." in science else science
    temp_c = night["camera"].get("ccd_temp_c")
    facts = {
        "GAIN_E_PER_ADU": float(night["camera"]["gain_e_per_adu"]),
        "DARK_EXPTIME_S": float(night["dark_exptime_s"]),
        "SCIENCE_EXPTIME_S": float(night["science_exptime_s"]),
        "FLAT_EXPTIMES_S": tuple(float(t) for t in night["flat_exptimes_s"]),
        "BIAS_HISTOGRAM_RANGE_ADU": tuple(night["bias_histogram_range_adu"]),
        "BIAS_FILES": tuple(night["bias_files"]),
        "DARK_FILES": tuple(night["dark_files"]),
        "FLAT_FILES": tuple(night["flat_files"]),
        "SCIENCE_FILE": science,
        "FIRST_BIAS_FILE": night["bias_files"][0],
        "FIRST_DARK_FILE": night["dark_files"][0],
        "FIRST_FLAT_FILE": night["flat_files"][0],
        "CALIBRATED_SCIENCE_FILE": f"{stem}_proc.fits",
        "BAND": night["band"],
        "NIGHT_LABEL": night["label"],
        "SHAPE": tuple(night["shape"]),
        "CCD_TEMP_C": temp_c,
        "TYPICAL_DARK_CURRENT_E_PER_S": None if temp_c is None else tuple(
            float(f"{typical_dark_current(temp_c) * factor:.1g}") for factor in TYPICAL_DARK_CURRENT_SPREAD),
        "PTC_FLAT_PAIRS": tuple(tuple(pair) for pair in night["ptc_pairs"]),
        "PTC_EXPTIMES_S": tuple(float(t) for t in night["ptc_exptimes_s"]),
        "DARK_SERIES_EXPTIMES_S": tuple(float(t) for t in night["dark_series_exptimes_s"]),
        "DARK_SERIES_FILES": tuple(night["dark_series_files"]),
    }
    assert facts.keys() == NIGHT_FACTS.keys()
    return facts


def __getattr__(name):
    # PEP 562: the night's facts are read when first asked for, from the data
    # folder of that moment, so that CCDLAB_DATA chooses the night.
    if name in NIGHT_FACTS:
        return night_facts()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *NIGHT_FACTS])


#: Master frames that come with the raw frames, in the same folder, so that
#: the stacking notebook's tests and the last notebook do not depend on your
#: own master frames: bias (ADU), dark (ADU collected in the darks' EXPTIME)
#: and flat (dimensionless, median 1).
GIVEN_MASTER_FILES = {
    "bias": "given_master_bias.fits",
    "dark": "given_master_dark.fits",
    "flat": "given_master_flat.fits",
}

#: Products the students write into their scratch folder.
REDUCED_DIRNAME = "Reduced_data"
MASTER_BIAS_FILE = "combined_bias.fits"
MASTER_DARK_FILE = "combined_dark.fits"
MASTER_FLAT_FILE = "combined_flat.fits"

#: Header keyword that process_data sets on a calibrated frame.
CALIBRATED_KEYWORD = "CALIBRAT"
