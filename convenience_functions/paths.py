"""Find the bundled frames and the scratch folder from any working directory."""

import os
from pathlib import Path

from . import lab

#: Environment variable that points the lab at another copy of the frames
#: (the grader uses it to give every submission a private copy).
DATA_ENV_VAR = "CCDLAB_DATA"

_BUNDLED_DATA_DIR = Path(__file__).resolve().parent.parent / "sample_data" / "frames"


def data_dir():
    """Return the folder that holds the raw frames.

    The folder named by the ``CCDLAB_DATA`` environment variable wins;
    otherwise the frames bundled with the package are used, wherever the
    notebook or test was started from.

    Returns
    -------
    pathlib.Path
        Absolute path of the data folder.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist.
    """
    override = os.environ.get(DATA_ENV_VAR)
    folder = Path(override).expanduser().resolve() if override else _BUNDLED_DATA_DIR
    if not folder.is_dir():
        where = f"${DATA_ENV_VAR}={override}" if override else "the package"
        raise FileNotFoundError(
            f"CCD lab data folder {folder} (from {where}) does not exist; "
            "run `ccdlab data` to generate the sample frames"
        )
    return folder


def data_path(filename):
    """Return the absolute path (as a string) of one bundled frame.

    Parameters
    ----------
    filename : str
        File name such as ``'CalR-0001Bias.fit'``.

    Returns
    -------
    str
        Path that can be passed to ``astropy.io.fits.open``.
    """
    return str(data_dir() / filename)


def data_paths(filenames):
    """Return a list of absolute paths, one per file name in ``filenames``."""
    return [data_path(name) for name in filenames]


def reduced_dir(base=None):
    """Return the scratch folder for products, creating it if missing.

    Parameters
    ----------
    base : str or pathlib.Path, optional
        Folder to create ``Reduced_data/`` in; defaults to the current
        working directory, which is the notebook's own folder in JupyterLab
        and under nbgrader.

    Returns
    -------
    pathlib.Path
    """
    folder = Path(base if base is not None else Path.cwd()) / lab.REDUCED_DIRNAME
    folder.mkdir(parents=True, exist_ok=True)
    return folder
