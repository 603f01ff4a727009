"""The nights a candidate is judged on: the bundled frames and a small second night made on the fly.

:func:`use_second_night` sets the second night of a grading run; without
one, :func:`_nights` makes a night of the default seed in a scratch folder.
"""

import contextlib
import tempfile
from pathlib import Path

import numpy as np

from convenience_functions import lab
from convenience_functions.paths import data_path, data_paths

class Night:
    """File names of one set of frames, with the exposure times they carry.

    ``ptc_pairs`` are the photon-transfer flats, pairs ``(path_a, path_b)``
    faint to bright, and ``dark_series`` the darks of several exposure times
    (each file's EXPTIME gives its time), ordered by time; both may be empty.
    """

    def __init__(self, folder, biases, darks, flats, science, shape, dark_exptime, science_exptime, description,
                 ptc_pairs=(), dark_series=()):
        self.folder = Path(folder)
        self.biases = list(biases)
        self.darks = list(darks)
        self.flats = list(flats)
        self.science = science
        self.shape = tuple(shape)
        self.dark_exptime = float(dark_exptime)
        self.science_exptime = float(science_exptime)
        self.description = description
        self.ptc_pairs = [tuple(pair) for pair in ptc_pairs]
        self.dark_series = list(dark_series)


def bundled_night():
    """The night the students reduce: the frames of the data folder (``CCDLAB_DATA``, else the bundled ones)."""
    from convenience_functions.paths import data_dir

    return night_of(data_dir())


def night_of(folder):
    """The :class:`Night` of a folder of frames, from its ``night.json`` (``convenience_functions.lab``).

    ``simulation`` is the simulator's description when the simulator made
    these frames (the bundled night, or the simulated camera of an imported
    night), else None: then the reference's results stand in for the truth.
    """
    folder = Path(folder)
    facts = lab.night_facts(folder)
    label = facts["NIGHT_LABEL"]
    night = Night(
        folder=folder,
        biases=data_paths(facts["BIAS_FILES"], folder),
        darks=data_paths(facts["DARK_FILES"], folder),
        flats=data_paths(facts["FLAT_FILES"], folder),
        science=data_path(facts["SCIENCE_FILE"], folder),
        shape=facts["SHAPE"],
        dark_exptime=facts["DARK_EXPTIME_S"],
        science_exptime=facts["SCIENCE_EXPTIME_S"],
        description="the bundled frames" if label == "the bundled night" else label,
        ptc_pairs=[tuple(data_paths(pair, folder)) for pair in facts["PTC_FLAT_PAIRS"]],
        dark_series=data_paths(facts["DARK_SERIES_FILES"], folder),
    )
    night.simulation = _simulation(folder, night.biases[0])
    return night


def series_night(night, series):
    """The night whose frames hold ``series`` (``'ptc'`` or ``'dark_series'``) for ``night``.

    ``night`` itself when it has the series; else the simulated camera that
    ``ccdlab data --from`` wrote beside an imported night's frames
    (``convenience_functions.paths.series_dir``), with its own biases.
    """
    if night.ptc_pairs if series == "ptc" else night.dark_series:
        return night
    from convenience_functions.paths import series_dir

    try:
        return night_of(series_dir(series, night.folder))
    except (FileNotFoundError, ValueError):  # no simulated camera either: judged on the night itself
        return night


def _simulation(folder, first_bias):
    """The simulator's description of the night in ``folder`` when the simulator made it, else None.

    The bundled night is recognised by its truth file's checksum of the first
    bias; a simulated camera of an imported night by the description its
    parent's ``night.json`` records (:func:`sample_data.import_night.simulated_camera`).
    """
    import hashlib
    import json

    from convenience_functions import night as night_file
    from sample_data import import_night, simulate

    folder = Path(folder)
    try:
        truth = json.loads(Path(simulate.BUNDLED_TRUTH).read_text())
        recorded = truth["frames"][Path(first_bias).name]["sha256"]
        if hashlib.sha256(Path(first_bias).read_bytes()).hexdigest() == recorded:
            return simulate.bundled_description()
    except (OSError, KeyError, ValueError):
        pass
    try:
        record = night_file.cached(folder.parent).get("simulated_camera")
    except ValueError:  # no (valid) description above: not a simulated camera
        return None
    if not record or record.get("folder") != folder.name:
        return None
    return import_night.simulated_camera_description(record)


#: Shape (without a seed) and exposure times of the second night: nothing like the bundled one.
SECOND_SHAPE = (29, 43)
#: Seed of the second night when none is given (tests, the notebooks' own hidden tests).
DEFAULT_SECOND_SEED = 2024
SECOND_DARK_EXPTIME_S = 30.0
SECOND_SCIENCE_EXPTIME_S = 90.0
SECOND_FLAT_EXPTIMES_S = (1.0, 3.0, 2.0)
#: The second night's photon-transfer pairs and dark series, s: other times than the bundled night's.
SECOND_PTC_EXPTIMES_S = (0.08, 0.6, 5.0, 20.0, 50.0, 85.0, 110.0, 250.0)
SECOND_DARK_SERIES_EXPTIMES_S = (10.0, 30.0, 60.0, 90.0)


def second_shape(seed):
    """Shape of the second night drawn with ``seed``: about 30 x 40 pixels, never square."""
    if seed == DEFAULT_SECOND_SEED:
        return SECOND_SHAPE
    rng = np.random.default_rng([seed, 1])
    return int(rng.integers(24, 36)), int(rng.integers(37, 50))


#: On a course whose night was imported, the second night's exposure times are the course night's times this
#: many times over (other times than the course's, so that a time typed in shows).
SECOND_TIME_FACTOR = 0.5


def second_camera(like=None):
    """The second night's camera, and its darks', science frame's and flats' exposure times (s).

    By default a camera nothing like the bundled one (see :func:`second_night`).
    With ``like``, the description (``night.json``) of a course's night that
    was imported from an observatory's frames: that night's camera as its
    frames show it (gain, read noise, dark current, sensor temperature: the
    ``simulated_camera`` record the import measured), its exposure times
    times :data:`SECOND_TIME_FACTOR`; the bias stays low (about 100 ADU, so
    that a subtraction in uint16 wraps) and the size small.
    """
    from sample_data import simulate

    camera = dict(gain_e_per_adu=1.3, read_noise_e=8.0, bias_level_adu=100.0, bias_column_sigma_adu=1.0,
                  ccd_temp_c=0.0, full_well_e=60_000.0, very_hot_fill_time_range_s=(50.0, 90.0))
    times = (SECOND_DARK_EXPTIME_S, SECOND_SCIENCE_EXPTIME_S, SECOND_FLAT_EXPTIMES_S)
    record = (like or {}).get("simulated_camera")
    if record:
        camera.update({key: record["camera"][key] for key in ("gain_e_per_adu", "read_noise_e",
                                                               "dark_current_e_per_s", "ccd_temp_c")
                       if key in record["camera"]})
        flats = sorted(set(like["flat_exptimes_s"]))[:3]
        flats = (flats * 3)[:3] if len(flats) < 3 else flats
        times = (like["dark_exptime_s"] * SECOND_TIME_FACTOR, like["science_exptime_s"] * SECOND_TIME_FACTOR,
                 tuple(t * SECOND_TIME_FACTOR * (1 + 0.5 * i) for i, t in enumerate(flats)))
    return simulate.Camera(**camera), times


def _course_night_description():
    """The course's night description (``night.json`` of the data folder), or None if unreadable."""
    from convenience_functions import night as night_file
    from convenience_functions.paths import data_dir

    try:
        return night_file.read(data_dir())
    except (OSError, ValueError):
        return None


def second_night(folder, seed=DEFAULT_SECOND_SEED, like=None):
    """Write a small night with another shape, camera and exposure times.

    The simulator renders it (``sample_data.simulate.NightDescription``):
    the same physics as the bundled frames, another camera.  Its bias is low
    (about 100 ADU), so that many dark pixels fall below the master bias and
    a subtraction done in uint16 wraps around; the chip is warmer (0 C), so
    its dark current is ten times higher; the gain is 1.3 e-/ADU, the read
    noise 8 e-, the full well 60,000 e- (its very hot pixels fill it within
    50-90 s); the flats' levels differ by up to a factor of three; the darks
    take 30 s; the photon-transfer pairs and the dark series have their own
    exposure times.  On a course whose night was imported (``like``, its
    description), the camera is that night's instead (:func:`second_camera`).
    The second bias frame carries a strong cosmic ray, so a mean combine
    differs from a median.  No truth file is written: the noiseless patterns
    are ``simulate.true_components(night=night.simulation)``.

    Parameters
    ----------
    folder : str or pathlib.Path
        Empty folder to write the frames into.
    seed : int
        Seed of the patterns, the noise and the shape (:func:`second_shape`).
    like : dict, optional
        The course night's description; default the data folder's (the
        bundled night's gives the default camera).

    Returns
    -------
    Night
        With ``seed`` and ``simulation`` (the NightDescription) set.
    """
    from sample_data import simulate

    folder = Path(folder)
    shape = second_shape(seed)
    camera, (dark_exptime, science_exptime, flat_exptimes) = second_camera(
        _course_night_description() if like is None else like)
    description = simulate.NightDescription(
        shape=shape, seed=seed, camera=camera,
        bias_files=tuple(f"bias{i}.fit" for i in range(5)),
        dark_files=tuple(f"dark{i}.fit" for i in range(3)),
        flat_files=tuple(f"flat{i}.fit" for i in range(len(flat_exptimes))),
        science_file="science.fit",
        dark_exptime_s=dark_exptime,
        science_exptime_s=science_exptime,
        flat_exptimes_s=flat_exptimes,
        flat_level_range_adu=(4000.0, 12000.0),
        planted_hits=(("bias1.fit", 5, 10, 3, 4, 6000.0),),
        label=f"a {shape[0]}x{shape[1]} test set",
        ptc_pairs=tuple((f"lamp{i}a.fit", f"lamp{i}b.fit") for i in range(len(SECOND_PTC_EXPTIMES_S))),
        ptc_exptimes_s=SECOND_PTC_EXPTIMES_S,
        dark_series_files=tuple(f"darkseries{i}.fit" for i in range(2 * len(SECOND_DARK_SERIES_EXPTIMES_S))),
        dark_series_exptimes_s=SECOND_DARK_SERIES_EXPTIMES_S,
    )
    simulate.simulate_night(folder, night=description, truth_file=False)
    night = Night(
        folder,
        [str(folder / name) for name in description.bias_files],
        [str(folder / name) for name in description.dark_files],
        [str(folder / name) for name in description.flat_files],
        str(folder / description.science_file),
        description.shape, description.dark_exptime_s, description.science_exptime_s, description.label,
        ptc_pairs=[(str(folder / a), str(folder / b)) for a, b in description.ptc_pairs],
        dark_series=[str(folder / name) for name in description.dark_series_files],
    )
    night.seed = seed
    night.simulation = description
    return night


#: The second night of this grading run (:func:`use_second_night`), or None.
_SECOND_NIGHT = None


def use_second_night(night):
    """Judge every later candidate on ``night`` (a :class:`Night` from :func:`second_night`).

    The grader draws one per grading run, outside the sandbox, so that no
    answer computed in advance can match it.
    """
    global _SECOND_NIGHT
    _SECOND_NIGHT = night


@contextlib.contextmanager
def _nights():
    """Yield the bundled night and the second night, with a temporary folder for outputs."""
    with tempfile.TemporaryDirectory(prefix="ccdlab-check-") as scratch:
        second = _SECOND_NIGHT
        if second is None:
            (Path(scratch) / "second").mkdir()
            second = second_night(Path(scratch) / "second")
        yield [bundled_night(), second], Path(scratch)


def _read(path):
    from astropy.io import fits

    return fits.getdata(path).astype(float)


def _exptime(path):
    from astropy.io import fits

    return float(fits.getheader(path)["EXPTIME"])


def _first_bias():
    from astropy.io import fits

    return fits.getdata(data_path(lab.FIRST_BIAS_FILE))
