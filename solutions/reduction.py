"""Reference solution of the CCD reduction lab: one small function per step.

The steps, in the order the lab takes them:

1. :func:`calc_dark_current` -- mean dark current of one dark frame, e-/s.
2. :func:`load_stack` -- read several frames into one (N, ny, nx) array.
3. :func:`combine_bias` -- median master bias, ADU.
4. :func:`combine_darks` -- median of bias-subtracted darks, ADU in the
   darks' own exposure time.
5. :func:`combine_flats` -- bias- and dark-subtracted flats, each scaled
   to a median of 1, median combined and normalized to a median of 1.
6. :func:`save_fits` -- write a product as float32 with a HISTORY card.
7. :func:`process_data` -- calibrate a raw science frame and write it.

Conventions shared by every function:

* Raw frames are unsigned 16-bit integers.  Every frame is converted to
  floating point *before* any subtraction, so values below the bias come
  out negative instead of wrapping around to about 65000.
* A dark is scaled to another exposure time in exactly one place,
  :func:`_scale_dark`, by the ratio of two EXPTIME values in seconds.
* No frame size is assumed anywhere; shapes are compared, never typed in.
* Inputs (files and arrays) are never modified, and no function writes to a
  path that it also reads from.
* Bad input raises a built-in exception (``FileNotFoundError``,
  ``ValueError`` or ``TypeError``) whose message names the file or the
  argument at fault.
"""

import math
import os
import numbers

import numpy as np
from astropy.io import fits

from convenience_functions import lab

__all__ = [
    "calc_dark_current",
    "load_stack",
    "combine_bias",
    "combine_darks",
    "combine_flats",
    "save_fits",
    "process_data",
]

#: Header keyword holding the exposure time in seconds.
_EXPTIME_KEY = "EXPTIME"

#: Keywords of an integer template that must not survive into a float file.
_INTEGER_SCALING_KEYS = ("BZERO", "BSCALE", "BLANK")

#: Keywords that describe the old data and would be wrong for new data.
_STALE_KEYS = ("CHECKSUM", "DATASUM", "DATAMIN", "DATAMAX")


# ---------------------------------------------------------------------------
# Private helpers: argument checks, reading, exposure scaling, writing
# ---------------------------------------------------------------------------


def _check_path_argument(path, argname):
    """Return ``path`` as a str after checking that it is a str or PathLike."""
    if isinstance(path, (str, os.PathLike)):
        return os.fspath(path)
    raise TypeError(
        f"{argname} must be a file name (str or pathlib.Path), "
        f"got {type(path).__name__}: {path!r}"
    )


def _check_existing_file(path, argname):
    """Raise a clear error unless ``path`` names an existing regular file."""
    path = _check_path_argument(path, argname)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{argname}: no such file: '{path}'")
    if os.path.isdir(path):
        raise ValueError(f"{argname}: '{path}' is a folder, not a FITS file")
    return path


def _reason(error):
    """First sentence of an exception's message (astropy adds advice that does not apply)."""
    text = str(error).strip() or type(error).__name__
    return text.split(". ")[0].rstrip(".")


def _read_image(path, argname):
    """Read the primary image of a FITS file as stored (e.g. uint16 ADU).

    Parameters
    ----------
    path : str or os.PathLike
        FITS file to read.
    argname : str
        Name of the caller's argument, used in error messages.

    Returns
    -------
    data : numpy.ndarray
        2-D image with BZERO/BSCALE applied, in its own integer or float
        type (ADU).  Convert it before doing arithmetic.
    header : astropy.io.fits.Header
        Copy of the primary header.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a readable FITS file or holds no 2-D image of
        real numbers.
    """
    path = _check_existing_file(path, argname)
    try:
        with fits.open(path, memmap=False) as hdulist:
            data = hdulist[0].data
            header = hdulist[0].header.copy()
    except (OSError, ValueError, TypeError, IndexError, KeyError, EOFError) as err:
        raise ValueError(f"{argname}: '{path}' is not a readable FITS file ({_reason(err)})") from None
    if data is None:
        raise ValueError(f"{argname}: '{path}' has no image data in its primary HDU")
    if data.ndim != 2:
        raise ValueError(
            f"{argname}: '{path}' holds a {data.ndim}-D array of shape {data.shape}; "
            "expected a 2-D image"
        )
    if data.dtype.kind not in "uif":
        raise ValueError(f"{argname}: '{path}' holds {data.dtype} values, not real numbers")
    return data, header


def _float_type(stored_dtype, smallest=np.float64):
    """Floating-point type that holds every value of ``stored_dtype`` exactly.

    ``smallest`` is used when it suffices (float32 holds every 16-bit
    integer); wider stored types (int32, float64) get float64.
    """
    return np.result_type(stored_dtype, smallest)


def _read_frame(path, argname, dtype=np.float64):
    """Read the primary image of a FITS file as floating point.

    Parameters
    ----------
    path, argname
        As for :func:`_read_image`.
    dtype : numpy dtype, optional
        Smallest floating-point type wanted (see :func:`_float_type`).

    Returns
    -------
    data : numpy.ndarray
        2-D floating-point image, ADU; never shares memory with a file.
    header : astropy.io.fits.Header
        Copy of the primary header.

    Raises
    ------
    FileNotFoundError, ValueError
        As for :func:`_read_image`.
    """
    stored, header = _read_image(path, argname)
    return np.asarray(stored, dtype=_float_type(stored.dtype, dtype)), header


def _read_header(path, argname):
    """Read only the primary header of a FITS file (see :func:`_read_frame`)."""
    path = _check_existing_file(path, argname)
    try:
        return fits.getheader(path, 0)
    except (OSError, ValueError, TypeError, IndexError, KeyError, EOFError) as err:
        raise ValueError(f"{argname}: '{path}' is not a readable FITS file ({_reason(err)})") from None


def _exposure_time(header, path, argname):
    """Return the EXPTIME of a header in seconds, checked to be positive.

    Parameters
    ----------
    header : astropy.io.fits.Header
        Header of the frame.
    path : str
        File the header came from, used in error messages.
    argname : str
        Name of the caller's argument that gave the file.

    Returns
    -------
    float
        Exposure time, seconds.

    Raises
    ------
    ValueError
        If EXPTIME is missing, not a number, not finite or not positive.
    """
    if _EXPTIME_KEY not in header:
        raise ValueError(f"{argname}: '{path}' has no {_EXPTIME_KEY} keyword in its header")
    value = header[_EXPTIME_KEY]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{argname}: '{path}' has a non-numeric {_EXPTIME_KEY} = {value!r}")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(
            f"{argname}: '{path}' has {_EXPTIME_KEY} = {value!r}; the exposure time must be a "
            "positive number of seconds"
        )
    return seconds


def _positive_number(value, argname, unit):
    """Return ``value`` as a float after checking it is finite and positive."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{argname} must be a number ({unit}), got {type(value).__name__}: {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{argname} must be a positive number ({unit}), got {value!r}")
    return value


def _scale_dark(master_dark, target_exptime, dark_exptime):
    """Scale a master dark to another exposure time.

    This is the only place where exposure times enter the arithmetic.

    Parameters
    ----------
    master_dark : numpy.ndarray
        Bias-subtracted dark, ADU collected in ``dark_exptime`` seconds.
    target_exptime : float
        Exposure time to scale to, seconds.
    dark_exptime : float
        Exposure time of ``master_dark``, seconds.

    Returns
    -------
    numpy.ndarray
        New array: dark signal expected in ``target_exptime``, ADU.
    """
    return master_dark * (target_exptime / dark_exptime)


def _check_image(array, argname, shape=None, shape_source=None):
    """Return ``array`` as a float ndarray (no copy if already float).

    Checks that it is a 2-D array of real numbers and, when ``shape`` is
    given, that it has that shape (which came from ``shape_source``).
    """
    if isinstance(array, (str, os.PathLike)):
        raise TypeError(
            f"{argname} must be an image array (ADU), got the file name {array!r}; "
            "read it first, e.g. with astropy.io.fits.getdata"
        )
    arr = np.asarray(array)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{argname} must be an array of real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{argname} must be a 2-D image, got shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(
            f"{argname} has shape {arr.shape} but the frames in {shape_source} have shape "
            f"{tuple(shape)}"
        )
    if np.issubdtype(arr.dtype, np.integer):
        arr = arr.astype(np.float64)
    return arr


def _same_file(path_a, path_b):
    """True if two paths name the same file (after resolving ./, .. and links)."""
    if os.path.exists(path_a) and os.path.exists(path_b):
        return os.path.samefile(path_a, path_b)
    real_a = os.path.normcase(os.path.realpath(path_a))
    real_b = os.path.normcase(os.path.realpath(path_b))
    return real_a == real_b


def _check_output_path(out_path, argname, inputs):
    """Refuse an output path that is one of the inputs or a missing folder.

    Parameters
    ----------
    out_path : str or os.PathLike
        Path that is about to be written.
    argname : str
        Name of the output argument, used in messages.
    inputs : dict
        Maps argument names to the input paths that must not be overwritten.
    """
    out_path = _check_path_argument(out_path, argname)
    for input_name, input_path in inputs.items():
        if _same_file(out_path, input_path):
            raise ValueError(
                f"{argname} '{out_path}' is the same file as {input_name} '{input_path}'; "
                "choose another output name (input data are never overwritten)"
            )
    if os.path.isdir(out_path):
        raise ValueError(f"{argname} '{out_path}' is a folder, not a file name")
    folder = os.path.dirname(os.path.abspath(out_path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{argname}: folder '{folder}' does not exist; create it first")
    return out_path


def _check_history(history):
    """Return ``history`` after checking it can go into a FITS HISTORY card."""
    if not isinstance(history, str):
        raise TypeError(f"history must be a str, got {type(history).__name__}: {history!r}")
    if not all(" " <= char <= "~" for char in history):
        raise ValueError(
            f"history {history!r} holds characters a FITS header cannot store "
            "(use printable ASCII only)"
        )
    return history


def _write_float32(data, header, out_path):
    """Write ``data`` as float32 with a copy of ``header`` to ``out_path``.

    Integer scaling keywords (BZERO, BSCALE, BLANK) and statistics of the
    old data are dropped so the file holds exactly the float32 values.
    """
    header = header.copy()
    for key in _INTEGER_SCALING_KEYS + _STALE_KEYS:
        header.remove(key, ignore_missing=True, remove_all=True)
    hdu = fits.PrimaryHDU(data=np.asarray(data, dtype=np.float32), header=header)
    hdu.writeto(out_path, overwrite=True)


def _stack_frames(filenames, argname, as_float=True):
    """Read frames into one stack and return it with their headers.

    See :func:`load_stack`; this private version also returns the headers
    so that callers can read exposure times without opening files twice.
    With ``as_float=False`` the stack keeps the frames' stored type (uint16
    ADU for raw frames: half the memory of float32), for callers that only
    take a median of it and do no arithmetic on it.
    """
    if isinstance(filenames, (str, bytes, os.PathLike)):
        raise TypeError(
            f"{argname} must be a list of file names, got a single name {filenames!r}; "
            "wrap it in a list"
        )
    try:
        paths = list(filenames)
    except TypeError:
        raise TypeError(
            f"{argname} must be a list of file names, got {type(filenames).__name__}"
        ) from None
    if not paths:
        raise ValueError(f"{argname} is empty: give at least one FITS file name")

    first, first_header = _read_image(paths[0], argname)
    dtype = _float_type(first.dtype, np.float32) if as_float else first.dtype
    stack = np.empty((len(paths),) + first.shape, dtype=dtype)
    stack[0] = first  # converted (if need be) while copied in: no extra copy
    headers = [first_header]
    del first
    for index, path in enumerate(paths[1:], start=1):
        frame, header = _read_image(path, argname)
        if frame.shape != stack.shape[1:]:
            raise ValueError(
                f"{argname}: '{path}' has shape {frame.shape} but the first file "
                f"'{paths[0]}' has shape {stack.shape[1:]}; all frames must have the same shape"
            )
        wanted = np.result_type(stack.dtype, frame.dtype)
        if wanted != stack.dtype:
            # Only for unusual files (e.g. float64 data after uint16 ones):
            # promote once to a type that holds both exactly, carry on.
            stack = stack.astype(wanted)
        stack[index] = frame
        headers.append(header)
    return stack, headers, paths


def _read_master(inputs, argname, shape):
    """Read the master ``inputs[argname]`` and check it has the raw frame's shape.

    A master keeps the precision it was stored with (float32 as written by
    :func:`save_fits`); it is not widened to float64, which would only cost
    memory, since the arithmetic with the float64 raw frame is done in
    float64 anyway.
    """
    data, header = _read_frame(inputs[argname], argname, dtype=np.float32)
    if data.shape != shape:
        raise ValueError(
            f"{argname} '{inputs[argname]}' has shape {data.shape} but "
            f"filename '{inputs['filename']}' has shape {shape}"
        )
    return data, header


def _median_of_own_stack(stack):
    """Median along the first axis of a stack that the caller owns, as floats.

    The values of each pixel are sorted in place and the middle one is taken
    (the mean of the two middle ones for an even number of frames).  The
    stack is reordered, not copied, so it must be a private temporary array.
    Sorting a pixel's few values is about twice as fast as ``np.median``'s
    partial sort along the first axis, for exactly the same numbers.  An
    integer stack (raw 16-bit ADU) is sorted as integers; the result is
    float32 when that holds every value exactly (as it does for 16-bit
    frames), float64 otherwise.  As with ``np.median``, a pixel that is NaN
    in any frame is NaN in the result.
    """
    count = stack.shape[0]
    stack.sort(axis=0)
    median = stack[(count - 1) // 2].astype(_float_type(stack.dtype, np.float32))
    if count % 2 == 0:
        median += stack[count // 2]
        median *= 0.5
    if stack.dtype.kind == "f":
        median[np.isnan(stack[-1])] = np.nan  # sorting puts NaN last
    return median


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def calc_dark_current(dark_filename, bias_filename, gain=None):
    """Mean dark current of one dark frame.

    The bias frame is subtracted from the dark in floating point, the mean
    of the difference is converted to electrons with the gain and divided by
    the dark's exposure time.

    Parameters
    ----------
    dark_filename : str or os.PathLike
        Raw dark frame (ADU) whose header holds EXPTIME in seconds.
    bias_filename : str or os.PathLike
        Bias frame or master bias (ADU) of the same shape.
    gain : float, optional
        Detector gain, e-/ADU.  Default (None): the night's,
        ``convenience_functions.lab.GAIN_E_PER_ADU`` (the notebook writes
        that default into the signature).

    Returns
    -------
    float
        Mean dark current, e-/s/pixel.

    Raises
    ------
    FileNotFoundError
        If either file does not exist.
    ValueError
        If a file is not FITS, the shapes differ, the dark has no positive
        EXPTIME, or ``gain`` is not positive.
    TypeError
        If ``gain`` is not a number or a file name is not a str/path.

    Examples
    --------
    >>> from convenience_functions import data_path, lab
    >>> calc_dark_current(data_path(lab.FIRST_DARK_FILE),
    ...                   data_path(lab.FIRST_BIAS_FILE))  # doctest: +SKIP
    0.1...
    """
    gain = _positive_number(lab.GAIN_E_PER_ADU if gain is None else gain, "gain", "e-/ADU")
    dark, dark_header = _read_frame(dark_filename, "dark_filename")
    exptime = _exposure_time(dark_header, os.fspath(dark_filename), "dark_filename")
    bias, _ = _read_frame(bias_filename, "bias_filename")
    if bias.shape != dark.shape:
        raise ValueError(
            f"bias_filename '{os.fspath(bias_filename)}' has shape {bias.shape} but "
            f"dark_filename '{os.fspath(dark_filename)}' has shape {dark.shape}"
        )
    mean_dark_adu = float(np.mean(dark - bias, dtype=np.float64))
    return mean_dark_adu * gain / exptime


def load_stack(filenames):
    """Read several frames into one three-dimensional array.

    Parameters
    ----------
    filenames : list of str or os.PathLike
        FITS files whose primary HDUs hold 2-D images of one shape (ADU).

    Returns
    -------
    numpy.ndarray
        New float array of shape (N, ny, nx), frame ``i`` in ``[i]``.  It is
        float32 for 16-bit integer frames (every ADU value is exact), wider
        only if a file's own values need it.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        If ``filenames`` is empty, a file is not FITS or holds no 2-D image,
        or a frame's shape differs from the first frame's.
    TypeError
        If ``filenames`` is a single name rather than a list.
    """
    stack, _, _ = _stack_frames(filenames, "filenames")
    return stack


def combine_bias(filenames):
    """Median-combine bias frames into a master bias.

    Parameters
    ----------
    filenames : list of str or os.PathLike
        Raw bias frames (ADU), all of one shape.

    Returns
    -------
    numpy.ndarray
        2-D master bias, ADU.

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        As for :func:`load_stack`.
    """
    # Only the order of the values matters: keep them in their stored type.
    stack, _, _ = _stack_frames(filenames, "filenames", as_float=False)
    return _median_of_own_stack(stack)


def combine_darks(filenames, master_bias):
    """Median-combine bias-subtracted dark frames into a master dark.

    Parameters
    ----------
    filenames : list of str or os.PathLike
        Raw dark frames (ADU), all of one shape and one EXPTIME (seconds).
    master_bias : array_like
        2-D master bias of the same shape, ADU.  Not modified.

    Returns
    -------
    numpy.ndarray
        2-D master dark: dark signal in ADU collected during the darks' own
        exposure time (scale it with the ratio of exposure times before
        subtracting it from another frame).

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        As for :func:`load_stack`.
    ValueError
        Also if ``master_bias`` does not match the frames, a dark has no
        positive EXPTIME, or the darks have different exposure times.
    TypeError
        Also if ``master_bias`` is not a numeric array.
    """
    stack, headers, paths = _stack_frames(filenames, "filenames", as_float=False)
    bias = _check_image(master_bias, "master_bias", stack.shape[1:], "filenames")
    exptimes = [_exposure_time(header, os.fspath(path), "filenames") for header, path in zip(headers, paths)]
    for exptime, path in zip(exptimes, paths):
        if not math.isclose(exptime, exptimes[0], rel_tol=1e-6):
            raise ValueError(
                f"filenames: dark '{os.fspath(path)}' has EXPTIME {exptime} s but "
                f"'{os.fspath(paths[0])}' has {exptimes[0]} s; combine darks of one exposure time"
            )
    # Subtracting the master bias moves all the darks' values at a pixel by
    # the same amount, which keeps their order: the median of the
    # bias-subtracted darks is the median of the darks minus the bias.  Taking
    # the median first sorts 16-bit integers instead of floats; for 16-bit
    # frames and a master bias from combine_bias both ways give exactly the
    # same float32 numbers (otherwise they differ only by rounding).
    master_dark = _median_of_own_stack(stack)
    master_dark -= bias
    return master_dark


def combine_flats(filenames, master_bias, master_dark, dark_exptime):
    """Combine flat frames into a flat field normalized to a median of 1.

    Each flat has the master bias subtracted and the master dark scaled to
    that flat's own exposure time subtracted, and is then divided by its own
    median, so that every flat has a level of 1; the scaled flats are
    median-combined and the result is divided by its median.

    Twilight flats do not share one level: the sky fades between them, and
    longer exposures make up for it only roughly.  A median of unscaled
    flats would pick, pixel by pixel, mostly the one frame whose level is in
    the middle, and so average almost nothing; scaled to a common level, the
    flats differ only by noise and the median uses all of them (ccdproc's
    ``combine(..., scale=inverse_median)``).

    Parameters
    ----------
    filenames : list of str or os.PathLike
        Raw flat frames (ADU) of one filter, all of one shape, each with
        EXPTIME in seconds.
    master_bias : array_like
        2-D master bias, ADU.  Not modified.
    master_dark : array_like
        2-D bias-subtracted master dark, ADU in ``dark_exptime``.  Not
        modified.
    dark_exptime : float
        Exposure time of ``master_dark``, seconds.

    Returns
    -------
    numpy.ndarray
        2-D normalized flat field, dimensionless, median 1.

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        As for :func:`load_stack`.
    ValueError
        Also if ``master_bias`` or ``master_dark`` does not match the frames,
        a flat has no positive EXPTIME, ``dark_exptime`` is not positive, or
        a flat's median (or the combined flat's) is not positive after bias
        and dark subtraction (the message names the flat).
    TypeError
        Also if a master is not a numeric array or ``dark_exptime`` is not a
        number.
    """
    dark_exptime = _positive_number(dark_exptime, "dark_exptime", "seconds")
    stack, headers, paths = _stack_frames(filenames, "filenames")
    bias = _check_image(master_bias, "master_bias", stack.shape[1:], "filenames")
    dark = _check_image(master_dark, "master_dark", stack.shape[1:], "filenames")
    for index, (header, path) in enumerate(zip(headers, paths)):
        flat_exptime = _exposure_time(header, os.fspath(path), "filenames")
        # Remove the bias and this flat's dark signal, then scale the flat to a level of 1.
        stack[index] -= bias
        stack[index] -= _scale_dark(dark, flat_exptime, dark_exptime)
        level = np.median(stack[index])
        if not level > 0:  # also catches NaN
            raise ValueError(
                f"filenames: flat '{os.fspath(path)}' has median {level} ADU after bias and dark "
                "subtraction; a flat needs a positive level"
            )
        stack[index] /= level
    combined = _median_of_own_stack(stack)
    level = np.median(combined)
    if not level > 0:  # also catches NaN
        raise ValueError(
            f"the combined flat from filenames {[os.fspath(p) for p in paths]} has median "
            f"{level}; a flat needs a positive level"
        )
    combined /= level
    return combined


def save_fits(data, template_filename, history, out_filename):
    """Write an image as float32 FITS with the header of a template frame.

    Parameters
    ----------
    data : array_like
        2-D image to write (ADU, or dimensionless for a flat).  Not
        modified.
    template_filename : str or os.PathLike
        FITS file whose header is copied (e.g. the first raw frame that went
        into the product).  It is only read.
    history : str
        Text of the HISTORY card added to the header (printable ASCII).
    out_filename : str or os.PathLike
        File to write; a previous file of that name is replaced, unless it
        is the template itself.

    Raises
    ------
    FileNotFoundError
        If the template or the output folder does not exist.
    ValueError
        If the template is not FITS, ``out_filename`` is the template
        (raw data are never overwritten), ``data`` is not 2-D, or
        ``history`` holds characters FITS cannot store.
    TypeError
        If ``data`` is not numeric or ``history`` is not a str.
    """
    template = _check_existing_file(template_filename, "template_filename")
    out_path = _check_output_path(out_filename, "out_filename", {"template_filename": template})
    image = _check_image(data, "data")
    history = _check_history(history)
    header = _read_header(template, "template_filename")
    header["HISTORY"] = history
    _write_float32(image, header, out_path)


def process_data(filename, new_filename, bias_file, dark_file, flat_file):
    """Calibrate a raw science frame and write the result.

    ``calibrated = (raw - bias - dark * EXPTIME_raw / EXPTIME_dark) / flat``,
    all in floating point.

    Parameters
    ----------
    filename : str or os.PathLike
        Raw science frame (ADU) with EXPTIME in seconds.  Only read.
    new_filename : str or os.PathLike
        Output file; must differ from every input.  A previous file of that
        name is replaced.
    bias_file : str or os.PathLike
        Master bias, ADU.
    dark_file : str or os.PathLike
        Bias-subtracted master dark, ADU, whose header holds the darks'
        EXPTIME in seconds (as written by :func:`save_fits` from a raw dark
        template).
    flat_file : str or os.PathLike
        Flat field; normally normalized to median 1, and its median must be
        positive.

    Returns
    -------
    numpy.ndarray
        2-D calibrated image (float64), ADU in the raw frame's exposure
        time.  The file holds the same values as float32, the raw header
        plus a HISTORY card and ``CALIBRAT = T``.

    Raises
    ------
    FileNotFoundError
        If an input file or the output folder does not exist.
    ValueError
        If a file is not FITS, a master's shape differs from the raw
        frame's, the raw frame or dark master has no positive EXPTIME, the
        flat's median is not positive, or ``new_filename`` is one of the
        inputs.
    TypeError
        If a file name is not a str or path.
    """
    inputs = {
        "filename": _check_existing_file(filename, "filename"),
        "bias_file": _check_existing_file(bias_file, "bias_file"),
        "dark_file": _check_existing_file(dark_file, "dark_file"),
        "flat_file": _check_existing_file(flat_file, "flat_file"),
    }
    out_path = _check_output_path(new_filename, "new_filename", inputs)

    raw, header = _read_frame(inputs["filename"], "filename")
    raw_exptime = _exposure_time(header, inputs["filename"], "filename")
    bias, _ = _read_master(inputs, "bias_file", raw.shape)
    dark, dark_header = _read_master(inputs, "dark_file", raw.shape)
    dark_exptime = _exposure_time(dark_header, inputs["dark_file"], "dark_file")
    flat, _ = _read_master(inputs, "flat_file", raw.shape)
    flat_level = np.median(flat)
    if not flat_level > 0:  # also catches NaN
        raise ValueError(
            f"flat_file '{inputs['flat_file']}' has median {flat_level}; a flat field "
            "must have a positive median (normally 1)"
        )

    # Remove the bias, then the dark scaled to this frame's exposure time,
    # then divide by the flat field.
    calibrated = raw - bias
    calibrated -= _scale_dark(dark, raw_exptime, dark_exptime)
    calibrated /= flat

    note = (
        f"Calibrated: bias {os.path.basename(inputs['bias_file'])}, "
        f"dark {os.path.basename(inputs['dark_file'])} x {raw_exptime:g}/{dark_exptime:g} s, "
        f"flat {os.path.basename(inputs['flat_file'])}"
    )
    # File names may hold characters a FITS card cannot store.
    header["HISTORY"] = note.encode("ascii", "replace").decode("ascii")
    header[lab.CALIBRATED_KEYWORD] = (True, "bias, dark and flat corrected")
    _write_float32(calibrated, header, out_path)
    return calibrated
