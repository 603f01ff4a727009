"""The lab on an observatory's night: imported in real cameras' conventions, checked without truth.

One night is written the way camera software writes it (``tests/realnight.py``:
CCDSoft / NINA / IRAF spellings, EXPOSURE without EXPTIME, BITPIX -32 darks,
no RDNOISE or SATURATE, a pedestal card, a text file, a broken FITS file, a
binned frame), imported with ``ccdlab data --from`` once for this module, and
made the lab's night with ``CCDLAB_DATA``.  A real night has no truth: the
checks judge against the reference's result on the same frames, within the
frames' own noise; the simulated camera the import writes stands in for
notebook 06's missing photon-transfer series, with the simulator's truth.
The same right answers, named mistakes and sound alternatives as on the
bundled night (tests/test_checks.py, tests/test_camera.py) must come out the
same here.
"""

import re

import pytest

from autograder import checks
from convenience_functions import lab, night as night_module, paths

import realnight
import test_camera
import test_checks
from mistakes import WRONG_ANSWERS


@pytest.fixture(scope="module")
def imported(imported_real_night):
    """The imported night (conftest's, shared with the course tests) and what the import should take."""
    return imported_real_night, realnight.expected()


@pytest.fixture
def real_night(imported, monkeypatch):
    folder, _expected = imported
    monkeypatch.setenv(paths.DATA_ENV_VAR, str(folder))
    checks.NOTES.clear()
    return folder


def test_the_import_takes_the_night(imported):
    folder, expected = imported
    night = night_module.read(folder)
    assert set(night["bias_files"]) == expected["bias"] and set(night["dark_files"]) == expected["dark"]
    assert set(night["flat_files"]) == expected["flat"] and night["science_file"] == expected["science"]
    assert set(night["dark_series_files"]) == expected["dark_series"]
    assert night["camera"]["gain_e_per_adu"] == realnight.EGAIN and night["camera"]["gain_from"] == "EGAIN"
    assert night["simulated_camera"]["series"] == ["ptc"]  # its flats are all of one exposure time


def test_the_lab_reads_the_imported_night(real_night):
    assert lab.GAIN_E_PER_ADU == realnight.EGAIN and lab.SCIENCE_EXPTIME_S == realnight.SCIENCE_EXPTIME_S
    assert lab.CCD_TEMP_C == realnight.CCD_TEMP_C
    low, high = lab.TYPICAL_DARK_CURRENT_E_PER_S
    assert low < lab.typical_dark_current(realnight.CCD_TEMP_C) < high
    assert paths.series_dir("dark_series") == real_night
    assert paths.series_dir("ptc") == real_night / paths.SIMULATED_CAMERA_DIRNAME
    assert "has no photon-transfer flat pairs" in paths.series_note("ptc")
    assert lab.night_facts(paths.series_dir("ptc"))["PTC_FLAT_PAIRS"]


def test_the_simulated_camera_copies_the_nights_camera(imported):
    folder, _expected = imported
    copied = night_module.read(folder)["simulated_camera"]["camera"]
    camera = realnight.CAMERA
    assert copied["gain_e_per_adu"] == camera.gain_e_per_adu
    assert copied["read_noise_e"] == pytest.approx(camera.read_noise_e, rel=0.1)
    assert copied["dark_current_e_per_s"] == pytest.approx(camera.dark_current_e_per_s, rel=0.25)


@pytest.mark.parametrize("item", sorted(test_checks.REFERENCE))
def test_reference_passes_on_the_real_night(real_night, item):
    assert checks.DIAGNOSES[item](test_checks.REFERENCE[item]) == []


@pytest.mark.parametrize(
    "item, wrong, phrase",
    [(item, wrong, phrase) for item, cases in WRONG_ANSWERS.items() for wrong, phrase in cases],
    ids=lambda value: getattr(value, "__name__", str(value))[:40],
)
def test_mistake_is_named_on_the_real_night(real_night, item, wrong, phrase):
    problems = checks.DIAGNOSES[item](wrong)
    assert problems, f"{wrong.__name__} passed the {item} check"
    assert phrase.lower() in " ".join(problems).lower(), problems


@pytest.mark.parametrize("item, sound", [
    ("combine_bias", test_checks.bias_clipped_mean), ("combine_bias", test_checks.bias_ccdproc),
    ("combine_bias", test_checks.bias_float32), ("combine_darks", test_checks.darks_clipped_mean),
    ("combine_flats", test_checks.flats_scaled_clipped_mean), ("combine_flats", test_checks.flats_ccdproc),
    ("process_data", test_checks.process_float32),
], ids=lambda value: getattr(value, "__name__", str(value)))
def test_a_sound_alternative_passes_on_the_real_night(real_night, item, sound):
    assert checks.DIAGNOSES[item](sound) == [], sound.__name__


def test_without_truth_the_frames_noise_decides(real_night):
    """The clipped mean passes through the noise rule (not the truth), and the message says so."""
    assert checks.diagnose_combine_bias(test_checks.bias_clipped_mean) == []
    assert any("within the frames' noise of the reference" in note for note in checks.NOTES), checks.NOTES


# ---------------------------------------------------------------------------
# Notebook 06 on the real night: its own biases and dark series, the simulated camera's photon-transfer pairs


@pytest.fixture
def camera_night(real_night):
    """The Night of the real night, as the camera checks see it (nights=[...])."""
    from autograder.checking.nights import night_of

    night = night_of(real_night)
    assert night.simulation is None  # a real night: no truth
    return night


def test_the_ptc_checks_use_the_simulated_camera_with_its_truth(camera_night):
    from autograder.checking.nights import series_night

    ptc = series_night(camera_night, "ptc")
    assert ptc.folder.name == paths.SIMULATED_CAMERA_DIRNAME and ptc.simulation is not None
    assert ptc.simulation.camera.gain_e_per_adu == realnight.EGAIN and ptc.ptc_pairs
    assert series_night(camera_night, "dark_series") is camera_night


@pytest.fixture(scope="module")
def second(tmp_path_factory):
    return checks.second_night(tmp_path_factory.mktemp("second"))


@pytest.mark.parametrize("item", sorted(test_camera.REFERENCE))
def test_camera_reference_passes_on_the_real_night(camera_night, item):
    assert checks.DIAGNOSES[item](test_camera.REFERENCE[item], nights=[camera_night]) == [], checks.NOTES


@pytest.mark.parametrize(
    "item, wrong, phrase",
    [(item, wrong, phrase) for item, cases in test_camera.mistakes.CAMERA_WRONG_ANSWERS.items()
     for wrong, phrase in cases],
    ids=lambda value: getattr(value, "__name__", str(value))[:40],
)
def test_camera_mistake_is_named_on_the_real_night(camera_night, second, item, wrong, phrase):
    """Judged as the grader judges: on the course's night and a second night (this night's darks stop at 60 s,
    before any pixel's well fills: a mask without the non-linearity test shows only on the second)."""
    problems = checks.DIAGNOSES[item](wrong, nights=[camera_night, second])
    assert problems, f"{wrong.__name__} passed the {item} check"
    assert phrase.lower() in " ".join(problems).lower(), problems


@pytest.mark.parametrize("item, sound", [
    ("measure_read_noise", test_camera.read_noise_clipped_3sigma), ("measure_read_noise", test_camera.read_noise_mad),
    ("measure_gain", test_camera.gain_mad), ("measure_gain", test_camera.gain_clipped_3sigma),
    ("photon_transfer", test_camera.ptc_clipped_3sigma),
    ("fit_dark_current", test_camera.dark_polyfit_of_plain_means),
    ("fit_dark_current", test_camera.dark_least_squares_by_hand),
    ("bad_pixel_mask", test_camera.mask_polyfit_shortfall),
], ids=lambda value: getattr(value, "__name__", str(value)))
def test_camera_sound_alternative_passes_on_the_real_night(camera_night, item, sound):
    assert checks.DIAGNOSES[item](sound, nights=[camera_night]) == [], checks.NOTES


def test_the_second_night_has_the_course_night_s_camera(imported, tmp_path):
    """On a course on this night, the grader's second night: its camera, other exposure times, small, low bias."""
    from autograder.checking import nights

    folder, _expected = imported
    described = night_module.read(folder)
    second = nights.second_night(tmp_path, seed=31, like=described)
    camera = second.simulation.camera
    measured = described["simulated_camera"]["camera"]
    assert camera.gain_e_per_adu == realnight.EGAIN and camera.read_noise_e == measured["read_noise_e"]
    assert camera.dark_current_e_per_s == measured["dark_current_e_per_s"] and camera.bias_level_adu == 100.0
    assert second.dark_exptime == described["dark_exptime_s"] * nights.SECOND_TIME_FACTOR
    assert second.science_exptime == described["science_exptime_s"] * nights.SECOND_TIME_FACTOR
    assert second.shape == nights.second_shape(31) and second.shape != tuple(described["shape"])
    # The bundled night's course keeps the second night of its own camera.
    default = nights.second_night(tmp_path / "default", seed=31, like=night_module.read(paths.BUNDLED_DATA_DIR))
    assert default.simulation.camera.gain_e_per_adu == 1.3 and default.dark_exptime == nights.SECOND_DARK_EXPTIME_S


# ---------------------------------------------------------------------------
# Every instructor notebook runs top to bottom on the imported night (hidden tests included)


def _run_notebook(path, workdir):
    """Execute the notebook at ``path`` in a fresh kernel (which inherits CCDLAB_DATA); return its errors."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(str(path), as_version=4)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    try:
        client.execute()
    except Exception as error:  # noqa: BLE001 - the failing cell's error, named
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # without the terminal's colours
        return [f"{path.name}: {type(error).__name__}: {plain[-800:]}"]
    return [f"{path.name} cell {index}: {output.get('ename')}: {output.get('evalue')}"
            for index, cell in enumerate(notebook.cells) for output in cell.get("outputs", [])
            if output.get("output_type") == "error"]


@pytest.fixture(scope="module")
def executed(imported, tmp_path_factory):
    """The six instructor notebooks run on the imported night, two at a time: name -> errors."""
    from concurrent.futures import ThreadPoolExecutor

    from autograder import course

    folder, _expected = imported
    notebooks = sorted(course.source_dir().glob("*.ipynb"))
    with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(max_workers=2) as pool:
        patch.setenv(paths.DATA_ENV_VAR, str(folder))  # the kernels inherit it: they reduce the imported night
        errors = list(pool.map(lambda path: _run_notebook(path, tmp_path_factory.mktemp(path.stem)), notebooks))
    return dict(zip((path.name for path in notebooks), errors))


def test_every_instructor_notebook_runs_clean_on_the_imported_night(executed):
    assert len(executed) == 6
    assert [error for errors in executed.values() for error in errors] == []
