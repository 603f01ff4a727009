"""Tests of the reference solution module ``solutions``.

Three kinds of evidence:

* the small seeded frames of ``conftest.FrameFactory`` checked against
  ccdproc, an independent implementation of the same steps, and against the
  factory's own noiseless components;
* every wrong call raising the documented exception with a message that
  names the culprit, while no input file changes;
* the bundled frames checked against the simulator's truth (at the end of
  this file).
"""

import inspect
import json
import math
import os
import warnings
from pathlib import Path

import astropy.units as u
import ccdproc
import numpy as np
import pytest
from astropy.io import fits
from astropy.nddata import CCDData
from astropy.wcs import FITSFixedWarning

import solutions
from convenience_functions import data_dir, data_path, lab
from convenience_functions import night as night_module
from convenience_functions import paths as paths_module
from conftest import sha256_of

#: The reference functions, as each module lists them: notebooks 01-05's
#: (solutions/reduction.py), then notebook 06's (solutions/camera.py).
PUBLIC_API = {
    "solutions.reduction": tuple(solutions.reduction.__all__),
    "solutions.camera": tuple(solutions.camera.__all__),
}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def reduce_with_solutions(night, out_dir):
    """Run the whole reference reduction on a night; return arrays and product paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(exist_ok=True)
    bias = solutions.combine_bias(night["bias"])
    dark = solutions.combine_darks(night["dark"], bias)
    dark_exptime = fits.getheader(night["dark"][0])["EXPTIME"]
    flat = solutions.combine_flats(night["flat"], bias, dark, dark_exptime)
    paths = {
        "bias": str(out_dir / lab.MASTER_BIAS_FILE),
        "dark": str(out_dir / lab.MASTER_DARK_FILE),
        "flat": str(out_dir / lab.MASTER_FLAT_FILE),
        "science": str(out_dir / lab.CALIBRATED_SCIENCE_FILE),
    }
    solutions.save_fits(bias, night["bias"][0], "master bias", paths["bias"])
    solutions.save_fits(dark, night["dark"][0], "master dark", paths["dark"])
    solutions.save_fits(flat, night["flat"][0], "master flat", paths["flat"])
    science = solutions.process_data(night["science"], paths["science"], paths["bias"], paths["dark"], paths["flat"])
    return {"bias": bias, "dark": dark, "flat": flat, "science": science, "paths": paths}


def reduce_with_ccdproc(night):
    """The same reduction done by ccdproc, reading the raw files itself."""
    with warnings.catch_warnings():
        # CCDData.read parses a WCS and notes that it derived MJD-OBS from DATE-OBS.
        warnings.simplefilter("ignore", FITSFixedWarning)
        return _reduce_with_ccdproc(night)


def _reduce_with_ccdproc(night):
    bias = ccdproc.combine(night["bias"], method="median", unit="adu")
    darks = [ccdproc.subtract_bias(CCDData.read(name, unit="adu"), bias) for name in night["dark"]]
    dark = ccdproc.combine(darks, method="median")
    dark.meta["EXPTIME"] = fits.getheader(night["dark"][0])["EXPTIME"]

    def bias_and_dark(name):
        frame = ccdproc.subtract_bias(CCDData.read(name, unit="adu"), bias)
        return ccdproc.subtract_dark(frame, dark, exposure_time="EXPTIME", exposure_unit=u.s, scale=True)

    # The textbook recipe: each flat scaled to a common level (its median) before the median combine.
    flat = ccdproc.combine([bias_and_dark(name) for name in night["flat"]], method="median",
                           scale=lambda data: 1.0 / np.ma.median(data))
    science = bias_and_dark(night["science"])
    # ccdproc divides by the flat's mean unless told otherwise; the lab uses the median.
    science = ccdproc.flat_correct(science, flat, norm_value=np.median(flat.data))
    return {
        "bias": bias.data,
        "dark": dark.data,
        "flat": flat.data / np.median(flat.data),
        "science": science.data,
    }


def write_text(path, text):
    path = Path(path)
    path.write_text(text)
    return str(path)


# ---------------------------------------------------------------------------
# The module's surface
# ---------------------------------------------------------------------------


def test_public_api_is_exported_with_docstrings():
    assert solutions.__all__ == [name for names in PUBLIC_API.values() for name in names]
    assert len(set(solutions.__all__)) == len(solutions.__all__) == 13
    for module, names in PUBLIC_API.items():
        for name in names:
            function = getattr(solutions, name)
            assert function.__module__ == module, name
            doc = inspect.getdoc(function)
            assert doc and "Parameters" in doc and "Raises" in doc, name


def test_calc_dark_current_default_gain_is_the_nights_gain(tmp_path, monkeypatch):
    """Without ``gain``, the gain of the night being reduced (CCDLAB_DATA's night.json), read at the call."""
    dark, bias = data_path(lab.FIRST_DARK_FILE), data_path(lab.FIRST_BIAS_FILE)
    assert solutions.calc_dark_current(dark, bias) == solutions.calc_dark_current(dark, bias, gain=lab.GAIN_E_PER_ADU)
    described = json.loads((data_dir() / night_module.NIGHT_FILE).read_text())
    described["camera"]["gain_e_per_adu"] = 1.3
    (tmp_path / night_module.NIGHT_FILE).write_text(json.dumps(described))
    monkeypatch.setenv(paths_module.DATA_ENV_VAR, str(tmp_path))
    assert solutions.calc_dark_current(dark, bias) == pytest.approx(solutions.calc_dark_current(dark, bias, gain=1.3))


# ---------------------------------------------------------------------------
# load_stack
# ---------------------------------------------------------------------------


def test_load_stack_holds_every_frame_in_order(frames, night):
    names = night["dark"] + night["bias"][:2]
    stack = solutions.load_stack([Path(name) for name in names])  # Paths work too
    assert stack.shape == (len(names),) + frames.shape
    assert stack.dtype == np.float32
    for index, name in enumerate(names):
        np.testing.assert_array_equal(stack[index], fits.getdata(name).astype(np.float64))


def test_load_stack_keeps_float64_frames_exact(frames):
    # A float64 frame after a uint16 one: the stack widens instead of rounding.
    values = frames.rng.normal(0.0, 1.0, frames.shape)
    names = [frames.bias("b.fit")] + [frames.write(f"f{i}.fits", values + i, dtype=np.float64) for i in range(2)]
    stack = solutions.load_stack(names)
    assert stack.dtype == np.float64
    np.testing.assert_array_equal(stack[0], fits.getdata(names[0]))
    np.testing.assert_array_equal(stack[2], values + 1)


def test_load_stack_fails(frames, tmp_path, unchanged):
    good = [frames.bias("b0.fit"), frames.bias("b1.fit")]
    odd = frames.write("odd.fit", np.zeros((10, 12)), exptime=0.0)
    text = write_text(frames.folder / "notes.fit", "SIMPLE is not what this file is\n")
    empty = write_text(frames.folder / "empty.fit", "")
    missing = str(frames.folder / "missing.fit")
    with unchanged(frames.folder):
        with pytest.raises(ValueError, match="filenames is empty"):
            solutions.load_stack([])
        with pytest.raises(ValueError, match=r"odd\.fit.*\(10, 12\).*\(24, 40\)"):
            solutions.load_stack(good + [odd])
        with pytest.raises(FileNotFoundError, match=r"missing\.fit"):
            solutions.load_stack(good + [missing])
        with pytest.raises(ValueError, match=r"notes\.fit.*not a readable FITS"):
            solutions.load_stack([text] + good)
        with pytest.raises(ValueError, match=r"empty\.fit.*not a readable FITS"):
            solutions.load_stack(good + [empty])
        with pytest.raises(ValueError, match=r"raw.*is a folder"):
            solutions.load_stack([str(frames.folder)])
        with pytest.raises(TypeError, match="filenames.*single name"):
            solutions.load_stack(good[0])


# ---------------------------------------------------------------------------
# combine_bias, combine_darks, combine_flats
# ---------------------------------------------------------------------------


def test_combine_bias_matches_ccdproc(night):
    ours = solutions.combine_bias(night["bias"])
    theirs = ccdproc.combine(night["bias"], method="median", unit="adu").data
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0)


def test_combine_bias_median_resists_an_outlier_frame(frames):
    # Two good biases and one with a saturated streak: the median ignores it.
    names = [frames.bias(f"b{i}.fit") for i in range(2)]
    streaked = fits.getdata(names[0]).astype(float)
    streaked[5, :] = lab.SATURATION_ADU
    names.append(frames.write("streak.fit", streaked, exptime=0.0))
    master = solutions.combine_bias(names)
    assert master[5].max() < frames.bias_adu.max() + 50


@pytest.mark.parametrize(
    "case, error, message",
    [
        ("empty", ValueError, "filenames is empty"),
        ("odd shape", ValueError, r"wide\.fit.*\(24, 41\).*first file.*\(24, 40\)"),
        ("missing", FileNotFoundError, r"filenames.*lost\.fit"),
        ("text", ValueError, r"log\.fit.*not a readable FITS"),
        ("empty file", ValueError, r"blank\.fit.*not a readable FITS"),
        ("no image", ValueError, r"header_only\.fit.*no image data"),
        ("cube", ValueError, r"cube\.fit.*3-D"),
    ],
)
def test_combine_bias_fails(frames, unchanged, case, error, message):
    good = [frames.bias("b0.fit"), frames.bias("b1.fit")]
    folder = frames.folder
    if case == "empty":
        names = []
    elif case == "odd shape":
        names = good + [frames.write("wide.fit", np.zeros((24, 41)), exptime=0.0)]
    elif case == "missing":
        names = good + [str(folder / "lost.fit")]
    elif case == "text":
        names = good + [write_text(folder / "log.fit", "observing log\n" * 100)]
    elif case == "empty file":
        names = good + [write_text(folder / "blank.fit", "")]
    elif case == "no image":
        fits.PrimaryHDU().writeto(folder / "header_only.fit")
        names = good + [str(folder / "header_only.fit")]
    else:
        fits.PrimaryHDU(np.zeros((2,) + frames.shape, dtype=np.uint16)).writeto(folder / "cube.fit")
        names = [str(folder / "cube.fit")] + good
    with unchanged(folder):
        with pytest.raises(error, match=message):
            solutions.combine_bias(names)


def test_combine_darks_matches_ccdproc_and_truth(frames, night):
    bias = solutions.combine_bias(night["bias"])
    bias_before = bias.copy()
    ours = solutions.combine_darks(night["dark"], bias)
    np.testing.assert_array_equal(bias, bias_before)  # input untouched
    theirs = reduce_with_ccdproc(night)["dark"]
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-4)
    # The hot pixels stand out by their known dark signal (ADU in 60 s).
    expected = frames.dark_e_per_s * lab.DARK_EXPTIME_S / frames.gain
    hot = frames.hot_pixels
    assert np.all(np.abs(ours[hot] - expected[hot]) < 0.1 * expected[hot])


def test_combine_flats_matches_ccdproc(night, tmp_path):
    ours = reduce_with_solutions(night, tmp_path / "out")
    theirs = reduce_with_ccdproc(night)
    np.testing.assert_allclose(ours["flat"], theirs["flat"], rtol=1e-6, atol=0)


def test_combine_flats_is_an_independent_scaled_median(night):
    # Written again from the recipe, in float64: bias and scaled dark off each
    # flat, each over its own median, median of the scaled flats, over its median.
    bias = solutions.combine_bias(night["bias"])
    dark = solutions.combine_darks(night["dark"], bias)
    scaled = []
    for name in night["flat"]:
        with fits.open(name) as hdulist:
            flat = hdulist[0].data.astype(np.float64) - bias - dark * hdulist[0].header["EXPTIME"] / lab.DARK_EXPTIME_S
        scaled.append(flat / np.median(flat))
    expected = np.median(scaled, axis=0)
    expected /= np.median(expected)
    ours = solutions.combine_flats(night["flat"], bias, dark, lab.DARK_EXPTIME_S)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=0)
    # The factory's flats differ in level, so leaving out the scaling shows.
    unscaled = np.median([s * np.median(fits.getdata(n) - bias) for s, n in zip(scaled, night["flat"])], axis=0)
    assert not np.allclose(ours, unscaled / np.median(unscaled), rtol=1e-4, atol=0)


def test_combine_flats_is_normalized_by_its_median_not_its_mean(frames, night):
    bias = solutions.combine_bias(night["bias"])
    dark = solutions.combine_darks(night["dark"], bias)
    inputs = (bias.copy(), dark.copy())
    flat = solutions.combine_flats(night["flat"], bias, dark, lab.DARK_EXPTIME_S)
    np.testing.assert_array_equal(bias, inputs[0])
    np.testing.assert_array_equal(dark, inputs[1])
    assert np.median(flat) == pytest.approx(1.0, abs=1e-6)
    # The factory's flat has a dust spot and a gradient, so its mean is
    # measurably below its median: normalizing by the mean would show.
    assert abs(np.mean(flat) - 1.0) > 1e-3
    np.testing.assert_allclose(flat, frames.flat, atol=0.02)


def test_combine_flats_subtracts_the_dark_scaled_to_each_flat(frames, night):
    # With a huge fake dark the result depends strongly on the scaling: check
    # it against the formula, flat by flat, with each flat's own EXPTIME.
    bias = solutions.combine_bias(night["bias"])
    dark = np.full(frames.shape, 500.0)  # ADU in 100 s
    flat = solutions.combine_flats(night["flat"], bias, dark, 100.0)
    calibrated = [
        fits.getdata(name).astype(float) - bias - dark * fits.getheader(name)["EXPTIME"] / 100.0
        for name in night["flat"]
    ]
    expected = np.median([image / np.median(image) for image in calibrated], axis=0)
    np.testing.assert_allclose(flat, expected / np.median(expected), rtol=1e-5)


def test_combine_darks_fails(frames, night, unchanged):
    bias = solutions.combine_bias(night["bias"])
    no_exptime = frames.write("noexp.fit", fits.getdata(night["dark"][0]))
    other_exptime = frames.dark("dark30.fit", exptime=30.0)
    with unchanged(frames.folder):
        with pytest.raises(ValueError, match="filenames is empty"):
            solutions.combine_darks([], bias)
        with pytest.raises(ValueError, match=r"master_bias.*\(24, 39\).*\(24, 40\)"):
            solutions.combine_darks(night["dark"], bias[:, 1:])
        with pytest.raises(TypeError, match="master_bias.*file name"):
            solutions.combine_darks(night["dark"], night["bias"][0])
        with pytest.raises(ValueError, match=r"noexp\.fit.*EXPTIME"):
            solutions.combine_darks(night["dark"] + [no_exptime], bias)
        with pytest.raises(ValueError, match=r"dark30\.fit.*30\.0 s"):
            solutions.combine_darks(night["dark"] + [other_exptime], bias)


@pytest.mark.parametrize("bad_exptime", [0.0, -3.0, "long", None])
def test_combine_flats_fails_on_bad_flat_exptime(frames, night, unchanged, bad_exptime):
    bias = solutions.combine_bias(night["bias"])
    dark = solutions.combine_darks(night["dark"], bias)
    data = fits.getdata(night["flat"][0])
    bad = frames.write("badexp.fit", data, exptime=bad_exptime, imagetyp="Flat Field")
    with unchanged(frames.folder):
        with pytest.raises(ValueError, match=r"badexp\.fit.*EXPTIME"):
            solutions.combine_flats(night["flat"][:1] + [bad], bias, dark, lab.DARK_EXPTIME_S)


def test_combine_flats_fails(frames, night, unchanged):
    bias = solutions.combine_bias(night["bias"])
    dark = solutions.combine_darks(night["dark"], bias)
    flats = night["flat"]
    # "Flats" that are really biases: nothing is left after subtraction.
    unlit = [frames.write(f"unlit{i}.fit", fits.getdata(name), exptime=2.0) for i, name in enumerate(night["bias"][:3])]
    with unchanged(frames.folder):
        with pytest.raises(ValueError, match="filenames is empty"):
            solutions.combine_flats([], bias, dark, 60.0)
        with pytest.raises(ValueError, match=r"master_bias.*\(23, 40\).*\(24, 40\)"):
            solutions.combine_flats(flats, bias[1:], dark, 60.0)
        with pytest.raises(ValueError, match=r"master_dark.*\(24, 40, 1\)"):
            solutions.combine_flats(flats, bias, dark[..., None], 60.0)
        with pytest.raises(ValueError, match="dark_exptime"):
            solutions.combine_flats(flats, bias, dark, 0)
        with pytest.raises(TypeError, match="dark_exptime"):
            solutions.combine_flats(flats, bias, dark, "60")
        with pytest.raises(ValueError, match=r"unlit0\.fit.*median"):
            solutions.combine_flats(unlit, bias, dark, 60.0)


# ---------------------------------------------------------------------------
# calc_dark_current
# ---------------------------------------------------------------------------


def test_calc_dark_current_matches_formula_and_factory_truth(frames, night):
    dark_name, bias_name = night["dark"][0], night["bias"][0]
    measured = solutions.calc_dark_current(dark_name, bias_name)
    by_hand = (
        np.mean(fits.getdata(dark_name).astype(np.float64) - fits.getdata(bias_name))
        * lab.GAIN_E_PER_ADU
        / fits.getheader(dark_name)["EXPTIME"]
    )
    assert isinstance(measured, float)
    assert measured == pytest.approx(by_hand, rel=1e-12)
    # Truth: mean of the factory's dark current.  Each pixel of (dark - bias)
    # carries about sqrt(2 * 8**2 + 0.7 * 60) = 13 e- of noise, so the mean of
    # 960 pixels is uncertain by 0.4 e- out of 42 e-: 1%.  Allow 5%.
    assert measured == pytest.approx(frames.dark_e_per_s.mean(), rel=0.05)
    # The gain enters linearly.
    assert solutions.calc_dark_current(dark_name, bias_name, gain=1.0) == pytest.approx(measured / lab.GAIN_E_PER_ADU)


def test_calc_dark_current_does_not_wrap_uint16(frames):
    # Dark below the bias in every pixel: the mean must come out negative.
    bias = frames.write("bias.fit", np.full(frames.shape, 1000), exptime=0.0)
    dark = frames.write("dark.fit", np.full(frames.shape, 990), exptime=10.0)
    assert solutions.calc_dark_current(dark, bias) == pytest.approx(-10 * lab.GAIN_E_PER_ADU / 10.0)


def test_calc_dark_current_fails(frames, night, unchanged):
    dark, bias = night["dark"][0], night["bias"][0]
    no_exptime = frames.write("noexp.fit", fits.getdata(dark))
    zero = frames.write("zero.fit", fits.getdata(dark), exptime=0.0)
    small = frames.write("small.fit", np.zeros((4, 4)), exptime=60.0)
    text = write_text(frames.folder / "dark.txt", "1 2 3\n")
    with unchanged(frames.folder):
        with pytest.raises(FileNotFoundError, match=r"nope\.fit"):
            solutions.calc_dark_current(str(frames.folder / "nope.fit"), bias)
        with pytest.raises(FileNotFoundError, match=r"bias_filename.*gone\.fit"):
            solutions.calc_dark_current(dark, str(frames.folder / "gone.fit"))
        with pytest.raises(ValueError, match=r"dark\.txt.*not a readable FITS"):
            solutions.calc_dark_current(text, bias)
        with pytest.raises(ValueError, match=r"noexp\.fit.*no EXPTIME"):
            solutions.calc_dark_current(no_exptime, bias)
        with pytest.raises(ValueError, match=r"dark_filename.*zero\.fit.*EXPTIME = 0\.0"):
            solutions.calc_dark_current(zero, bias)
        with pytest.raises(ValueError, match=r"small\.fit.*\(4, 4\).*\(24, 40\)"):
            solutions.calc_dark_current(dark, small)
        with pytest.raises(ValueError, match="gain"):
            solutions.calc_dark_current(dark, bias, gain=-2.0)


# ---------------------------------------------------------------------------
# save_fits
# ---------------------------------------------------------------------------


def test_save_fits_writes_float32_with_template_header(frames, tmp_path):
    template = frames.dark("dark.fit")
    data = frames.rng.normal(7.0, 3.0, frames.shape)  # float64 on purpose
    data_before = data.copy()
    out = tmp_path / "master.fits"
    solutions.save_fits(data, template, "Median of 5 darks", out)
    np.testing.assert_array_equal(data, data_before)
    with fits.open(out) as hdulist:
        header, written = hdulist[0].header, hdulist[0].data
        assert header["BITPIX"] == -32
        assert "BZERO" not in header and "BSCALE" not in header
        assert header["EXPTIME"] == lab.DARK_EXPTIME_S
        assert header["IMAGETYP"] == "Dark Frame"
        assert "Median of 5 darks" in str(header["HISTORY"])
        assert written.dtype.kind == "f" and written.dtype.itemsize == 4
        np.testing.assert_array_equal(written, data.astype(np.float32))
    assert fits.getheader(template)["BITPIX"] == 16  # the template is untouched


def test_save_fits_replaces_a_previous_product(frames, tmp_path):
    template = frames.bias("bias.fit")
    out = tmp_path / "product.fits"
    solutions.save_fits(np.zeros(frames.shape), template, "first", out)
    solutions.save_fits(np.ones(frames.shape), template, "second", out)
    np.testing.assert_array_equal(fits.getdata(out), 1.0)
    assert "second" in str(fits.getheader(out)["HISTORY"])
    assert "first" not in str(fits.getheader(out)["HISTORY"])


def test_save_fits_fails(frames, tmp_path, monkeypatch, unchanged):
    template = frames.bias("bias.fit")
    data = np.zeros(frames.shape)
    text = write_text(frames.folder / "header.txt", "EXPTIME = 60\n")
    link = frames.folder / "link.fit"
    link.symlink_to(template)
    monkeypatch.chdir(frames.folder)
    with unchanged(frames.folder):
        for same in (template, "bias.fit", "./bias.fit", "../raw/bias.fit", Path(template), str(link)):
            with pytest.raises(ValueError, match=r"out_filename.*same file as template_filename"):
                solutions.save_fits(data, template, "oops", same)
        with pytest.raises(FileNotFoundError, match=r"nothere\.fit"):
            solutions.save_fits(data, "nothere.fit", "x", tmp_path / "a.fits")
        with pytest.raises(ValueError, match=r"header\.txt.*not a readable FITS"):
            solutions.save_fits(data, text, "x", tmp_path / "a.fits")
        with pytest.raises(FileNotFoundError, match="no_such_folder"):
            solutions.save_fits(data, template, "x", tmp_path / "no_such_folder" / "a.fits")
        with pytest.raises(ValueError, match=r"data.*2-D.*\(3, 24, 40\)"):
            solutions.save_fits(np.zeros((3,) + frames.shape), template, "x", tmp_path / "a.fits")
        with pytest.raises(TypeError, match="history"):
            solutions.save_fits(data, template, 42, tmp_path / "a.fits")
    assert not (tmp_path / "a.fits").exists()


# ---------------------------------------------------------------------------
# process_data
# ---------------------------------------------------------------------------


def test_full_calibration_matches_ccdproc(night, tmp_path):
    ours = reduce_with_solutions(night, tmp_path / "out")
    theirs = reduce_with_ccdproc(night)
    np.testing.assert_allclose(ours["bias"], theirs["bias"], rtol=1e-6, atol=0)
    np.testing.assert_allclose(ours["science"], theirs["science"], rtol=1e-5, atol=0)


def test_process_data_recovers_factory_sky(frames, night, tmp_path):
    # Noiseless truth: sky_e_per_s * exptime / gain ADU.  Per pixel noise is
    # dominated by Poisson noise of ~3600-14000 e- plus 8 e- read noise (and
    # the masters' smaller noise), so |z| beyond 6 would be a real error.
    science = reduce_with_solutions(night, tmp_path / "out")["science"]
    expected = night["sky_e_per_s"] * lab.SCIENCE_EXPTIME_S / frames.gain
    electrons = expected * frames.gain * frames.flat + frames.dark_e_per_s * lab.SCIENCE_EXPTIME_S
    sigma = np.sqrt(electrons + frames.read_noise_e**2) / frames.gain / frames.flat
    z = (science - expected) / sigma
    assert np.max(np.abs(z)) < 6
    assert abs(z.mean()) < 5 / math.sqrt(z.size) + 0.1  # the masters add a little shared noise
    assert 0.8 < z.std() < 1.3


def test_process_data_writes_a_marked_float32_file(night, tmp_path):
    result = reduce_with_solutions(night, tmp_path / "out")
    with fits.open(result["paths"]["science"]) as hdulist:
        header, written = hdulist[0].header, hdulist[0].data
        assert header[lab.CALIBRATED_KEYWORD] is True
        assert header["BITPIX"] == -32 and "BZERO" not in header
        assert header["EXPTIME"] == lab.SCIENCE_EXPTIME_S
        assert header["IMAGETYP"] == "Light Frame"
        assert lab.MASTER_DARK_FILE in str(header["HISTORY"])
        np.testing.assert_array_equal(written, result["science"].astype(np.float32))
    assert lab.CALIBRATED_KEYWORD not in fits.getheader(night["science"])


def test_process_data_reads_dark_exptime_from_the_master_header(frames, tmp_path):
    shape = frames.shape
    raw = frames.write("raw.fit", np.full(shape, 1000), exptime=180.0)
    bias = frames.write("bias.fits", np.full(shape, 100.0), dtype=np.float32)
    flat = frames.write("flat.fits", np.full(shape, 2.0), dtype=np.float32)
    dark_data = np.full(shape, 30.0)
    results = {}
    for dark_exptime in (60.0, 120.0):
        template = frames.write(f"t{dark_exptime:g}.fit", np.zeros(shape), exptime=dark_exptime)
        dark = str(tmp_path / f"dark{dark_exptime:g}.fits")
        solutions.save_fits(dark_data, template, "dark", dark)
        results[dark_exptime] = solutions.process_data(raw, str(tmp_path / "cal.fits"), bias, dark, flat)
    np.testing.assert_allclose(results[60.0], (1000 - 100 - 30 * 180 / 60) / 2)
    np.testing.assert_allclose(results[120.0], (1000 - 100 - 30 * 180 / 120) / 2)


def test_process_data_does_not_wrap_around(frames, tmp_path):
    # A uint16 raw frame partly below the bias: those pixels must become
    # negative, not ~65000 as they would if subtracted in uint16.
    shape = frames.shape
    raw_values = np.full(shape, 1500)
    raw_values[:, : shape[1] // 2] = 1400
    raw = frames.write("raw.fit", raw_values, exptime=10.0)
    bias = frames.write("bias.fit", np.full(shape, 1450), exptime=0.0)
    dark_template = frames.write("dark.fit", np.zeros(shape), exptime=60.0)
    flat = frames.write("flat.fits", np.ones(shape), dtype=np.float32)
    assert fits.getdata(raw).dtype == np.uint16
    result = solutions.process_data(raw, str(tmp_path / "cal.fits"), bias, dark_template, flat)
    np.testing.assert_array_equal(result[:, : shape[1] // 2], -50.0)
    np.testing.assert_array_equal(result[:, shape[1] // 2 :], 50.0)
    np.testing.assert_array_equal(fits.getdata(tmp_path / "cal.fits"), result)


@pytest.fixture
def masters(night, tmp_path):
    """Master files of the factory night, in their own folder."""
    return reduce_with_solutions(night, tmp_path / "masters")["paths"]


@pytest.mark.parametrize("victim", ["filename", "bias_file", "dark_file", "flat_file"])
def test_process_data_fails_to_overwrite_an_input(night, masters, monkeypatch, unchanged, victim):
    inputs = {
        "filename": night["science"],
        "bias_file": masters["bias"],
        "dark_file": masters["dark"],
        "flat_file": masters["flat"],
    }
    folder = Path(inputs[victim]).parent
    monkeypatch.chdir(folder)
    name = Path(inputs[victim]).name
    with unchanged(folder):
        for same in (inputs[victim], name, f"./{name}", f"../{folder.name}/{name}"):
            with pytest.raises(ValueError, match=rf"new_filename.*same file as {victim}"):
                solutions.process_data(new_filename=same, **inputs)


def test_process_data_fails(frames, night, masters, tmp_path, unchanged):
    out = str(tmp_path / "cal.fits")
    sci, bias, dark, flat = night["science"], masters["bias"], masters["dark"], masters["flat"]
    shape = frames.shape
    no_exptime_sci = frames.write("noexp.fit", fits.getdata(sci))
    negative_sci = frames.write("negexp.fit", fits.getdata(sci), exptime=-180.0)
    no_exptime_dark = frames.write("darknoexp.fits", fits.getdata(dark), dtype=np.float32)
    small_bias = frames.write("smallbias.fits", np.zeros((shape[0], shape[1] - 2)), dtype=np.float32)
    wide_dark = frames.write("widedark.fits", np.zeros((shape[0], shape[1] + 2)), exptime=60.0, dtype=np.float32)
    tall_flat = frames.write("tallflat.fits", np.ones((shape[0] + 1, shape[1])), dtype=np.float32)
    dead_flat = frames.write("deadflat.fits", np.zeros(shape), dtype=np.float32)
    text = write_text(frames.folder / "flat.txt", "not a flat\n")
    with unchanged(frames.folder), unchanged(Path(bias).parent):
        with pytest.raises(FileNotFoundError, match=r"filename.*absent\.fit"):
            solutions.process_data(str(frames.folder / "absent.fit"), out, bias, dark, flat)
        with pytest.raises(FileNotFoundError, match=r"flat_file.*absent\.fits"):
            solutions.process_data(sci, out, bias, dark, str(frames.folder / "absent.fits"))
        with pytest.raises(ValueError, match=r"flat_file.*flat\.txt.*not a readable FITS"):
            solutions.process_data(sci, out, bias, dark, text)
        with pytest.raises(ValueError, match=r"noexp\.fit.*no EXPTIME"):
            solutions.process_data(no_exptime_sci, out, bias, dark, flat)
        with pytest.raises(ValueError, match=r"filename.*negexp\.fit.*EXPTIME = -180"):
            solutions.process_data(negative_sci, out, bias, dark, flat)
        with pytest.raises(ValueError, match=r"dark_file.*darknoexp\.fits.*no EXPTIME"):
            solutions.process_data(sci, out, bias, no_exptime_dark, flat)
        with pytest.raises(ValueError, match=r"bias_file.*smallbias\.fits.*\(24, 38\).*\(24, 40\)"):
            solutions.process_data(sci, out, small_bias, dark, flat)
        with pytest.raises(ValueError, match=r"dark_file.*widedark\.fits.*\(24, 42\).*\(24, 40\)"):
            solutions.process_data(sci, out, bias, wide_dark, flat)
        with pytest.raises(ValueError, match=r"flat_file.*tallflat\.fits.*\(25, 40\).*\(24, 40\)"):
            solutions.process_data(sci, out, bias, dark, tall_flat)
        with pytest.raises(ValueError, match=r"flat_file.*deadflat\.fits.*median"):
            solutions.process_data(sci, out, bias, dark, dead_flat)
        with pytest.raises(FileNotFoundError, match="no_folder"):
            solutions.process_data(sci, str(tmp_path / "no_folder" / "cal.fits"), bias, dark, flat)
    assert not os.path.exists(out)


# ---------------------------------------------------------------------------
# The bundled frames against the simulator's truth
# ---------------------------------------------------------------------------


def block_means(image, size=10):
    """Means of ``size`` x ``size`` blocks (the ragged edge is dropped)."""
    ny, nx = (side // size * size for side in image.shape)
    return image[:ny, :nx].reshape(ny // size, size, nx // size, size).mean(axis=(1, 3))


def rms(values):
    return float(np.sqrt(np.mean(np.square(values))))


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """The bundled night reduced once by the reference, with the simulator's truth."""
    from convenience_functions import data_dir, data_path, data_paths
    from sample_data import simulate

    truth_file = simulate.truth_path(data_dir())
    if not truth_file.is_file():
        pytest.fail(f"{truth_file} is missing: the bundled night is not there (run `ccdlab data`)")
    truth = json.loads(truth_file.read_text())
    true = simulate.true_components(tuple(truth["shape"]), truth["seed"])
    night = {
        "bias": data_paths(lab.BIAS_FILES),
        "dark": data_paths(lab.DARK_FILES),
        "flat": data_paths(lab.FLAT_FILES),
        "science": data_path(lab.SCIENCE_FILE),
    }
    digests = sha256_of(night["bias"] + night["dark"] + night["flat"] + [night["science"]])
    reduced = reduce_with_solutions(night, tmp_path_factory.mktemp("bundled") / lab.REDUCED_DIRNAME)
    assert sha256_of(digests) == digests, "the reduction changed a raw frame"
    return {"truth": truth, "true": true, "night": night, "reduced": reduced}


def test_bundled_calc_dark_current_matches_truth(bundled):
    # One dark minus one bias: each pixel carries sqrt(2 * 10**2 + 36) = 15 e-
    # of noise, so over 40 000 pixels the mean is good to 0.1 e- of 35 e-
    # (0.2 %); cosmic rays add well under 1 %.  5 % leaves room for any size.
    truth = bundled["truth"]
    measured = solutions.calc_dark_current(bundled["night"]["dark"][0], bundled["night"]["bias"][0])
    assert measured == pytest.approx(truth["mean_dark_current_e_per_s"], rel=0.05)
    assert solutions.calc_dark_current(bundled["night"]["dark"][0], bundled["night"]["bias"][0], gain=1.0) == (
        pytest.approx(measured / truth["gain_e_per_adu"])
    )


def test_bundled_master_bias_matches_true_pattern(bundled):
    truth, true = bundled["truth"], bundled["true"]
    residual = bundled["reduced"]["bias"] - true["bias_adu"]
    n_frames = len(bundled["night"]["bias"])
    # Expected scatter of a median of N frames: about 1.25 sigma / sqrt(N)
    # for large N; for N = 20 integer frames, measure it on simulated pixels
    # with the same read noise and rounding to whole ADU.
    rng = np.random.default_rng(0)
    offsets = rng.uniform(0.0, 1.0, (50_000, 1))
    reads = np.rint(offsets + rng.normal(0.0, truth["read_noise_adu"], (50_000, n_frames)))
    expected_std = float(np.std(np.median(reads, axis=1) - offsets[:, 0]))
    assert expected_std == pytest.approx(1.2533 * truth["read_noise_adu"] / math.sqrt(n_frames), rel=0.05)
    # The sample std of 40 000 pixels is good to 0.4 %; 5 % allows for the
    # Monte Carlo, yet a mean combine (-20 %) or half the frames (+40 %) fail.
    assert residual.std() == pytest.approx(expected_std, rel=0.05)
    assert abs(residual.mean()) < 5 * expected_std / math.sqrt(residual.size)


def test_bundled_master_flat_matches_true_flat(bundled):
    truth, true = bundled["truth"], bundled["true"]
    reduced, flat = bundled["reduced"], bundled["true"]["flat"]
    residual = reduced["flat"] - flat
    # Expected noise: each flat i holds level_i * flat ADU with photon and
    # read noise; the master bias error is common to all five.  Median and
    # normalize simulated pixels with exactly that noise.
    gain, read_adu = truth["gain_e_per_adu"], truth["read_noise_adu"]
    levels = np.asarray(truth["flat_levels_adu"])[:, None] * flat.ravel()[None, :]
    rng = np.random.default_rng(1)
    noisy = levels + rng.standard_normal(levels.shape) * np.sqrt(levels / gain + read_adu**2 + 1 / 12)
    noisy -= rng.normal(0.0, np.std(reduced["bias"] - true["bias_adu"]), levels.shape[1])
    scaled = noisy / np.median(noisy, axis=1, keepdims=True)
    simulated = np.median(scaled, axis=0)
    expected_rms = float(np.std(simulated / np.median(simulated) - flat.ravel()))
    assert residual.std() == pytest.approx(expected_rms, rel=0.05)
    # The best any combination of these flats can do is their scaled mean
    # (the median gives up some of it to ignore outliers): within 1.3 times.
    ideal = scaled.mean(axis=0)
    ideal_rms = float(np.std(ideal / np.median(ideal) - flat.ravel()))
    assert residual.std() <= 1.3 * ideal_rms
    # A median of the unscaled flats mostly picks the middle one: far noisier.
    unscaled = np.median(noisy, axis=0)
    assert np.std(unscaled / np.median(unscaled) - flat.ravel()) > 1.3 * ideal_rms
    # Normalized to the right level: the mean residual is a small fraction of
    # the per-pixel noise (normalizing by the mean would shift it by ~1 rms).
    assert abs(residual.mean()) < 0.1 * expected_rms
    # No large-scale structure: 10x10 block means are pure noise (rms/10)...
    block_noise = expected_rms / 10
    assert rms(block_means(residual)) < 1.5 * block_noise

    # ...whereas the two classic mistakes leave structure many times larger.
    by_mean = reduced["flat"] * np.median(reduced["flat"]) / np.mean(reduced["flat"])
    assert abs(np.mean(by_mean - flat)) > 0.5 * expected_rms
    assert rms(block_means(by_mean - flat)) > 3 * block_noise
    dark_exptime = fits.getheader(bundled["night"]["dark"][0])["EXPTIME"]
    no_bias = solutions.combine_flats(
        bundled["night"]["flat"], np.zeros_like(reduced["bias"]), reduced["dark"], dark_exptime
    )
    assert rms(block_means(no_bias - flat)) > 3 * block_noise


def test_bundled_science_recovers_true_sky(bundled):
    truth, true, night = bundled["truth"], bundled["true"], bundled["night"]
    gain, read_adu = truth["gain_e_per_adu"], truth["read_noise_adu"]
    t_sci, t_dark = truth["science_exptime_s"], truth["dark_exptime_s"]
    paths = bundled["reduced"]["paths"]
    calibrated = bundled["reduced"]["science"]
    raw = fits.getdata(night["science"]).astype(np.float64)

    # Noiseless truth (ADU in the science exposure) and the raw frame's own
    # noise: Poisson noise of sky, galaxy, stars and dark current, read
    # noise and rounding to whole ADU.
    expected = true["sky_e_per_s"] * t_sci / gain
    electrons = (true["sky_e_per_s"] * true["flat"] + true["dark_current_e_per_s"]) * t_sci
    sigma_raw = np.sqrt(electrons / gain**2 + read_adu**2 + 1 / 12)
    noiseless_raw = true["bias_adu"] + electrons / gain
    # Away from saturation: drop pixels that are, or could be, clipped at 65535.
    unsaturated = (raw < lab.SATURATION_ADU) & (noiseless_raw + 6 * sigma_raw < lab.SATURATION_ADU)

    # 1. Given the masters actually used, the only difference left is the raw
    #    frame's noise: z scores must be unit normal, apart from cosmic rays.
    masters = {kind: fits.getdata(paths[kind]).astype(np.float64) for kind in ("bias", "dark", "flat")}
    given_masters = (noiseless_raw - masters["bias"] - masters["dark"] * t_sci / t_dark) / masters["flat"]
    z_raw = (calibrated - given_masters) / (sigma_raw / masters["flat"])
    cosmic = np.abs(z_raw) > 8
    n_hits = truth["frames"][lab.SCIENCE_FILE]["cosmic_rays"]
    assert cosmic[unsaturated].sum() <= 31 * n_hits  # a track covers at most 31 pixels
    good = unsaturated & ~cosmic
    assert good.mean() > 0.95  # the checks below cover nearly the whole frame
    assert z_raw[good].std() == pytest.approx(1.0, abs=0.03)
    assert abs(z_raw[good].mean()) < 5 / math.sqrt(good.sum())

    # 2. Against the noiseless sky: unbiased, with scatter that is the raw
    #    frame's noise plus the smaller noise of the masters (about +6 %).
    residual = calibrated - expected
    z = residual / (sigma_raw / true["flat"])
    standard_error = residual[good].std() / math.sqrt(good.sum())
    assert abs(residual[good].mean()) < 5 * standard_error
    assert 0.97 < z[good].std() < 1.15
    hot = true["hot_pixels"] & good
    assert abs(np.median(z[hot])) < 1 and np.abs(z[hot]).max() < 6

    # 3. Subtracting the 60 s dark unscaled from the 180 s frame leaves
    #    (180 / 60 - 1) x the dark signal: tens of standard errors in the
    #    mean (a cooled camera has little dark current), and many sigma on hot pixels.
    unscaled = (raw - masters["bias"] - masters["dark"]) / masters["flat"]
    z_unscaled = (unscaled - expected) / (sigma_raw / true["flat"])
    assert np.mean(unscaled[good] - expected[good]) > 10 * standard_error
    assert np.median(z_unscaled[hot]) > 5


def test_bundled_calibration_matches_ccdproc(bundled):
    theirs = reduce_with_ccdproc(bundled["night"])
    np.testing.assert_allclose(bundled["reduced"]["science"], theirs["science"], rtol=1e-5, atol=0)


@pytest.mark.parametrize("dtype", [np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("n_frames", [1, 2, 5, 6])
def test_median_helper_equals_numpy_median(dtype, n_frames):
    from solutions.reduction import _median_of_own_stack

    rng = np.random.default_rng(n_frames)
    stack = rng.integers(0, 60000, size=(n_frames, 7, 9)).astype(dtype)
    if np.issubdtype(dtype, np.floating):
        stack[0, 1, 2] = np.nan
    expected = np.median(stack.astype(np.float64), axis=0)
    result = _median_of_own_stack(stack.copy())
    np.testing.assert_allclose(result, expected, rtol=1e-7, equal_nan=True)
