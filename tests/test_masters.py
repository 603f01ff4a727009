"""Tests of ``convenience_functions.masters``: the masters the last notebook uses.

``make_masters`` is an independent, compact re-implementation of the
stacking steps (students have no ``solutions`` package), so it is compared
with the reference module on the bundled frames, and with the factory's
noiseless truth on a small seeded night.
"""

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import solutions
from conftest import files_unchanged
from convenience_functions import data_dir, data_paths, lab
from convenience_functions import paths as paths_module
from convenience_functions.masters import make_masters

RTOL = 1e-5


@pytest.fixture(scope="module")
def bundled_masters(tmp_path_factory):
    """make_masters on the bundled frames, and the reference masters."""
    folder = tmp_path_factory.mktemp("products") / "masters"
    with files_unchanged(data_dir()):
        written = make_masters(folder)
    bias = solutions.combine_bias(data_paths(lab.BIAS_FILES))
    dark = solutions.combine_darks(data_paths(lab.DARK_FILES), bias)
    dark_exptime = fits.getheader(data_paths(lab.DARK_FILES)[0])["EXPTIME"]
    flat = solutions.combine_flats(data_paths(lab.FLAT_FILES), bias, dark, dark_exptime)
    return folder, written, {"bias": bias, "dark": dark, "flat": flat}


def test_make_masters_writes_the_lab_file_names(bundled_masters):
    folder, written, _ = bundled_masters
    assert written == {
        "bias": str(folder / lab.MASTER_BIAS_FILE),
        "dark": str(folder / lab.MASTER_DARK_FILE),
        "flat": str(folder / lab.MASTER_FLAT_FILE),
    }
    assert all(Path(path).is_file() for path in written.values())


@pytest.mark.parametrize("kind", ["bias", "dark", "flat"])
def test_make_masters_equals_reference(bundled_masters, kind):
    _, written, reference = bundled_masters
    with fits.open(written[kind]) as hdulist:
        data = hdulist[0].data
    assert data.dtype == np.dtype(">f4")
    # The dark sits near zero, so the absolute tolerance is relative to its spread.
    atol = RTOL * float(np.max(np.abs(reference[kind])))
    np.testing.assert_allclose(data, reference[kind], rtol=RTOL, atol=atol)


@pytest.mark.parametrize(
    "kind, template",
    [("bias", lab.BIAS_FILES[0]), ("dark", lab.DARK_FILES[0]), ("flat", lab.FLAT_FILES[0])],
)
def test_make_masters_headers(bundled_masters, kind, template):
    _, written, _ = bundled_masters
    header = fits.getheader(written[kind])
    raw_header = fits.getheader(data_paths([template])[0])
    history = " ".join(str(card) for card in header["HISTORY"])
    assert "Median" in history
    assert header["IMAGETYP"] == raw_header["IMAGETYP"]
    assert header["EXPTIME"] == raw_header["EXPTIME"]
    assert "BZERO" not in header and header["BITPIX"] == -32


def test_make_masters_flat_is_normalized(bundled_masters):
    _, written, _ = bundled_masters
    assert np.median(fits.getdata(written["flat"])) == pytest.approx(1.0, abs=1e-6)


def test_make_masters_recovers_the_factory_truth(frames, monkeypatch, tmp_path):
    """On a seeded night pointed to by CCDLAB_DATA, the masters match the truth."""
    ny, nx = frames.shape
    names = {}
    for name in lab.BIAS_FILES[:9]:
        names.setdefault("bias", []).append(frames.bias(name))
    for name in lab.DARK_FILES[:7]:
        names.setdefault("dark", []).append(frames.dark(name))
    for name, exptime in zip(lab.FLAT_FILES, lab.FLAT_EXPTIMES_S):
        names.setdefault("flat", []).append(frames.flat_frame(name, exptime, 60000.0 / exptime))
    monkeypatch.setattr(lab, "BIAS_FILES", lab.BIAS_FILES[:9])
    monkeypatch.setattr(lab, "DARK_FILES", lab.DARK_FILES[:7])
    monkeypatch.setenv(paths_module.DATA_ENV_VAR, str(frames.folder))

    written = make_masters(tmp_path / "out")

    bias = fits.getdata(written["bias"])
    dark = fits.getdata(written["dark"])
    flat = fits.getdata(written["flat"])
    assert bias.shape == dark.shape == flat.shape == (ny, nx)
    read_noise_adu = frames.read_noise_e / frames.gain
    assert np.std(bias - frames.bias_adu) < read_noise_adu  # a median of 9 is quieter than one frame
    expected_dark = frames.dark_e_per_s * lab.DARK_EXPTIME_S / frames.gain
    assert np.median(np.abs(dark - expected_dark)) < read_noise_adu
    assert np.max(np.abs(flat - frames.flat)) < 0.02  # 30000 e- a flat: ~0.3 % noise per pixel


def test_make_masters_fails(tmp_path, monkeypatch):
    with files_unchanged(data_dir()):
        with pytest.raises(ValueError, match=str(data_dir())):
            make_masters(data_dir())
        with pytest.raises(ValueError, match="raw data folder"):
            make_masters(data_dir() / "masters")
    assert not (data_dir() / "masters").exists()

    # Darks of two exposure times cannot make one master dark.
    from conftest import FrameFactory

    raw = tmp_path / "raw"
    raw.mkdir()
    factory = FrameFactory(raw)
    for name in lab.BIAS_FILES[:3]:
        factory.bias(name)
    factory.dark(lab.DARK_FILES[0], exptime=30.0)
    factory.dark(lab.DARK_FILES[1], exptime=60.0)
    for name, exptime in zip(lab.FLAT_FILES, lab.FLAT_EXPTIMES_S):
        factory.flat_frame(name, exptime)
    monkeypatch.setattr(lab, "BIAS_FILES", lab.BIAS_FILES[:3])
    monkeypatch.setattr(lab, "DARK_FILES", lab.DARK_FILES[:2])
    monkeypatch.setenv(paths_module.DATA_ENV_VAR, str(raw))
    with pytest.raises(ValueError, match="EXPTIME"):
        make_masters(tmp_path / "out")
    with pytest.raises(ValueError, match=str(raw)):
        make_masters(raw)
