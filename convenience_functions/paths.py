"""Find the night's frames and the scratch folder from any working directory."""

import json
import os
from pathlib import Path

from . import lab
from .night import NIGHT_FILE

#: Environment variable that points the lab at another copy of the frames
#: (the grader uses it to give every submission a private copy).
DATA_ENV_VAR = "CCDLAB_DATA"

#: Folder of the frames that come with the lab, relative to the folder that
#: holds ``convenience_functions/``.
BUNDLED_DATA_SUBDIR = Path("sample_data", "frames")

#: The folder that holds ``convenience_functions/`` (a course's root, or the top of the students' bundle).
COURSE_ROOT = Path(__file__).resolve().parent.parent

#: That folder itself.
BUNDLED_DATA_DIR = COURSE_ROOT / BUNDLED_DATA_SUBDIR

#: File at a course's root naming the course's own night, when its release chose one: ``{"frames": folder
#: relative to the root, ...}``.  Without it the course reduces the bundled frames.
COURSE_NIGHT_FILE = "course_night.json"

#: Subfolder of a night's folder holding a simulated camera like the night's,
#: whose series notebook 06 measures when the night has none of its own
#: (the import of a night writes it).
SIMULATED_CAMERA_DIRNAME = "simulated_camera"

#: Notebook 06's series, and the lab's facts that name their frames.
SERIES = {"ptc": "PTC_FLAT_PAIRS", "dark_series": "DARK_SERIES_FILES"}
#: ... and their names in words.
SERIES_WORDS = {"ptc": "photon-transfer flat pairs", "dark_series": "dark series"}


def course_data_dir(root=COURSE_ROOT):
    """Return the frames folder of the course at ``root``.

    The folder its :data:`COURSE_NIGHT_FILE` names (the night the course's
    release chose), else the bundled frames, ``root/sample_data/frames``.

    Raises
    ------
    ValueError
        If the course night file is not valid (the message names it).
    """
    record_file = Path(root) / COURSE_NIGHT_FILE
    if not record_file.is_file():
        return Path(root) / BUNDLED_DATA_SUBDIR
    try:
        frames = json.loads(record_file.read_text(encoding="utf-8"))["frames"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{record_file} does not name the course's frames folder ({error!r})") from None
    return (Path(root) / frames).resolve()


def data_dir():
    """Return the folder that holds the raw frames.

    The folder named by the ``CCDLAB_DATA`` environment variable wins;
    otherwise the course's night (:func:`course_data_dir`: the frames the
    course chose, or those bundled with the package), wherever the notebook
    or test was started from.

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
    folder = Path(override).expanduser().resolve() if override else course_data_dir()
    if not folder.is_dir():
        where = f"${DATA_ENV_VAR}={override}" if override else "the package"
        hint = (f"unset {DATA_ENV_VAR} or point it at a folder of frames" if override
                else "unpack the lab again: its sample_data/frames folder is missing")
        raise FileNotFoundError(f"CCD lab data folder {folder} (from {where}) does not exist; {hint}")
    return folder


def data_path(filename, folder=None):
    """Return the absolute path (as a string) of one frame of the night.

    Parameters
    ----------
    filename : str
        File name, one of ``lab.BIAS_FILES`` for instance.
    folder : str or pathlib.Path, optional
        Folder of frames; default :func:`data_dir`.

    Returns
    -------
    str
        Path that can be passed to ``astropy.io.fits.open``.
    """
    return str((data_dir() if folder is None else Path(folder)) / filename)


def data_paths(filenames, folder=None):
    """Return a list of absolute paths, one per file name in ``filenames`` (in ``folder``, default :func:`data_dir`)."""
    folder = data_dir() if folder is None else folder
    return [data_path(name, folder) for name in filenames]


def series_dir(series, folder=None):
    """Return the folder of the frames of one of notebook 06's series.

    Parameters
    ----------
    series : str
        ``'ptc'`` (the photon-transfer flat pairs, ``lab.PTC_FLAT_PAIRS``)
        or ``'dark_series'`` (``lab.DARK_SERIES_FILES``).
    folder : str or pathlib.Path, optional
        The night's folder; default :func:`data_dir`.

    Returns
    -------
    pathlib.Path
        ``folder`` when its night has that series; else the folder of
        the simulated camera written beside the night's frames
        (:data:`SIMULATED_CAMERA_DIRNAME`), whose night has it.  Read the
        series' names, and the biases that go with them, with
        ``lab.night_facts(folder)`` and their paths with
        ``data_paths(names, folder)``.

    Raises
    ------
    ValueError
        If ``series`` is not one of :data:`SERIES`.
    FileNotFoundError
        If neither the night nor a simulated camera has the series.
    """
    if series not in SERIES:
        raise ValueError(f"series must be one of {', '.join(map(repr, SERIES))}, not {series!r}")
    folder = data_dir() if folder is None else Path(folder)
    if lab.night_facts(folder)[SERIES[series]]:
        return folder
    simulated = folder / SIMULATED_CAMERA_DIRNAME
    if (simulated / NIGHT_FILE).is_file() and lab.night_facts(simulated)[SERIES[series]]:
        return simulated
    raise FileNotFoundError(
        f"the night in {folder} has no {SERIES_WORDS[series]} and no simulated camera in {simulated}")


def series_note(series):
    """Return one sentence saying whose frames :func:`series_dir` gives for ``series``."""
    folder = series_dir(series)
    words = SERIES_WORDS[series]
    night = lab.night_facts(folder)
    if folder == data_dir():
        return f"The {words} come from {night['NIGHT_LABEL']} itself."
    return (f"{lab.NIGHT_LABEL[0].upper()}{lab.NIGHT_LABEL[1:]} has no {words}: this part measures "
            f"{night['NIGHT_LABEL']} instead ({night['SHAPE'][0]}x{night['SHAPE'][1]} pixels, gain "
            f"{night['GAIN_E_PER_ADU']:g} e-/ADU, with its own biases).")


def given_masters(folder=None):
    """Return the paths of the master frames that come with the raw frames.

    The data folder holds, beside the raw frames, a master bias, a master
    dark and a master flat made from them (file names in
    ``lab.GIVEN_MASTER_FILES``), so that a notebook can use master frames
    without depending on your own.  Their headers say what they hold:
    the bias in ADU; the dark in ADU collected in its ``EXPTIME``
    (seconds); the flat dimensionless, with median 1.

    Parameters
    ----------
    folder : str or pathlib.Path, optional
        Folder of frames; default :func:`data_dir`.

    Returns
    -------
    dict
        ``{'bias': path, 'dark': path, 'flat': path}``, each a str.

    Raises
    ------
    FileNotFoundError
        If the data folder lacks one of them (the message names it).
    """
    folder = data_dir() if folder is None else Path(folder)
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
