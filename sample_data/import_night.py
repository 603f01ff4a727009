"""Import a night of real CCD frames for the lab (``ccdlab data --from SRC --out DIR``).

The frames in ``SRC`` are found by their headers, read with ccdproc's
:class:`~ccdproc.ImageFileCollection`:

* ``IMAGETYP`` as MaxIm DL, CCDSoft/TheSkyX, SBIG, NINA, ACP and IRAF write
  it, in any case and spacing (:data:`IMAGETYP_KINDS`): 'Bias Frame',
  'BIAS', 'zero', 'Dark Frame', 'DARK', 'Flat Field', 'FLAT', 'Light
  Frame', 'LIGHT', 'object', ...; a master frame ('Master Bias') is left
  out; a light frame whose file name or ``OBJECT`` says flat is a flat;
* the exposure time from ``EXPTIME``, else ``EXPOSURE``
  (:data:`EXPTIME_KEYWORDS`), in seconds; the filter from ``FILTER``
  (:data:`FILTER_KEYWORDS`); the binning from ``XBINNING``/``YBINNING``, else
  ``CCDSUM``, else 1 x 1.

``--bias``, ``--darks`` and ``--flats`` (globs on the file names in ``SRC``)
and ``--science`` (a file name) override the headers for the files they
name.  One consistent set is then chosen (:func:`choose_set`): every bias;
the darks at the exposure time nearest the science frame's; the flats in
the science frame's filter; one science frame (the first other light frame
by file name, unless ``--science``).  Every frame must have the science
frame's shape and binning.  A missing kind is an error naming it, and then
nothing is written.

Each chosen frame is cropped to the same centred ``N x N`` window
(:func:`crop_window`; ``--size 0`` keeps the whole frame) with its raw
integers, ``BZERO`` and every header card kept (``NAXISn`` give the new
size, ``CRPIXn`` move with the window, ``CHECKSUM``/``DATASUM`` are
recomputed, ``DATASEC``/``TRIMSEC``/``BIASSEC`` give the part of their
region inside the window, or go when none is, each with a ``HISTORY`` card)
and a ``HISTORY`` card saying where the window lies; the file keeps its name.

A frame whose header gives its exposure time only as ``EXPOSURE`` gets an
``EXPTIME`` card of the same value, and a bias with neither gets
``EXPTIME = 0`` (a bias has no exposure), each with a ``HISTORY`` card: the
lab's functions read ``EXPTIME``, as ccdproc does.

Beside the frames go the night's description, ``night.json``
(:mod:`convenience_functions.night`, whose docstring lists its fields; the
simulator writes the same for its nights), and the three given master frames
made from the chosen frames by the reference module
(:mod:`sample_data.given_masters`).  In the description:

``label``
    ``"the night imported from raw_2024-03-01"``.
``shape``, ``binning``
    ``[ny, nx]`` of every imported frame after the crop, pixels, and the
    ``[y, x]`` binning as the camera wrote it.
``camera``
    ``{"name": INSTRUME or null, "gain_e_per_adu": ..., "gain_from": ...,
    "ccd_temp_c": CCD-TEMP or null}``: the gain in e-/ADU from ``--gain``,
    else ``EGAIN``, else ``GAIN`` (:data:`GAIN_KEYWORDS`), and where it came
    from; the science frame's sensor temperature, C (:data:`TEMP_KEYWORDS`).
``bias_histogram_range_adu``
    From the first imported bias
    (:func:`convenience_functions.night.histogram_range`).
``dark_series_files``, ``dark_series_exptimes_s``
    Every chosen-shape dark (the darks of other exposure times too) at each
    time that has at least two, when there are :data:`MIN_DARK_SERIES_TIMES`
    such times or more (:func:`dark_series`); else empty.
``ptc_pairs``, ``ptc_exptimes_s``
    Pairs of flats of one exposure time at :data:`MIN_PTC_LEVELS` or more
    times (:func:`ptc_series`); the other flats are then the calibration
    flats.  Else empty.
``simulated_camera``
    When the night lacks a photon-transfer series or a dark series (notebook
    06 measures the camera on them), a simulated camera like this night's
    is written into the subfolder ``simulated_camera/``
    (:func:`simulated_camera`): a whole simulated night with both series,
    of the night's gain, read noise and dark current, measured on its
    frames; this field says ``{"folder": "simulated_camera",
    "series": [...]}`` (the series it stands in for) and what it copied.
``source``
    ``{"folder": SRC, "shape": [ny, nx] before the crop,
    "window": [row0, col0]}``: the crop's first row and column (0-based).

Run ``ccdlab data --help`` for the command line; :func:`main` does the work.
"""

import dataclasses
import fnmatch
import logging
import math
import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits

from convenience_functions import lab, night as night_file

from . import simulate

#: Name of the night's description in the imported folder.
NIGHT_FILE = night_file.NIGHT_FILE

#: A dark series needs darks at this many exposure times or more, two or more at each.
MIN_DARK_SERIES_TIMES = 3
#: A photon-transfer series needs pairs of flats at this many exposure times or more.
MIN_PTC_LEVELS = 4
#: Smallest dark current the simulated camera is given, e-/s/pixel.
MIN_DARK_CURRENT_E_PER_S = 0.001
#: Largest side of the simulated camera's frames, pixels (they only measure the camera).
SIMULATED_CAMERA_MAX_SIDE = 200
#: Header keywords of the sensor temperature (C), the first present wins.
TEMP_KEYWORDS = ("CCD-TEMP", "CCDTEMP", "CCD_TEMP", "DET-TEMP")

#: Start of the HISTORY card of the crop, followed by the window's FITS section
#: ``[x1:x2,y1:y2]`` (1-based, inclusive) and the original ``NYxNX``.
#: (No command is named: the cards reach students, who do not have the course's tools.)
HISTORY_PREFIX = "Imported for the CCD lab: kept"
#: Start of the HISTORY cards of the import's other changes.
HISTORY_IMPORT = "Imported for the CCD lab:"

#: Side of the centred square window kept of each frame, pixels (the bundled night's size).
DEFAULT_SIZE = 200

#: What each spelling of IMAGETYP means, lower case without spaces, dashes or underscores.
#: MaxIm DL, ACP, CCDSoft/TheSkyX and SBIG write 'Bias Frame', 'Dark Frame', 'Flat Field'
#: (or 'Flat Frame') and 'Light Frame'; NINA 'BIAS', 'DARK', 'DARKFLAT', 'FLAT', 'LIGHT';
#: IRAF 'zero', 'dark', 'flat', 'object'.
IMAGETYP_KINDS = {
    "bias": "bias", "biasframe": "bias", "zero": "bias", "zeroframe": "bias",
    "dark": "dark", "darkframe": "dark", "darkflat": "dark", "flatdark": "dark",
    "flat": "flat", "flatfield": "flat", "flatframe": "flat", "skyflat": "flat", "domeflat": "flat",
    "twilightflat": "flat", "lampflat": "flat",
    "light": "light", "lightframe": "light", "object": "light", "science": "light",
}

#: Header keywords of the exposure time (s), the first present wins.
EXPTIME_KEYWORDS = ("EXPTIME", "EXPOSURE")
#: Header keywords of the gain (e-/ADU), the first present wins.
GAIN_KEYWORDS = ("EGAIN", "GAIN")
#: Header keywords of the filter, the first present wins.
FILTER_KEYWORDS = ("FILTER",)
#: Every keyword the collection reads from each header.
_KEYWORDS = ("IMAGETYP", "OBJECT", "NAXIS", "NAXIS1", "NAXIS2", "XBINNING", "YBINNING", "CCDSUM", "INSTRUME",
             *EXPTIME_KEYWORDS, *GAIN_KEYWORDS, *FILTER_KEYWORDS)

#: Two exposure times closer than this are the same, s.
_SAME_EXPTIME_S = 1e-3

_FLAT_WORD = re.compile("flat", re.IGNORECASE)

#: The kinds of a night, in the order they are named.
KINDS = ("bias", "dark", "flat", "science")


class NightImportError(ValueError):
    """A night cannot be imported; the message says why."""


@dataclasses.dataclass
class Frame:
    """One file of the source folder and what became of it.

    Attributes
    ----------
    name : str
        File name in the source folder.
    kind : str or None
        ``bias``, ``dark``, ``flat``, ``light`` or ``science`` as its header
        or an option says; None if neither does.
    why : str
        What made it that kind, or why it was left out.
    taken : bool
        True if it is one of the imported frames.
    exptime_s, band, shape, binning, gain, gain_keyword, instrument
        From its header (None where missing): exposure time in s, filter,
        ``(ny, nx)`` in pixels, ``(y, x)`` binning, gain in e-/ADU and the
        keyword it came from, camera.
    """

    name: str
    kind: str = None
    why: str = ""
    taken: bool = False
    exptime_s: float = None
    band: str = None
    shape: tuple = None
    binning: tuple = None
    gain: float = None
    gain_keyword: str = None
    instrument: str = None

    def leave_out(self, reason):
        """Mark the frame as left out for ``reason``."""
        self.taken = False
        self.why = reason


# =============================================================================
# Reading the headers
# =============================================================================

def kind_of_imagetyp(imagetyp):
    """Return what an IMAGETYP value means: ``bias``, ``dark``, ``flat``, ``light`` or None.

    Parameters
    ----------
    imagetyp : str or None
        The header value, any case and spacing ('Bias Frame', 'ZERO', 'dark-flat').

    Returns
    -------
    str or None
        None for an unknown, empty or master-frame type.

    Examples
    --------
    >>> kind_of_imagetyp("Flat Field"), kind_of_imagetyp("zero"), kind_of_imagetyp("Master Bias")
    ('flat', 'bias', None)
    """
    if imagetyp is None:
        return None
    return IMAGETYP_KINDS.get(re.sub(r"[\s_\-]+", "", str(imagetyp).lower()))


def _first(row, keywords):
    """Return ``(keyword, value)`` of the first of ``keywords`` that ``row`` holds, else ``(None, None)``."""
    for keyword in keywords:
        value = row.get(keyword)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return keyword, value
    return None, None


def _number(value):
    """Return ``value`` as a finite float, or None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _binning(row):
    """Return the ``(y, x)`` binning of a header row: XBINNING/YBINNING, else CCDSUM ('x y'), else 1 x 1."""
    if row.get("XBINNING") is not None or row.get("YBINNING") is not None:
        return int(row.get("YBINNING") or 1), int(row.get("XBINNING") or 1)
    if row.get("CCDSUM"):
        x, y = (int(part) for part in str(row["CCDSUM"]).split()[:2])
        return y, x
    return 1, 1


def _unreadable_reason(path):
    """Return why ``path`` (a file with a FITS name) cannot be read as FITS."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits.getheader(path)
    except Exception as error:  # noqa: BLE001 - any failure makes the file unreadable
        return f"unreadable ({str(error).split('.')[0].strip()})"
    return "unreadable"


def read_frames(src):
    """Return one :class:`Frame` per file in ``src``, its header read by ccdproc's ImageFileCollection.

    Parameters
    ----------
    src : str or pathlib.Path
        The source folder (not searched below its top level).

    Returns
    -------
    list of Frame
        Sorted by file name.  A file without a FITS name is left out as not
        FITS, one whose header cannot be read as unreadable, one without a
        2-D image in its first HDU as such; the others carry their header
        values and the kind their IMAGETYP (or file name and OBJECT) gives.
    """
    from ccdproc import ImageFileCollection

    src = Path(src)
    names = sorted(path.name for path in src.iterdir() if path.is_file())
    logger = logging.getLogger("ccdproc.image_collection")
    level = logger.level
    logger.setLevel(logging.ERROR)  # unreadable files are reported in the table instead
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            collection = ImageFileCollection(str(src), keywords=[k.lower() for k in _KEYWORDS])
            summary = collection.summary
    finally:
        logger.setLevel(level)
    fits_names = set(collection.files or [])
    rows = {}
    if summary is not None:
        for record in summary:
            row = {}
            for keyword in _KEYWORDS:
                column = keyword.lower()
                value = record[column] if column in summary.colnames else None
                row[keyword] = None if value is np.ma.masked else (value.item() if hasattr(value, "item") else value)
            rows[str(record["file"])] = row
    return [_frame(name, rows.get(name), name in fits_names, src) for name in names]


def _frame(name, row, fits_name, src):
    """Return the :class:`Frame` of one file from its header ``row`` (None if not read)."""
    frame = Frame(name)
    if not fits_name:
        frame.leave_out("not FITS")
        return frame
    if row is None:
        frame.leave_out(_unreadable_reason(src / name))
        return frame
    if row["NAXIS"] != 2:
        frame.leave_out(f"no 2-D image in its first HDU (NAXIS = {row['NAXIS']})")
        return frame
    frame.shape = (int(row["NAXIS2"]), int(row["NAXIS1"]))
    try:
        frame.binning = _binning(row)
    except ValueError:
        frame.leave_out(f"unreadable binning (CCDSUM = {row['CCDSUM']!r})")
        return frame
    _, exptime = _first(row, EXPTIME_KEYWORDS)
    frame.exptime_s = _number(exptime)
    _, band = _first(row, FILTER_KEYWORDS)
    frame.band = None if band is None else str(band).strip()
    frame.gain_keyword, gain = _first(row, GAIN_KEYWORDS)
    frame.gain = _number(gain)
    frame.instrument = None if row["INSTRUME"] is None else str(row["INSTRUME"]).strip()
    imagetyp = row["IMAGETYP"]
    frame.kind = kind_of_imagetyp(imagetyp)
    if frame.kind is None and str(imagetyp).strip().lower().startswith("master"):
        frame.leave_out(f"IMAGETYP {str(imagetyp).strip()!r}: a master frame, not a raw one")
        return frame
    if frame.kind is None:
        frame.leave_out("no IMAGETYP" if imagetyp is None else f"IMAGETYP {str(imagetyp).strip()!r} is not "
                        "a bias, dark, flat or light frame")
        return frame
    frame.why = f"IMAGETYP {str(imagetyp).strip()!r}"
    if frame.kind == "light":
        for where, text in (("file name", name), ("OBJECT", row["OBJECT"])):
            if text is not None and _FLAT_WORD.search(str(text)):
                frame.kind = "flat"
                frame.why += f", {where} says flat"
                break
    return frame


# =============================================================================
# Choosing the set
# =============================================================================

def apply_options(frames, science=None, bias=None, darks=None, flats=None):
    """Let ``--science`` and the ``--bias``, ``--darks``, ``--flats`` globs override the headers.

    Parameters
    ----------
    frames : list of Frame
        From :func:`read_frames`; changed in place.
    science : str, optional
        File name (or path) of the science frame.
    bias, darks, flats : str, optional
        Glob on the file names of the frames of that kind: the files it
        matches are of that kind whatever their headers say, and no other
        file is.

    Raises
    ------
    NightImportError
        If an option names no readable frame, or two options name one file.
    """
    by_name = {frame.name: frame for frame in frames}
    claimed = {}
    for option, pattern, kind in (("--bias", bias, "bias"), ("--darks", darks, "dark"), ("--flats", flats, "flat")):
        if pattern is None:
            continue
        matched = [frame for frame in frames if fnmatch.fnmatchcase(frame.name, pattern)]
        if not matched:
            raise NightImportError(f"{option} {pattern!r} matches no file in the source folder")
        for frame in matched:
            if frame.name in claimed:
                raise NightImportError(f"{frame.name} is matched by both {claimed[frame.name]} and {option}")
            claimed[frame.name] = option
            if frame.shape is not None:
                frame.kind, frame.why = kind, f"{option} {pattern!r}"
        for frame in frames:
            if frame.kind == kind and frame.name not in claimed:
                frame.kind = None
                frame.leave_out(f"{frame.why}, but not matched by {option} {pattern!r}")
    if science is not None:
        name = Path(science).name
        frame = by_name.get(name)
        if frame is None:
            raise NightImportError(f"--science {science}: no file {name} in the source folder")
        if frame.shape is None:
            raise NightImportError(f"--science {science}: {name} is {frame.why}")
        if name in claimed:
            raise NightImportError(f"{name} is matched by both {claimed[name]} and --science")
        frame.kind, frame.why = "science", "--science"


def choose_set(frames):
    """Choose one consistent night among ``frames`` and mark each frame taken or left out.

    The science frame (the ``--science`` one, else the first light frame by
    file name) sets the shape, binning, filter and exposure time: every
    bias of its shape and binning, the darks of its shape and binning at
    the exposure time nearest its own, and the flats of its shape, binning
    and filter are taken.

    Parameters
    ----------
    frames : list of Frame
        After :func:`read_frames` and :func:`apply_options`; changed in place.

    Returns
    -------
    dict
        ``bias``, ``dark``, ``flat``: lists of the taken frames; ``science``: the taken frame.

    Raises
    ------
    NightImportError
        Naming every kind of which no frame is left (biases, darks, flats,
        science frame).
    """
    lights = [frame for frame in frames if frame.kind in ("science", "light")]
    science = next((frame for frame in lights if frame.kind == "science"), None)
    science = science or next((frame for frame in lights if frame.exptime_s is not None), None)
    for frame in lights:
        if frame is not science:
            frame.leave_out(f"{frame.why}: another light frame" if frame.exptime_s is not None or science
                            else f"{frame.why}, but no {' or '.join(EXPTIME_KEYWORDS)}")
    if science is not None:
        science.kind, science.taken = "science", True
        if science.exptime_s is None:
            raise NightImportError(f"the science frame {science.name} has no {' or '.join(EXPTIME_KEYWORDS)}")
    chosen = {kind: [] for kind in ("bias", "dark", "flat")}
    for frame in frames:
        if frame.kind not in chosen:
            continue
        if frame.kind != "bias" and frame.exptime_s is None:
            frame.leave_out(f"{frame.why}, but no {' or '.join(EXPTIME_KEYWORDS)}")
        elif science is not None and frame.binning != science.binning:
            frame.leave_out(f"another binning ({_by(frame.binning)}; the science frame's is {_by(science.binning)})")
        elif science is not None and frame.shape != science.shape:
            frame.leave_out(f"another shape ({_by(frame.shape)}; the science frame is {_by(science.shape)})")
        elif science is not None and frame.kind == "flat" and frame.band != science.band:
            frame.leave_out(f"another filter ({frame.band}; the science frame's is {science.band})")
        else:
            frame.taken = True
            chosen[frame.kind].append(frame)
    if science is not None and chosen["dark"]:
        nearest = min((abs(d.exptime_s - science.exptime_s), -d.exptime_s) for d in chosen["dark"])
        dark_time = -nearest[1]
        for dark in list(chosen["dark"]):
            if abs(dark.exptime_s - dark_time) > _SAME_EXPTIME_S:
                dark.leave_out(f"another exposure time ({dark.exptime_s:g} s; the darks of {dark_time:g} s are "
                               f"nearest the science frame's {science.exptime_s:g} s)")
                chosen["dark"].remove(dark)
    missing = [words for words, have in (("no biases", chosen["bias"]), ("no darks", chosen["dark"]),
                                         ("no flats", chosen["flat"]), ("no science frame", science)) if not have]
    if missing:
        raise NightImportError(
            f"{_and(missing)} to import: each kind needs a frame of the science frame's shape and binning "
            "(and the flats its filter); see the table for what each file was taken as, or name the files "
            "with --bias, --darks, --flats or --science")
    if len(chosen["bias"]) < 2:
        raise NightImportError(
            f"only one bias ({chosen['bias'][0].name}) to import: the lab needs two or more (the read noise is "
            "measured from the difference of two, and a master bias is their median); see the table, or name "
            "them with --bias")
    return {**chosen, "science": science}


def _by(pair):
    return f"{pair[0]}x{pair[1]}"


def _and(words):
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def night_gain(chosen, gain=None):
    """Return the night's gain in e-/ADU and where it came from.

    Parameters
    ----------
    chosen : dict
        From :func:`choose_set`.
    gain : float, optional
        The ``--gain`` option, e-/ADU; wins over the headers.

    Returns
    -------
    tuple of (float, str)
        The gain, e-/ADU, and ``'--gain'`` or the header keyword.

    Raises
    ------
    NightImportError
        If ``gain`` is not a positive number, no chosen frame has EGAIN or
        GAIN, or their values differ.
    """
    if gain is not None:
        value = _number(gain)
        if value is None or value <= 0:
            raise NightImportError(f"--gain must be a positive number of e-/ADU, not {gain!r}")
        return value, "--gain"
    frames = [chosen["science"], *chosen["bias"], *chosen["dark"], *chosen["flat"]]
    found = [(frame.gain, frame.gain_keyword, frame.name) for frame in frames if frame.gain is not None]
    if not found:
        raise NightImportError(
            f"no chosen frame has {' or '.join(GAIN_KEYWORDS)} in its header: give the camera's gain "
            "with --gain E_PER_ADU")
    values = sorted({value for value, _, _ in found})
    if values[-1] - values[0] > 1e-6 * values[-1]:
        first = next(f for f in found if f[0] == values[0])
        last = next(f for f in found if f[0] == values[-1])
        raise NightImportError(
            f"the headers disagree on the gain ({first[1]} = {first[0]:g} in {first[2]}, {last[1]} = {last[0]:g} "
            f"in {last[2]}): give the camera's gain with --gain E_PER_ADU")
    keywords = sorted({keyword for _, keyword, _ in found}, key=GAIN_KEYWORDS.index)
    return found[0][0], "/".join(keywords)


# =============================================================================
# Cropping
# =============================================================================

def crop_window(shape, size):
    """Return ``(row0, col0, ny, nx)`` of the centred ``size x size`` window of a frame.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` of the frame, pixels.
    size : int
        Side of the window, pixels; 0 keeps the whole frame.

    Returns
    -------
    tuple of int
        First row and column (0-based) and the window's shape, pixels.

    Raises
    ------
    NightImportError
        If ``size`` is negative or larger than the frame.
    """
    ny, nx = shape
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise NightImportError(f"--size must be a whole number of pixels >= 0, not {size!r}")
    if size == 0:
        return 0, 0, ny, nx
    if size > min(ny, nx):
        raise NightImportError(
            f"--size {size} is larger than the frames ({ny}x{nx} pixels): give a smaller --size, or --size 0 "
            "to keep whole frames")
    return (ny - size) // 2, (nx - size) // 2, size, size


def crop_hdu(path, window):
    """Return the primary HDU of ``path`` cut to ``window``, raw integers and every card kept.

    Parameters
    ----------
    path : str or pathlib.Path
        A raw frame.
    window : tuple of int
        ``(row0, col0, ny, nx)`` from :func:`crop_window`.

    Returns
    -------
    astropy.io.fits.PrimaryHDU
        The stored numbers (not scaled by BZERO/BSCALE) of the window, under
        the frame's header with its BSCALE and BZERO, NAXISn of the window,
        CRPIXn moved with it and a HISTORY card saying where it lies.
    """
    row0, col0, ny, nx = window
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fits.verify.VerifyWarning)
        with fits.open(path, do_not_scale_image_data=True) as hdus:
            header = hdus[0].header.copy()
            full = hdus[0].data.shape
            data = np.array(hdus[0].data[row0:row0 + ny, col0:col0 + nx])
    hdu = fits.PrimaryHDU(data=data, header=header, do_not_scale_image_data=True)
    for keyword in ("BSCALE", "BZERO"):  # astropy drops them for data it did not scale: put them back
        if keyword in header:
            hdu.header.set(keyword, header[keyword], header.comments[keyword], after=header.index(keyword) - 1)
    for keyword, start in (("CRPIX1", col0), ("CRPIX2", row0)):
        if keyword in header and start:
            hdu.header[keyword] = header[keyword] - start
    hdu.header.add_history(f"{HISTORY_PREFIX} section [{col0 + 1}:{col0 + nx},{row0 + 1}:{row0 + ny}] of a "
                           f"{full[0]}x{full[1]} frame")
    if (row0, col0, ny, nx) != (0, 0) + tuple(full):
        for keyword in SECTION_KEYWORDS:
            if keyword in header:
                _crop_section_card(hdu.header, keyword, window)
    return hdu


#: Cards giving a region of the frame's own pixels as a FITS section ``[x1:x2,y1:y2]`` (IRAF's, ccdproc's).
SECTION_KEYWORDS = ("DATASEC", "TRIMSEC", "BIASSEC")


def crop_section(section, window):
    """The FITS section ``[x1:x2,y1:y2]`` (1-based, inclusive) in the pixels of a crop, or None.

    Parameters
    ----------
    section : str
        A section of the whole frame, such as a TRIMSEC card's value.
    window : tuple of int
        ``(row0, col0, ny, nx)`` of the crop (:func:`crop_window`).

    Returns
    -------
    str or None
        The part of the section inside the window, in the window's pixels;
        None when none of it is inside, or the text is not an increasing
        section.
    """
    import re

    row0, col0, ny, nx = window
    match = re.fullmatch(r"\s*\[\s*(\d+)\s*:\s*(\d+)\s*,\s*(\d+)\s*:\s*(\d+)\s*\]\s*", str(section))
    if match is None:
        return None
    x1, x2, y1, y2 = (int(value) for value in match.groups())
    if x1 > x2 or y1 > y2:
        return None
    x1, x2 = max(x1 - col0, 1), min(x2 - col0, nx)
    y1, y2 = max(y1 - row0, 1), min(y2 - row0, ny)
    if x1 > x2 or y1 > y2:
        return None
    return f"[{x1}:{x2},{y1}:{y2}]"


def _crop_section_card(header, keyword, window):
    """Give ``header[keyword]`` (a section of the whole frame) in the crop's pixels, or remove it, with HISTORY."""
    old = header[keyword]
    new = crop_section(old, window)
    if new is None:
        del header[keyword]
        header.add_history(f"{HISTORY_IMPORT} {keyword} {old} removed: not a section of the kept window")
    elif new != old:
        header[keyword] = new
        header.add_history(f"{HISTORY_IMPORT} {keyword} was {old} of the whole frame")


# =============================================================================
# The table, the description, the import
# =============================================================================

def format_table(frames):
    """Return the table of ``frames``: each file, what it was taken as, and why (or why it was left out)."""
    rows = [(frame.name, frame.kind if frame.taken else "left out", frame.why) for frame in frames]
    width = max([len("file")] + [len(name) for name, _, _ in rows])
    lines = [f"{'file':<{width}}  {'taken as':<8}  why", f"{'-' * width}  {'-' * 8}  {'-' * 3}"]
    lines += [f"{name:<{width}}  {taken:<8}  {why}" for name, taken, why in rows]
    return "\n".join(lines)


def dark_series(frames, science):
    """Return the dark series among ``frames``: ``(file names ordered by time, times in s)``, or two empty lists.

    Every dark of the science frame's shape and binning counts, whatever its
    exposure time; each time with at least two darks gives as many files as
    the time with the fewest (the first by name), and at least
    :data:`MIN_DARK_SERIES_TIMES` such times make a series.
    """
    by_time = {}
    for frame in sorted(frames, key=lambda frame: frame.name):
        if (frame.kind == "dark" and frame.exptime_s is not None and frame.exptime_s > 0
                and frame.shape == science.shape and frame.binning == science.binning):
            by_time.setdefault(round(frame.exptime_s, 3), []).append(frame)
    times = sorted(time for time, darks in by_time.items() if len(darks) >= 2)
    if len(times) < MIN_DARK_SERIES_TIMES:
        return [], []
    per_time = min(len(by_time[time]) for time in times)
    return [frame.name for time in times for frame in by_time[time][:per_time]], [by_time[t][0].exptime_s
                                                                                    for t in times]


def _common_prefix(a, b):
    length = 0
    for x, y in zip(a, b):
        if x != y:
            break
        length += 1
    return length


def ptc_series(chosen):
    """Find a photon-transfer series among the chosen flats; take it out of the calibration flats.

    A photon-transfer series is pairs of flats of one exposure time at
    :data:`MIN_PTC_LEVELS` or more exposure times (a lamp of constant
    brightness, exposed longer and longer); at each such time the pair is
    the two frames whose file names share the longest beginning
    (``LampR-03a``/``LampR-03b`` rather than a twilight flat of the same
    time).  When flats remain outside the series they alone are the
    calibration flats (the series runs up to saturation, which would spoil a
    master flat); the frames of the series stay taken, marked as such.

    Parameters
    ----------
    chosen : dict
        From :func:`choose_set`; its ``flat`` list is changed in place.

    Returns
    -------
    tuple
        ``(pairs of file names, faint to bright; their exposure times, s)``,
        or two empty tuples.
    """
    by_time = {}
    for frame in sorted(chosen["flat"], key=lambda frame: frame.name):
        by_time.setdefault(round(frame.exptime_s, 3), []).append(frame)
    pairs = []
    for time in sorted(by_time):
        group = by_time[time]
        if len(group) >= 2:
            pairs.append(max(((a, b) for i, a in enumerate(group) for b in group[i + 1:]),
                             key=lambda pair: _common_prefix(pair[0].name, pair[1].name)))
    if len(pairs) < MIN_PTC_LEVELS:
        return (), ()
    in_series = {frame.name for pair in pairs for frame in pair}
    rest = [frame for frame in chosen["flat"] if frame.name not in in_series]
    for pair in pairs:
        for frame in pair:
            frame.why = f"the photon-transfer series ({frame.exptime_s:g} s)"
    if rest:
        chosen["flat"] = rest
    return tuple((a.name, b.name) for a, b in pairs), tuple(a.exptime_s for a, _ in pairs)


def _temperature(path):
    """The sensor temperature in ``path``'s header, C, or None."""
    header = fits.getheader(path)
    for keyword in TEMP_KEYWORDS:
        value = _number(header.get(keyword))
        if value is not None:
            return value
    return None


def describe(chosen, src, window, gain, gain_from, series=((), ()), histogram_range=None, ptc=((), ())):
    """Return the night's description (``night.json``'s fields but format and version, see the module docstring)."""
    science = chosen["science"]
    row0, col0, ny, nx = window
    return {
        "label": f"the night imported from {Path(src).name}",
        "shape": [ny, nx],
        "binning": list(science.binning),
        "band": science.band,
        "camera": {"name": science.instrument, "gain_e_per_adu": gain, "gain_from": gain_from,
                   "ccd_temp_c": _temperature(Path(src) / science.name)},
        "bias_files": [frame.name for frame in chosen["bias"]],
        "dark_files": [frame.name for frame in chosen["dark"]],
        "flat_files": [frame.name for frame in chosen["flat"]],
        "science_file": science.name,
        "dark_exptime_s": chosen["dark"][0].exptime_s,
        "science_exptime_s": science.exptime_s,
        "flat_exptimes_s": [frame.exptime_s for frame in chosen["flat"]],
        "bias_histogram_range_adu": list(histogram_range) if histogram_range else None,
        "ptc_pairs": [list(pair) for pair in ptc[0]],
        "ptc_exptimes_s": list(ptc[1]),
        "dark_series_files": list(series[0]),
        "dark_series_exptimes_s": list(series[1]),
        "source": {"folder": str(Path(src).resolve()), "shape": list(science.shape), "window": [row0, col0]},
    }


def simulated_camera(folder, night):
    """Write a simulated camera like the night in ``folder`` into its ``simulated_camera/``; return its field.

    The simulator's camera gets the night's gain and what the night's frames
    show of the camera (reference functions of :mod:`solutions`): the read
    noise from the first two biases, the dark current of a typical pixel
    (median of the master dark over its exposure time) and the sensor
    temperature; the rest are the simulator's defaults -- the bias level too
    (1500 ADU): a level far above zero, so that a gain or a photon-transfer
    curve measured without subtracting the bias is wrong by more than the
    checks allow, as on the bundled night.  Its frames are the night's size,
    at most :data:`SIMULATED_CAMERA_MAX_SIDE` pixels a side.

    Parameters
    ----------
    folder : pathlib.Path
        The imported night, with its ``night.json`` and given masters written.
    night : dict
        Its description.

    Returns
    -------
    dict
        The ``simulated_camera`` field of the description.
    """
    import solutions

    from convenience_functions import paths

    gain = night["camera"]["gain_e_per_adu"]
    biases = [folder / name for name in night["bias_files"]]
    master_dark = fits.getdata(folder / lab.GIVEN_MASTER_FILES["dark"]).astype(float)
    copied = {
        "gain_e_per_adu": gain,
        "read_noise_e": round(solutions.measure_read_noise(biases[0], biases[1], gain), 3) if len(biases) > 1
        else simulate.READ_NOISE_E,
        # (at least MIN_DARK_CURRENT_E_PER_S: the simulator's hot pixels are multiples of it)
        "dark_current_e_per_s": round(max(MIN_DARK_CURRENT_E_PER_S,
                                          float(np.median(master_dark)) * gain / night["dark_exptime_s"]), 5),
    }
    if night["camera"].get("ccd_temp_c") is not None:
        copied["ccd_temp_c"] = night["camera"]["ccd_temp_c"]
    ny, nx = night["shape"]
    series = [name for name, files in (("ptc", night["ptc_pairs"]), ("dark_series", night["dark_series_files"]))
              if not files]
    record = {"folder": paths.SIMULATED_CAMERA_DIRNAME, "series": series, "camera": copied,
              "seed": simulate.DEFAULT_SEED,
              "shape": [min(ny, SIMULATED_CAMERA_MAX_SIDE), min(nx, SIMULATED_CAMERA_MAX_SIDE)],
              "label": f"a simulated camera like that of {night['label']}"}
    simulate.simulate_night(folder / paths.SIMULATED_CAMERA_DIRNAME, night=simulated_camera_description(record),
                            truth_file=False)
    return record


def simulated_camera_description(record):
    """The simulator's description of the simulated camera that ``record`` (the ``simulated_camera`` field) names.

    The grader rebuilds it from the record to judge notebook 06 against the
    simulated camera's truth.
    """
    description = simulate.bundled_description(tuple(record["shape"]), record["seed"],
                                               simulate.Camera(**record["camera"]))
    return dataclasses.replace(description, label=record["label"], bias_histogram_range_adu=None)


def _with_exptime(hdu, frame):
    """Give ``hdu`` an EXPTIME card when its header has only EXPOSURE (or, for a bias, neither)."""
    if "EXPTIME" in hdu.header:
        return
    if frame.exptime_s is not None:
        hdu.header["EXPTIME"] = (frame.exptime_s, "[s] exposure time, copied from EXPOSURE")
        hdu.header.add_history(f"{HISTORY_IMPORT} EXPTIME copied from EXPOSURE")
    elif frame.kind == "bias":
        hdu.header["EXPTIME"] = (0.0, "[s] a bias frame has no exposure")
        hdu.header.add_history(f"{HISTORY_IMPORT} EXPTIME = 0 written for a bias frame")


def import_night(src, out, *, size=DEFAULT_SIZE, gain=None, science=None, bias=None, darks=None, flats=None,
                 force=False, echo=print):
    """Import the night in ``src`` into ``out`` (see the module docstring).

    Parameters
    ----------
    src : str or pathlib.Path
        Folder of raw frames.
    out : str or pathlib.Path
        Folder to write the cropped frames and :data:`NIGHT_FILE` into.
    size : int
        Side of the centred window, pixels; 0 keeps whole frames.
    gain : float, optional
        Gain, e-/ADU; default the headers' EGAIN or GAIN.
    science : str, optional
        File name of the science frame.
    bias, darks, flats : str, optional
        Globs on file names overriding the headers (:func:`apply_options`).
    force : bool
        Replace files of ``out`` that differ from the new ones.
    echo : callable
        Receives the table (default: print).

    Returns
    -------
    dict
        The night's description, as written to :data:`NIGHT_FILE`.

    Raises
    ------
    NightImportError
        With nothing written: a missing kind, no gain, a bad option, or
        ``out`` holding differing files without ``force``.
    """
    src, out = Path(src).expanduser(), Path(out).expanduser()
    if not src.is_dir():
        raise NightImportError(f"--from {src} is not a folder")
    if out.exists() and not out.is_dir():
        raise NightImportError(f"--out {out} exists and is not a folder")
    if out.resolve() == src.resolve():
        raise NightImportError(f"--out {out} is the source folder: the raw frames would be replaced")
    frames = read_frames(src)
    by_name = {frame.name: frame for frame in frames}
    try:
        apply_options(frames, science=science, bias=bias, darks=darks, flats=flats)
        chosen = choose_set(frames)
        series = dark_series(frames, chosen["science"])
        for name in series[0]:
            if not by_name[name].taken:
                by_name[name].taken, by_name[name].why = True, f"the dark series ({by_name[name].exptime_s:g} s)"
        ptc = ptc_series(chosen)
    finally:
        echo(format_table(frames))
    gain, gain_from = night_gain(chosen, gain)
    window = crop_window(chosen["science"].shape, size)
    taken = [frame.name for frame in frames if frame.taken]

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.ccdlab-import-", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would stay on DIR after the rename
    try:
        for name in taken:
            try:
                hdu = crop_hdu(src / name, window)
            except Exception as error:  # noqa: BLE001 - a header that read but data that do not
                raise NightImportError(f"{name}: its image cannot be read ({error})") from None
            _with_exptime(hdu, by_name[name])
            # A CHECKSUM or DATASUM card of the whole frame is recomputed for the window.
            checksum = any(key in hdu.header for key in ("CHECKSUM", "DATASUM"))
            (staging / name).write_bytes(simulate.hdu_bytes(hdu, checksum=checksum))
        first_bias = fits.getdata(staging / chosen["bias"][0].name)
        night = describe(chosen, src, window, gain, gain_from, series, night_file.histogram_range(first_bias), ptc)
        night_file.write(staging, night)
        from . import given_masters

        try:
            masters = given_masters.write_given_masters(staging)
        except ValueError as error:
            raise NightImportError(f"the given master frames cannot be made from these frames: {error}") from None
        names = [*taken, NIGHT_FILE, *(path.name for path in masters.values())]
        if not (night["ptc_pairs"] and night["dark_series_files"]):
            night["simulated_camera"] = simulated_camera(staging, night)
            night_file.write(staging, night)
            sub = night["simulated_camera"]["folder"]
            names += [f"{sub}/{path.name}" for path in sorted((staging / sub).iterdir())]
        if not out.exists():
            staging.rename(out)
            return night
        differing = [name for name in names
                     if (out / name).exists() and (out / name).read_bytes() != (staging / name).read_bytes()]
        if differing and not force:
            raise NightImportError(
                f"{out} already holds {len(differing)} of these files with other contents (e.g. {differing[0]}); "
                "refusing to overwrite them: use --force to replace them, or another --out")
        for name in names:
            (out / name).parent.mkdir(exist_ok=True)
            (staging / name).replace(out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return night


def _series_words(night):
    times = night["dark_series_exptimes_s"]
    words = (f", a dark series of {len(night['dark_series_files'])} darks ({', '.join(f'{t:g}' for t in times)} s)"
             if times else ", no dark series")
    if night["ptc_pairs"]:
        words += f", a photon-transfer series of {len(night['ptc_pairs'])} flat pairs"
    else:
        words += ", no photon-transfer series"
    return words


def main(*, src, out, size=None, gain=None, science=None, bias=None, darks=None, flats=None, force=False):
    """Import a night (``ccdlab data --from SRC --out DIR``): print the table, write the frames.

    Parameters are those of :func:`import_night` (``size`` None: :data:`DEFAULT_SIZE`).

    Returns
    -------
    int
        0 on success, 1 when the night cannot be imported (the reason goes
        to stderr and nothing is written).
    """
    try:
        night = import_night(src, out, size=DEFAULT_SIZE if size is None else size, gain=gain, science=science,
                             bias=bias, darks=darks, flats=flats, force=force)
    except NightImportError as error:
        print(f"ccdlab data: {error}; nothing written", file=sys.stderr)
        return 1
    ny, nx = night["shape"]
    print(
        f"ccdlab data: imported {len(night['bias_files'])} biases, {len(night['dark_files'])} darks of "
        f"{night['dark_exptime_s']:g} s, {len(night['flat_files'])} flats ({night['band']}) and the science frame "
        f"{night['science_file']} ({night['science_exptime_s']:g} s){_series_words(night)} as {ny}x{nx} pixels, gain "
        f"{night['camera']['gain_e_per_adu']:g} e-/ADU ({night['camera']['gain_from']}), into {out}; "
        f"the night is described in {Path(out) / NIGHT_FILE}")
    return 0
