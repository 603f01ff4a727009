"""The night a folder of frames holds, as its ``night.json`` describes it.

Every folder of frames the lab reduces carries a small description of its
night beside the frames (:data:`NIGHT_FILE`).  The simulator writes it for
the nights it makes (the bundled one included), and the course's import
does for a night of an observatory's raw frames.  :mod:`lab` reads
its facts from here, so the notebooks run on any such folder.

Fields of ``night.json`` (JSON, lists for tuples):

``format``, ``version``
    ``"ccdlab night"`` and :data:`FORMAT_VERSION`.
``label``
    Words for messages: ``"the bundled night"``, ``"the night imported
    from raw_2024-03-01"``.
``shape``
    ``[ny, nx]`` of every frame, pixels.
``band``
    Filter of the flats and the science frame (``null`` if unknown).
``camera``
    ``{"name": ..., "gain_e_per_adu": ..., "gain_from": ...,
    "ccd_temp_c": ... or null}``: the gain in e-/ADU, where it came from
    (``"the simulator"``, ``"--gain"``, ``"EGAIN"``, ...), the sensor
    temperature in C when the headers give one.
``bias_files``, ``dark_files``, ``flat_files``, ``science_file``
    File names in the folder.
``dark_exptime_s``, ``science_exptime_s``, ``flat_exptimes_s``
    Exposure times, s (one per flat, in the order of ``flat_files``).
``bias_histogram_range_adu``
    ``[low, high]`` counts the bias histogram is zoomed to, ADU.
``ptc_pairs``, ``ptc_exptimes_s``
    Photon-transfer flats: pairs of file names of equal exposure time,
    faint to bright, and each pair's time, s; empty when the night has none.
``dark_series_files``, ``dark_series_exptimes_s``
    Darks of several exposure times, the same number per time, ordered by
    time, and the times, s; empty when the night has none.
``source``
    Where the frames came from: ``{"simulator": version}`` or
    ``{"folder": ..., "shape": [...], "window": [row0, col0]}`` for an
    imported night.
"""

import functools
import json
import math
from pathlib import Path

#: Name of a night's description in its folder.
NIGHT_FILE = "night.json"
#: Value of the description's ``format`` field.
FORMAT_NAME = "ccdlab night"
#: Bumped when a field changes meaning.
FORMAT_VERSION = 2

#: Fields every description has, with the JSON types they hold.
REQUIRED_FIELDS = {
    "label": str, "shape": list, "camera": dict,
    "bias_files": list, "dark_files": list, "flat_files": list, "science_file": str,
    "dark_exptime_s": (int, float), "science_exptime_s": (int, float), "flat_exptimes_s": list,
    "bias_histogram_range_adu": list,
}
#: Fields that may be missing (the night has no such series), with their empty value.
OPTIONAL_FIELDS = {"band": None, "ptc_pairs": [], "ptc_exptimes_s": [], "dark_series_files": [],
                   "dark_series_exptimes_s": []}

#: The bias histogram of a night (notebook 02) spans this many robust standard
#: deviations of its first bias frame on each side of its median.
HISTOGRAM_HALF_WIDTH_SIGMAS = 10.0


class NightFileError(ValueError):
    """A folder's night description is missing or not valid; the message names the file."""


def night_file(folder):
    """Return the path of the description of the night in ``folder``."""
    return Path(folder) / NIGHT_FILE


def read(folder):
    """Read and check the description of the night in ``folder``.

    Parameters
    ----------
    folder : str or pathlib.Path
        A folder of frames.

    Returns
    -------
    dict
        The description, with every optional field present.

    Raises
    ------
    NightFileError
        If the file is missing, is not JSON, or lacks a field (the message
        names the file and the field).
    """
    path = night_file(folder)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NightFileError(
            f"{path} is missing: every folder of frames for the lab holds its night's description beside the "
            "frames; point CCDLAB_DATA at such a folder, or unset it for the bundled frames"
        ) from None
    except OSError as error:
        raise NightFileError(f"{path} cannot be read: {error}") from None
    try:
        night = json.loads(text)
    except ValueError as error:
        raise NightFileError(f"{path} is not valid JSON ({error})") from None
    if not isinstance(night, dict) or night.get("format") != FORMAT_NAME:
        raise NightFileError(f"{path} is not a ccdlab night description (no \"format\": \"{FORMAT_NAME}\")")
    if night.get("version") != FORMAT_VERSION:
        raise NightFileError(
            f"{path} has version {night.get('version')!r}, this lab reads version {FORMAT_VERSION}: "
            "the folder was made for another version of the lab")
    for field, kind in REQUIRED_FIELDS.items():
        if not isinstance(night.get(field), kind) or isinstance(night.get(field), bool):
            raise NightFileError(f"{path}: field {field!r} is missing or not a {_kind_name(kind)}")
    if not isinstance(night["camera"].get("gain_e_per_adu"), (int, float)):
        raise NightFileError(f"{path}: field 'camera' has no number 'gain_e_per_adu' (e-/ADU)")
    if len(night["flat_exptimes_s"]) != len(night["flat_files"]):
        raise NightFileError(f"{path}: 'flat_exptimes_s' needs one exposure time per file of 'flat_files'")
    for field, empty in OPTIONAL_FIELDS.items():
        night.setdefault(field, empty)
    return night


def _kind_name(kind):
    return " or ".join(k.__name__ for k in kind) if isinstance(kind, tuple) else kind.__name__


def write(folder, night):
    """Write ``night`` (a description without ``format``/``version``) as the folder's :data:`NIGHT_FILE`.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    data = {"format": FORMAT_NAME, "version": FORMAT_VERSION, **night}
    path = night_file(folder)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def histogram_range(bias_adu):
    """Return the counts range a bias histogram is zoomed to, ADU.

    The range spans :data:`HISTOGRAM_HALF_WIDTH_SIGMAS` robust standard
    deviations (1.4826 times the median absolute deviation) of the frame on
    each side of its median, rounded outward to a round step (a power of
    ten below the half-width) and never below 0 ADU: the peak of the read
    noise fills the middle and the tails of hot pixels and cosmic rays run
    off the edges.

    Parameters
    ----------
    bias_adu : array-like
        A raw bias frame, ADU.

    Returns
    -------
    tuple of int
        ``(low, high)``, ADU.
    """
    import numpy as np

    data = np.asarray(bias_adu, dtype=float).ravel()
    median = float(np.median(data))
    sigma = max(1.4826 * float(np.median(np.abs(data - median))), 1.0)  # quantised counts: at least 1 ADU
    half = HISTOGRAM_HALF_WIDTH_SIGMAS * sigma
    step = 10.0 ** math.floor(math.log10(half))
    return int(max(0.0, math.floor((median - half) / step) * step)), int(math.ceil((median + half) / step) * step)


@functools.lru_cache(maxsize=8)
def _read_cached(folder, _stamp):
    return read(folder)


def cached(folder):
    """Return :func:`read` of ``folder``, read again only when its file changes."""
    path = night_file(folder)
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = None
    return _read_cached(str(folder), stamp)
