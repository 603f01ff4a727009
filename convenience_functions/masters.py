"""Build the three master calibration frames from the bundled raw frames.

The last notebook of the lab calibrates the science frame with master
frames.  So that it runs on its own, without the stacking notebook having
been run first, it calls :func:`make_masters`, which does the same job as
the stacking notebook in a few lines:

* master bias: median of the bias frames, ADU;
* master dark: median of the bias-subtracted dark frames, ADU collected in
  the darks' own exposure time;
* master flat: median of the flats after removing the bias and the dark
  scaled to each flat's exposure time, divided by its median
  (dimensionless, median 1).

Each master is written as float32 FITS with the header of the first raw
frame that went into it and a HISTORY card saying how it was made.
"""

from pathlib import Path

import numpy as np
from astropy.io import fits

from . import lab
from .paths import _BUNDLED_DATA_DIR, data_dir, data_paths

__all__ = ["make_masters"]


def _read_stack(paths):
    """Read frames into an (N, ny, nx) float64 stack; also return EXPTIMEs.

    Parameters
    ----------
    paths : list of str
        FITS files with 2-D images of one shape (ADU).

    Returns
    -------
    stack : numpy.ndarray
        Frame ``i`` in ``stack[i]``, ADU.
    exptimes : list of float
        EXPTIME of every frame, seconds (None where the header has none).

    Raises
    ------
    ValueError
        If a frame's shape differs from the first frame's.
    """
    frames, exptimes = [], []
    for path in paths:
        with fits.open(path) as hdulist:
            frames.append(np.asarray(hdulist[0].data, dtype=np.float64))
            exptimes.append(hdulist[0].header.get("EXPTIME"))
        if frames[-1].shape != frames[0].shape:
            raise ValueError(f"{path} has shape {frames[-1].shape} but {paths[0]} has {frames[0].shape}")
    return np.stack(frames), exptimes


def _write_master(data, template, history, out_path):
    """Write ``data`` as float32 with the header of ``template`` plus HISTORY."""
    header = fits.getheader(template)
    header["HISTORY"] = history
    fits.PrimaryHDU(np.asarray(data, dtype=np.float32), header).writeto(out_path, overwrite=True)
    return str(out_path)


def make_masters(folder):
    """Make the master bias, dark and flat and write them into ``folder``.

    Parameters
    ----------
    folder : str or pathlib.Path
        Folder for the products (created if missing), e.g.
        ``reduced_dir() / 'masters'``.  It must not be the folder of the
        raw frames (nor inside it).  Files named ``lab.MASTER_BIAS_FILE``,
        ``lab.MASTER_DARK_FILE`` and ``lab.MASTER_FLAT_FILE`` in it are
        replaced.

    Returns
    -------
    dict
        ``{'bias': path, 'dark': path, 'flat': path}``, each a str.  The bias
        is in ADU, the dark in ADU collected in the darks' exposure time
        (its header keeps their EXPTIME, seconds), the flat is dimensionless
        with median 1.

    Raises
    ------
    ValueError
        If ``folder`` is (or is inside) the folder of the raw frames, the
        dark frames have different exposure times, or a frame has no
        EXPTIME or a shape unlike the others.

    Examples
    --------
    >>> from convenience_functions import reduced_dir
    >>> masters = make_masters(reduced_dir() / 'masters')  # doctest: +SKIP
    >>> masters['flat']  # doctest: +SKIP
    '.../Reduced_data/masters/combined_flat.fits'
    """
    folder = Path(folder).expanduser().resolve()
    for raw_folder in {data_dir().resolve(), _BUNDLED_DATA_DIR.resolve()}:
        if folder == raw_folder or raw_folder in folder.parents:
            raise ValueError(
                f"folder {folder} is inside the raw data folder {raw_folder}: "
                "write the masters somewhere else, e.g. reduced_dir() / 'masters'"
            )
    folder.mkdir(parents=True, exist_ok=True)
    bias_files = data_paths(lab.BIAS_FILES)
    dark_files = data_paths(lab.DARK_FILES)
    flat_files = data_paths(lab.FLAT_FILES)

    # Bias: median of the raw bias frames.
    biases, _ = _read_stack(bias_files)
    master_bias = np.median(biases, axis=0)

    # Dark: median of the bias-subtracted darks, all of one exposure time.
    darks, dark_exptimes = _read_stack(dark_files)
    if None in dark_exptimes or len(set(dark_exptimes)) != 1:
        found = sorted(set(map(str, dark_exptimes)))
        raise ValueError(f"the dark frames need one common EXPTIME (seconds), found {found}")
    dark_exptime = float(dark_exptimes[0])
    master_dark = np.median(darks - master_bias, axis=0)

    # Flat: remove bias and the dark scaled to each flat's exposure time,
    # median-combine, normalize to a median of 1.
    flats, flat_exptimes = _read_stack(flat_files)
    for index, (path, exptime) in enumerate(zip(flat_files, flat_exptimes)):
        if exptime is None:
            raise ValueError(f"flat frame {path} has no EXPTIME in its header")
        flats[index] -= master_bias + master_dark * (float(exptime) / dark_exptime)
    master_flat = np.median(flats, axis=0)
    master_flat /= np.median(master_flat)

    return {
        "bias": _write_master(master_bias, bias_files[0], f"Median of {len(bias_files)} bias frames",
                              folder / lab.MASTER_BIAS_FILE),
        "dark": _write_master(master_dark, dark_files[0],
                              f"Median of {len(dark_files)} bias-subtracted {dark_exptime:g} s darks",
                              folder / lab.MASTER_DARK_FILE),
        "flat": _write_master(master_flat, flat_files[0],
                              f"Median of {len(flat_files)} bias- and dark-subtracted flats, median 1",
                              folder / lab.MASTER_FLAT_FILE),
    }
