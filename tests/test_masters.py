"""Tests of the given master frames (sample_data/given_masters.py, paths.given_masters).

The stacking notebook's visible tests and the last notebook read a master
bias, dark and flat shipped as FITS files beside the raw frames.  They are
checked against the reference module recomputed on the bundled frames, and
against the simulator's noiseless truth; their headers must say what they
hold.  That they equal a fresh regeneration byte for byte is tested with
the frames in test_generator.py.
"""

import shutil

import numpy as np
import pytest
from astropy.io import fits

import solutions
from conftest import FrameFactory, files_unchanged
from convenience_functions import data_dir, data_paths, given_masters, lab
from convenience_functions import night as night_module
from convenience_functions import paths as paths_module
from sample_data import given_masters as given_module
from sample_data import simulate

KINDS = ("bias", "dark", "flat")
FILES = {"bias": lab.BIAS_FILES, "dark": lab.DARK_FILES, "flat": lab.FLAT_FILES}


@pytest.fixture(scope="module")
def given():
    """The given masters of the bundled night: {kind: (data, header)}."""
    found = given_masters()
    return {kind: (fits.getdata(found[kind]), fits.getheader(found[kind])) for kind in KINDS}


@pytest.fixture(scope="module")
def reference():
    """The reference module's masters of the bundled frames, computed afresh."""
    bias = solutions.combine_bias(data_paths(lab.BIAS_FILES))
    dark = solutions.combine_darks(data_paths(lab.DARK_FILES), bias)
    dark_exptime = fits.getheader(data_paths(lab.DARK_FILES)[0])["EXPTIME"]
    flat = solutions.combine_flats(data_paths(lab.FLAT_FILES), bias, dark, dark_exptime)
    return {"bias": bias, "dark": dark, "flat": flat}


def test_given_masters_sit_beside_the_raw_frames():
    found = given_masters()
    assert sorted(found) == list(KINDS)
    for kind, path in found.items():
        assert path == str(data_dir() / lab.GIVEN_MASTER_FILES[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_given_master_is_the_reference_recomputed(given, reference, kind):
    data, header = given[kind]
    assert header["BITPIX"] == -32 and "BZERO" not in header
    np.testing.assert_array_equal(data, reference[kind].astype(np.float32))


def test_given_masters_recover_the_simulator_truth(given):
    truth = simulate.true_components()
    gain, read_noise_adu = lab.GAIN_E_PER_ADU, simulate.READ_NOISE_E / lab.GAIN_E_PER_ADU
    bias, dark, flat = (given[kind][0].astype(np.float64) for kind in KINDS)
    # A median of 20 frames: about 1.25 / sqrt(20) of one frame's read noise.
    assert np.std(bias - truth["bias_adu"]) < 0.4 * read_noise_adu
    expected_dark = truth["dark_current_e_per_s"] * lab.DARK_EXPTIME_S / gain
    assert np.median(np.abs(dark - expected_dark)) < read_noise_adu
    hot = truth["hot_pixels"]
    np.testing.assert_allclose(dark[hot], expected_dark[hot], rtol=0.2, atol=3 * read_noise_adu)
    assert np.median(flat) == pytest.approx(1.0, abs=1e-6)
    assert np.std(flat - truth["flat"]) < 0.01


@pytest.mark.parametrize("kind, imagetyp, bunit", [
    ("bias", "Master Bias", "adu"), ("dark", "Master Dark", "adu"), ("flat", "Master Flat", ""),
])
def test_given_master_headers_say_what_they_hold(given, kind, imagetyp, bunit):
    _, header = given[kind]
    raw = [fits.getheader(path) for path in data_paths(FILES[kind])]
    assert header["IMAGETYP"] == imagetyp
    assert header["BUNIT"] == bunit
    assert header["NCOMBINE"] == len(raw)
    assert str(header["HISTORY"]).startswith(f"Median of {len(raw)} ")
    assert "SATURATE" not in header  # a limit of raw counts, not of a master
    filters = {h["FILTER"] for h in raw}
    if len(filters) == 1:
        assert header["FILTER"] == filters.pop()
    else:
        assert "FILTER" not in header  # the bias and dark frames were taken with R and V
    exptimes = {h["EXPTIME"] for h in raw}
    if kind == "flat":
        assert len(exptimes) > 1 and "EXPTIME" not in header  # no single flat's exposure time
    else:
        assert header["EXPTIME"] == exptimes.pop()
    assert "simulate.py" not in repr(header)


def test_write_given_masters_into_a_copy_leaves_the_raw_frames_alone(tmp_path):
    copy = tmp_path / "frames"
    shutil.copytree(data_dir(), copy)
    for name in lab.GIVEN_MASTER_FILES.values():
        (copy / name).unlink()
    raw = tmp_path / "raw_only"
    shutil.copytree(copy, raw)
    with files_unchanged(raw):
        written = given_module.write_given_masters(copy)
    for kind, path in written.items():
        assert path.read_bytes() == (data_dir() / lab.GIVEN_MASTER_FILES[kind]).read_bytes(), kind


def test_given_masters_fail(tmp_path, monkeypatch):
    # A data folder without them: the error names the missing file.
    monkeypatch.setenv(paths_module.DATA_ENV_VAR, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=lab.GIVEN_MASTER_FILES["bias"]):
        given_masters()

    # No description of the night: the error names the file.
    with pytest.raises(night_module.NightFileError, match=night_module.NIGHT_FILE):
        given_module.write_given_masters(tmp_path)
    assert list(tmp_path.iterdir()) == []

    # Missing raw frame: named, nothing written.
    shutil.copy(night_module.night_file(paths_module.BUNDLED_DATA_DIR), tmp_path)
    with pytest.raises(FileNotFoundError, match=lab.BIAS_FILES[0]):
        given_module.write_given_masters(tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == [night_module.NIGHT_FILE]

    # Frames without FILTER or DATE-OBS (a real camera's software may write neither): the masters' headers
    # leave them out rather than invent them.
    factory = FrameFactory(tmp_path)
    for name in lab.BIAS_FILES:
        factory.bias(name)
    for name in lab.DARK_FILES:
        factory.dark(name)
    for name, exptime in zip(lab.FLAT_FILES, lab.FLAT_EXPTIMES_S):
        factory.flat_frame(name, exptime)
    written = given_module.write_given_masters(tmp_path)
    for path in written.values():
        header = fits.getheader(path)
        assert "FILTER" not in header and "DATE-OBS" not in header
    assert fits.getheader(written["dark"])["EXPTIME"] == lab.DARK_EXPTIME_S
