"""The master frames given to students with a night's raw frames.

The stacking notebook's visible tests and the last notebook need a master
bias, dark and flat that do not depend on the student's own functions.
They reach students as data, never as code: three float32 FITS files in the
night's folder (names in ``lab.GIVEN_MASTER_FILES``), made from the raw
frames by the reference module :mod:`solutions` (its ``combine_*`` functions
and its one writer, ``save_fits``), with headers of their own:

* master bias: ``IMAGETYP = 'Master Bias'``, ``BUNIT = 'adu'``, the bias
  frames' ``EXPTIME`` (0 s);
* master dark: ``'Master Dark'``, ``BUNIT = 'adu'``, ``EXPTIME`` of the
  darks (the time the dark signal was collected in);
* master flat: ``'Master Flat'``, dimensionless (``BUNIT = ''``), no
  ``EXPTIME`` (the flats had several), ``FILTER`` of the flats;

each with ``NCOMBINE``, the camera's keywords and a ``HISTORY`` saying how
it was made.  ``FILTER`` is written only when every frame combined had the
same filter.  :func:`sample_data.simulate.simulate_night` calls
:func:`write_given_masters` after writing the frames, so ``ccdlab data``
regenerates the masters with them, byte for byte.
"""

import tempfile
from pathlib import Path

from astropy.io import fits

import solutions
from convenience_functions import lab, night

#: Camera keywords copied from the first raw frame of each kind.
_CAMERA_KEYS = ("INSTRUME", "TELESCOP", "GAIN", "RDNOISE", "CCD-TEMP", "XBINNING", "YBINNING",
                "SIMSEED", "SIMVERS")

COMMENT = "Master frame given with the ccdlab CCD data reduction lab."


def _common(headers, key, paths):
    """Return the one value of ``key`` in ``headers``, or None if they differ."""
    values = {header.get(key) for header in headers}
    if None in values:
        missing = next(path for path, header in zip(paths, headers) if key not in header)
        raise ValueError(f"raw frame {missing} has no {key} in its header")
    return values.pop() if len(values) == 1 else None


def master_header(paths, imagetyp, bunit, unit_comment, with_exptime):
    """Build the header of a master frame made from the raw frames ``paths``.

    Parameters
    ----------
    paths : list of pathlib.Path
        Raw frames that went into the master.
    imagetyp : str
        E.g. ``'Master Bias'``.
    bunit, unit_comment : str
        Unit of the pixel values (``'adu'``, or ``''`` for dimensionless)
        and its comment.
    with_exptime : bool
        Write ``EXPTIME``: the frames' common exposure time, seconds.

    Returns
    -------
    astropy.io.fits.Header

    Raises
    ------
    ValueError
        If a frame lacks ``EXPTIME`` (when asked for), or the exposure
        times differ.  ``FILTER`` is written when every frame has the same,
        ``DATE-OBS`` (the earliest) when every frame has one.
    """
    headers = [fits.getheader(path) for path in paths]
    first = headers[0]
    header = fits.Header()
    header["IMAGETYP"] = (imagetyp, "type of image")
    if with_exptime:
        exptime = _common(headers, "EXPTIME", paths)
        if exptime is None:
            raise ValueError(f"the frames {paths[0]} ... {paths[-1]} have different EXPTIME values")
        header["EXPTIME"] = (exptime, "[s] exposure time of each frame combined")
    bands = {header_.get("FILTER") for header_ in headers}
    if len(bands) == 1 and None not in bands:
        header["FILTER"] = (bands.pop(), "filter in the beam")
    dates = [header_.get("DATE-OBS") for header_ in headers]
    if None not in dates:  # a real camera's software may not write it
        header["DATE-OBS"] = (min(dates), "[UTC] start of the first frame combined")
    header["NCOMBINE"] = (len(paths), "number of raw frames combined")
    for key in _CAMERA_KEYS:
        if key in first:
            header[key] = (first[key], first.comments[key])
    header["BUNIT"] = (bunit, unit_comment)
    header["COMMENT"] = COMMENT
    return header


def _filters(paths):
    """Words for the filters of ``paths``, e.g. ``' (filters R and V)'``; empty when no header names one."""
    bands = sorted({str(band) for band in (fits.getheader(path).get("FILTER") for path in paths) if band})
    return f" (filters {' and '.join(bands)})" if bands else ""


def write_given_masters(folder):
    """Make the master bias, dark and flat from the raw frames in ``folder`` and write them there.

    Parameters
    ----------
    folder : str or pathlib.Path
        A night's folder holding raw frames and their ``night.json``
        (:mod:`convenience_functions.night`), which names them.  The files
        named in ``lab.GIVEN_MASTER_FILES`` are written into it (replaced if
        present); no raw frame is changed.

    Returns
    -------
    dict
        ``{'bias': path, 'dark': path, 'flat': path}`` (pathlib.Path).

    Raises
    ------
    FileNotFoundError
        If a raw frame is missing (the message names it).
    ValueError
        As raised by the reference module, or by :func:`master_header`.
    """
    folder = Path(folder)
    described = night.read(folder)
    bias_files = [folder / name for name in described["bias_files"]]
    dark_files = [folder / name for name in described["dark_files"]]
    flat_files = [folder / name for name in described["flat_files"]]
    for path in bias_files + dark_files + flat_files:
        if not path.is_file():
            raise FileNotFoundError(f"raw frame {path} is missing: cannot make the given masters")

    master_bias = solutions.combine_bias(bias_files)
    master_dark = solutions.combine_darks(dark_files, master_bias)
    dark_exptime = described["dark_exptime_s"]
    master_flat = solutions.combine_flats(flat_files, master_bias, master_dark, dark_exptime)

    flat_times = sorted(described["flat_exptimes_s"])
    # Each HISTORY text fits one 72-character card.
    products = {
        "bias": (master_bias, master_header(bias_files, "Master Bias", "adu", "unit of the pixel values", True),
                 f"Median of {len(bias_files)} bias frames{_filters(bias_files)}, ADU"),
        "dark": (master_dark, master_header(dark_files, "Master Dark", "adu", "unit of the pixel values", True),
                 f"Median of {len(dark_files)} darks of {dark_exptime:g} s{_filters(dark_files)} "
                 "minus master bias, ADU"),
        "flat": (master_flat, master_header(flat_files, "Master Flat", "", "dimensionless: relative response",
                                            False),
                 f"Median of {len(flat_files)} flats ({flat_times[0]:g}-{flat_times[-1]:g} s) less bias, "
                 "scaled dark, each over its median"),
    }
    written = {}
    with tempfile.TemporaryDirectory(prefix="ccdlab-masters-") as scratch:
        for kind, (data, header, history) in products.items():
            # save_fits copies the header of a template file: give it one holding just this header.
            template = Path(scratch) / f"{kind}_header.fits"
            fits.PrimaryHDU(header=header).writeto(template)
            out = folder / lab.GIVEN_MASTER_FILES[kind]
            solutions.save_fits(data, template, history, out)
            written[kind] = out
    return written
