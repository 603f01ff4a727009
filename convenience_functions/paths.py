"""Find the bundled frames and the scratch folder from any working directory."""

import os
from pathlib import Path

from . import lab

#: Environment variable that points the lab at another copy of the frames
#: (the grader uses it to give every submission a private copy).
DATA_ENV_VAR = "CCDLAB_DATA"

#: Folder of the frames that come with the lab, relative to the folder that
#: holds ``convenience_functions/``.
BUNDLED_DATA_SUBDIR = Path("sample_data", "frames")

#: That folder itself.
BUNDLED_DATA_DIR = Path(__file__).resolve().parent.parent / BUNDLED_DATA_SUBDIR


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
    folder = Path(override).expanduser().resolve() if override else BUNDLED_DATA_DIR
    if not folder.is_dir():
        where = f"${DATA_ENV_VAR}={override}" if override else "the package"
        hint = (f"unset {DATA_ENV_VAR} or point it at a folder of frames" if override
                else "unpack the lab again: its sample_data/frames folder is missing")
        raise FileNotFoundError(f"CCD lab data folder {folder} (from {where}) does not exist; {hint}")
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


def given_masters():
    """Return the paths of the master frames that come with the raw frames.

    The data folder holds, beside the raw frames, a master bias, a master
    dark and a master flat made from them (file names in
    ``lab.GIVEN_MASTER_FILES``), so that a notebook can use master frames
    without depending on your own.  Their headers say what they hold:
    the bias in ADU; the dark in ADU collected in its ``EXPTIME``
    (seconds); the flat dimensionless, with median 1.

    Returns
    -------
    dict
        ``{'bias': path, 'dark': path, 'flat': path}``, each a str.

    Raises
    ------
    FileNotFoundError
        If the data folder lacks one of them (the message names it).
    """
    folder = data_dir()
    paths = {}
    for kind, name in lab.GIVEN_MASTER_FILES.items():
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(
                f"the given master {kind} {path} is missing: the data folder {folder} must hold "
                f"{', '.join(lab.GIVEN_MASTER_FILES.values())} beside the raw frames"
            )
        paths[kind] = str(path)
    return paths


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
