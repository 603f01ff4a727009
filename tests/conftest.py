"""Shared fixtures: a seeded factory of small raw CCD frames and file digests.

The factory writes frames the way the observatory camera does (unsigned
16-bit integers, IMAGETYP and EXPTIME in the header) but only a few dozen
pixels on a side, so that tests run in milliseconds.  It keeps the
noiseless components it used, so a test can compare a reduction with the
truth or with an independent implementation such as ccdproc.
"""

import contextlib
import hashlib
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from convenience_functions import lab

#: Small and deliberately not square, so a swapped axis shows up.
FACTORY_SHAPE = (24, 40)
FACTORY_SEED = 20240131


class FrameFactory:
    """Write small seeded raw frames with known noiseless components.

    The camera and its patterns are the simulator's (``sample_data.simulate``):
    a :class:`~sample_data.simulate.NightDescription` of this shape and seed,
    with a warmer chip (0 C, so one dark measures its dark current to a few
    percent on few pixels) and no random cosmic rays (tests plant their own).
    Frames are rendered by the simulator's components: charge in electrons
    with Poisson noise, read noise, gain and digitisation to uint16.

    Parameters
    ----------
    folder : pathlib.Path
        Where the frames are written.
    shape : tuple of int
        (ny, nx) of every frame, pixels.
    seed : int
        Seed of the fixed detector pattern and of the noise generator.

    Attributes
    ----------
    description : sample_data.simulate.NightDescription
        The night whose camera and patterns the frames use.
    bias_adu : numpy.ndarray
        Noiseless bias per pixel, ADU (about 1500 with a column pattern,
        plus the dark charge collected during readout).
    dark_e_per_s : numpy.ndarray
        Dark current per pixel, e-/s, with a few hot pixels.
    hot_pixels : numpy.ndarray
        Mask of the hot pixels.
    flat : numpy.ndarray
        Pixel sensitivity with median 1 (vignetting, dust, pixel response).
    read_noise_e : float
        Read noise, e- rms.
    gain : float
        Gain, e-/ADU (the lab's value).
    """

    def __init__(self, folder, shape=FACTORY_SHAPE, seed=FACTORY_SEED):
        from sample_data import simulate

        self.folder = Path(folder)
        self.shape = tuple(shape)
        camera = simulate.Camera(read_noise_e=8.0, ccd_temp_c=0.0, hot_pixel_fraction=0.01)
        self.description = simulate.NightDescription(shape=self.shape, seed=seed, camera=camera,
                                                     cosmic_rays_per_pixel_per_s=0.0, label="a test night")
        self.camera = camera
        self.gain = camera.gain_e_per_adu
        self.read_noise_e = camera.read_noise_e
        self.rng = np.random.default_rng(seed)
        true = simulate.true_components(night=self.description)
        self._offset_adu = true["bias_offset_adu"]
        self._readout_e = true["readout_dark_e"]
        self.bias_adu = true["bias_adu"]
        self.dark_e_per_s = true["dark_current_e_per_s"]
        self.hot_pixels = true["hot_pixels"]
        self.flat = true["flat"]

    # -- writing -----------------------------------------------------------
    def write(self, name, data, exptime=None, imagetyp=None, dtype=np.uint16, **cards):
        """Write ``data`` (ADU) to ``folder/name`` and return the path as a str.

        Values are rounded and clipped to the 16-bit range like a real
        camera's when ``dtype`` is an unsigned integer type.  ``exptime``
        (seconds) and ``imagetyp`` go into the header when not None, and
        so do any extra ``cards``.
        """
        header = fits.Header()
        if imagetyp is not None:
            header["IMAGETYP"] = imagetyp
        if exptime is not None:
            header["EXPTIME"] = exptime
        for key, value in cards.items():
            header[key] = value
        data = np.asarray(data, dtype=float)
        if np.issubdtype(np.dtype(dtype), np.unsignedinteger):
            data = np.clip(np.rint(data), 0, np.iinfo(dtype).max)
        path = self.folder / name
        fits.PrimaryHDU(data.astype(dtype), header).writeto(path, overwrite=True)
        return str(path)

    def _render(self, electrons_expected):
        """Counts (uint16 ADU) of a frame that collected ``electrons_expected`` (e-) on average.

        Poisson noise on the exposure and on the charge collected during
        readout, then the simulator's read noise and digitisation.
        """
        from sample_data import simulate

        camera = self.camera
        charge = self.rng.poisson(np.clip(electrons_expected, 0, None)).astype(float)
        charge += self.rng.poisson(self._readout_e)
        noise = simulate.read_noise(self.shape, self.rng, camera.read_noise_e, camera.gain_e_per_adu)
        return simulate.digitize(self._offset_adu, charge, noise, camera.gain_e_per_adu, camera.full_well_e,
                                 camera.adc_max_adu)

    # -- frame types -------------------------------------------------------
    def bias(self, name, **cards):
        """Write a bias frame (EXPTIME 0 s) and return its path."""
        adu = self._render(np.zeros(self.shape))
        return self.write(name, adu, exptime=0.0, imagetyp="Bias Frame", **cards)

    def dark(self, name, exptime=lab.DARK_EXPTIME_S, **cards):
        """Write a dark frame of ``exptime`` seconds and return its path."""
        adu = self._render(self.dark_e_per_s * exptime)
        return self.write(name, adu, exptime=exptime, imagetyp="Dark Frame", **cards)

    def light(self, name, exptime, sky_e_per_s, imagetyp="Light Frame", **cards):
        """Write an exposed frame: bias + dark + flat * sky, with noise.

        ``sky_e_per_s`` (scalar or array, e-/s before the flat) is the
        illumination; the noiseless calibrated frame is
        ``sky_e_per_s * exptime / gain`` ADU.
        """
        electrons = (self.flat * sky_e_per_s + self.dark_e_per_s) * exptime
        adu = self._render(electrons)
        return self.write(name, adu, exptime=exptime, imagetyp=imagetyp, **cards)

    def flat_frame(self, name, exptime, sky_e_per_s=12000.0, **cards):
        """Write a twilight flat of ``exptime`` seconds and return its path."""
        return self.light(name, exptime, sky_e_per_s, imagetyp="Flat Field", **cards)

    def night(self, n_bias=5, n_dark=4, flat_exptimes=(2.0, 3.0, 4.0), science_exptime=lab.SCIENCE_EXPTIME_S):
        """Write a complete small night and return the file names by kind.

        Returns
        -------
        dict
            ``bias``, ``dark`` and ``flat`` lists of paths, ``science`` path,
            and ``sky_e_per_s``: the science frame's illumination (e-/s).
        """
        ny, nx = self.shape
        yy, xx = np.mgrid[0:ny, 0:nx]
        galaxy = 60.0 * np.exp(-((yy - ny / 2) ** 2 + (xx - nx / 2) ** 2) / (2 * 4.0**2))
        sky = 20.0 + galaxy
        # Twilight fades: later flats get longer exposures, which make up for it only
        # partly, so the flats' levels differ (by 30 % here).
        flat_rates = [24000.0 * (1.0 - 0.15 * i) / t for i, t in enumerate(flat_exptimes)]
        return {
            "bias": [self.bias(f"bias{i:02d}.fit") for i in range(n_bias)],
            "dark": [self.dark(f"dark{i:02d}.fit") for i in range(n_dark)],
            "flat": [
                self.flat_frame(f"flat{i:02d}.fit", t, rate)
                for i, (t, rate) in enumerate(zip(flat_exptimes, flat_rates))
            ],
            "science": self.light("science.fit", science_exptime, sky),
            "sky_e_per_s": sky,
        }


@pytest.fixture
def frames(tmp_path):
    """A :class:`FrameFactory` writing into a fresh temporary folder."""
    folder = tmp_path / "raw"
    folder.mkdir()
    return FrameFactory(folder)


@pytest.fixture
def night(frames):
    """A small complete night written by :func:`frames`; see FrameFactory.night."""
    return frames.night()


def sha256_of(paths):
    """Map each existing path to the sha256 digest of its bytes."""
    digests = {}
    for path in paths:
        path = Path(path)
        if path.is_file():
            digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


@contextlib.contextmanager
def files_unchanged(folder):
    """Assert that no file under ``folder`` is changed, added or removed inside the block."""
    folder = Path(folder)
    before = sha256_of(sorted(folder.rglob("*")))
    yield
    after = sha256_of(sorted(folder.rglob("*")))
    assert after == before, "input files were modified, added or removed"


@pytest.fixture
def unchanged():
    """The :func:`files_unchanged` context manager, as a fixture."""
    return files_unchanged


# ---------------------------------------------------------------------------
# Two test processes on two cores (pytest-xdist, ``-n auto``)

#: Modules whose tests run in one process, one after another, by group: the
#: graded class's (its session fixture is five minutes of grading, done once)
#: and the checkout's (they watch the checkout's files while servers and
#: browsers run in it).  Every other module is a group of its own, so its
#: module-scoped fixtures are built once.
XDIST_GROUPS = {
    "test_dask_grading.py": "graded_class",
    "test_grading.py": "graded_class",
    "test_hardening.py": "graded_class",
    "test_browser.py": "checkout",
    "test_labserver.py": "checkout",
}


def xdist_group(nodeid):
    """The group of the test ``nodeid`` (``tests/test_x.py::test_y[z]``): XDIST_GROUPS's, else its module."""
    module = nodeid.split("::", 1)[0]
    return XDIST_GROUPS.get(Path(module).name, module)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's scheduling by scope, with XDIST_GROUPS's scopes, in the order of the collection.

    (Not ``--dist loadgroup``: with pytest 9.2 its ``xdist_group`` marks are lost.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return xdist_group(nodeid)

    config.option.loadscopereorder = False  # the order pytest_collection_modifyitems gives
    return ByGroup(config, log)


def pytest_collection_modifyitems(config, items):
    """The graded class's group first (the longest); refuse a graded-class test outside it."""
    outside = [item.nodeid for item in items
               if "graded_class" in getattr(item, "fixturenames", ()) and xdist_group(item.nodeid) != "graded_class"]
    if outside:
        raise pytest.UsageError(f"tests of the shared graded class outside its module group (XDIST_GROUPS in "
                                f"tests/conftest.py): {', '.join(outside)}")
    items.sort(key=lambda item: xdist_group(item.nodeid) != "graded_class")  # stable: otherwise as collected


# ---------------------------------------------------------------------------
# One graded class, shared by test_grading.py and test_hardening.py


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """The hostile class of tests/classbatch.py graded once with ``ccdlab grade --jobs 2``.

    Returns a namespace with ``submissions``, ``out`` (RESULTS), ``sandboxed``
    (whether bubblewrap ran the kernels) and ``port`` (a loopback port that
    the escaping student tries to reach).
    """
    import socket
    import types

    import classbatch
    from autograder import sandbox
    from autograder.cli import main as ccdlab

    submissions = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("results")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    escape = classbatch.hack_escape_builder(classbatch.course.REPO_ROOT / "solutions", [submissions, out], port)
    outside = tmp_path_factory.mktemp("outside")
    canary = outside / "canary.txt"
    canary.write_text("a file of the instructor's, outside every sandbox\n")
    canary.chmod(0o640)
    cheats = [classbatch.cheat_kernel, classbatch.cheat_html, classbatch.cheat_files_builder(canary),
              classbatch.cheat_linked_handin_builder(classbatch.course.source_dir() / "03_dark_current.ipynb"),
              classbatch.renamed, classbatch.sound_alternatives, classbatch.hung_function]
    classbatch.build(submissions, classbatch.STUDENTS + classbatch.HACKERS + [escape] + cheats)
    sandboxed, _why = sandbox.available()
    try:
        # "auto", as an instructor runs it: a change that makes auto grade without the
        # sandbox where bubblewrap works fails the escape tests.
        status = ccdlab(["grade", str(submissions), "--out", str(out), "--jobs", "2", "--timeout", "20",
                         "--sandbox", "auto"])
    finally:
        listener.close()
    assert status == 0
    return types.SimpleNamespace(submissions=submissions, out=out, sandboxed=sandboxed, port=port, canary=canary)


@pytest.fixture(scope="session")
def tiny_course_template(tmp_path_factory):
    """A small nbgrader course (tests/nbcells.tiny_course), built once a session: its gradebook takes seconds."""
    import nbcells

    return nbcells.tiny_course(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def tiny_course(tiny_course_template, tmp_path):
    """A fresh copy of the small nbgrader course, for a test to change."""
    import shutil

    root = tmp_path / "tiny-course"
    shutil.copytree(tiny_course_template, root)
    return root


# ---------------------------------------------------------------------------
# An observatory's night, imported once a session (tests/realnight.py)


@pytest.fixture(scope="session")
def imported_real_night(tmp_path_factory):
    """The night of tests/realnight.py (real cameras' conventions) imported with ``ccdlab data --from``."""
    import realnight
    from autograder.cli import main as ccdlab

    base = tmp_path_factory.mktemp("observatory")
    realnight.write_real_night(base / "raw", base / "scratch")
    assert ccdlab(["data", "--from", str(base / "raw"), "--out", str(base / "night")]) == 0
    return base / "night"
