"""Tests of the night simulator (sample_data/simulate.py) and the bundled frames.

Physics checks compare the bundled raw frames with the noiseless patterns
that :func:`simulate.true_components` rebuilds from the seed.  The given
master frames written with them are tested in test_masters.py.
"""

import datetime
import json
import math
import re

import numpy as np
import pytest
from astropy.io import fits

from convenience_functions import lab, night as night_file
from sample_data import simulate

SMALL_SHAPE = (64, 48)
PTC_NAMES = [name for pair in lab.PTC_FLAT_PAIRS for name in pair]
FRAME_NAMES = (list(lab.BIAS_FILES) + list(lab.DARK_FILES) + list(lab.FLAT_FILES) + [lab.SCIENCE_FILE]
               + PTC_NAMES + list(lab.DARK_SERIES_FILES))
MASTER_NAMES = list(lab.GIVEN_MASTER_FILES.values())
ALL_NAMES = sorted(FRAME_NAMES + MASTER_NAMES + [night_file.NIGHT_FILE])
GAIN = lab.GAIN_E_PER_ADU


def _listing(folder):
    """Names of the visible files in ``folder``."""
    return sorted(path.name for path in folder.iterdir() if not path.name.startswith("."))


def _read(folder, name):
    """Counts (float64, ADU) and header of one frame."""
    with fits.open(folder / name) as hdul:
        return hdul[0].data.astype(np.float64), hdul[0].header


@pytest.fixture(scope="module")
def small_nights(tmp_path_factory):
    """Two nights with seed 11 and one with seed 12, all SMALL_SHAPE."""
    folders = {}
    for label, seed in (("a", 11), ("b", 11), ("c", 12)):
        folder = tmp_path_factory.mktemp(f"night_{label}") / "frames"
        simulate.simulate_night(folder, SMALL_SHAPE, seed)
        folders[label] = folder
    return folders


@pytest.fixture(scope="module")
def truth():
    return json.loads(simulate.BUNDLED_TRUTH.read_text())


@pytest.fixture(scope="module")
def components():
    return simulate.true_components()


# ---------------------------------------------------------------- determinism

def test_same_seed_gives_identical_bytes(small_nights):
    a, b = small_nights["a"], small_nights["b"]
    assert _listing(a) == ALL_NAMES
    for name in ALL_NAMES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert simulate.truth_path(a).read_bytes() == simulate.truth_path(b).read_bytes()


def test_different_seed_gives_different_frames(small_nights):
    a, c = small_nights["a"], small_nights["c"]
    for name in FRAME_NAMES:
        assert (a / name).read_bytes() != (c / name).read_bytes(), name
    assert json.loads(simulate.truth_path(c).read_text())["seed"] == 12


def test_one_frame_alone_equals_the_frame_in_the_night(small_nights):
    # A frame's noise stream does not depend on the frames made before it.
    for name in (lab.SCIENCE_FILE, lab.DARK_FILES[-1]):
        data, header = simulate.frame_data(name, SMALL_SHAPE, 11)
        written, written_header = _read(small_nights["a"], name)
        np.testing.assert_array_equal(data, written)
        assert header["DATE-OBS"] == written_header["DATE-OBS"]


def test_bundled_folder_equals_fresh_regeneration(tmp_path):
    # Frames, given masters and truth: `ccdlab data --force` after a deliberate change.
    fresh = tmp_path / "frames"
    truth = simulate.simulate_night(fresh)
    assert _listing(simulate.BUNDLED_DIR) == ALL_NAMES
    for name in ALL_NAMES:
        assert (simulate.BUNDLED_DIR / name).read_bytes() == (fresh / name).read_bytes(), name
    assert simulate.BUNDLED_TRUTH.read_bytes() == simulate.truth_path(fresh).read_bytes()
    assert json.loads(simulate.BUNDLED_TRUTH.read_text()) == truth


def test_truth_stays_beside_the_frames_folder(tmp_path):
    assert simulate.BUNDLED_TRUTH == simulate.BUNDLED_DIR.parent / "frames_truth.json"
    assert simulate.BUNDLED_TRUTH.is_file()
    assert not [p.name for p in simulate.BUNDLED_DIR.iterdir() if "truth" in p.name.lower()]
    with pytest.raises(ValueError, match="inside the frames folder"):
        simulate.simulate_night(tmp_path / "n", SMALL_SHAPE, 1, truth_file=tmp_path / "n" / "truth.json")
    assert not (tmp_path / "n").exists()


def test_truth_lists_the_sha256_of_every_file(truth):
    import hashlib

    assert sorted(truth["frames"]) == sorted(FRAME_NAMES)
    for name in FRAME_NAMES:
        digest = hashlib.sha256((simulate.BUNDLED_DIR / name).read_bytes()).hexdigest()
        assert truth["frames"][name]["sha256"] == digest, name
    assert sorted(truth["given_masters"]) == sorted(MASTER_NAMES)
    for name in MASTER_NAMES:
        digest = hashlib.sha256((simulate.BUNDLED_DIR / name).read_bytes()).hexdigest()
        assert truth["given_masters"][name] == digest, name


def test_bundled_folder_is_small():
    total = sum(path.stat().st_size for path in simulate.BUNDLED_DIR.iterdir())
    assert total < 8_000_000


# --------------------------------------------------------------- file format

def _expected_filter(name):
    if name == lab.SCIENCE_FILE or name in lab.FLAT_FILES + tuple(PTC_NAMES) + lab.DARK_SERIES_FILES:
        return "R"
    return re.match(r"Cal([RV])-", name).group(1)


@pytest.mark.parametrize("names, imagetyp, exptimes", [
    (lab.BIAS_FILES, "Bias Frame", [0.0] * len(lab.BIAS_FILES)),
    (lab.DARK_FILES, "Dark Frame", [lab.DARK_EXPTIME_S] * len(lab.DARK_FILES)),
    (lab.FLAT_FILES, "Flat Field", list(lab.FLAT_EXPTIMES_S)),
    ((lab.SCIENCE_FILE,), "Light Frame", [lab.SCIENCE_EXPTIME_S]),
    (PTC_NAMES, "Flat Field", [t for t in lab.PTC_EXPTIMES_S for _ in (1, 2)]),
    (lab.DARK_SERIES_FILES, "Dark Frame", sorted(list(lab.DARK_SERIES_EXPTIMES_S) * 2)),
])
def test_headers_and_dtype(names, imagetyp, exptimes):
    for name, exptime in zip(names, exptimes):
        path = simulate.BUNDLED_DIR / name
        with fits.open(path, do_not_scale_image_data=True) as raw:
            assert raw[0].header["BITPIX"] == 16
            assert raw[0].header["BZERO"] == 32768
            assert raw[0].data.dtype.kind == "i"  # stored as int16 + offset
        with fits.open(path) as hdul:
            header, data = hdul[0].header, hdul[0].data
            assert data.dtype == np.uint16
            assert data.shape == simulate.DEFAULT_SHAPE
        assert header["IMAGETYP"] == imagetyp
        assert isinstance(header["EXPTIME"], float) and header["EXPTIME"] == exptime
        assert header["FILTER"] == _expected_filter(name)
        assert header["GAIN"] == GAIN
        assert header["INSTRUME"] and header["TELESCOP"]
        datetime.datetime.fromisoformat(header["DATE-OBS"])
        assert (header.get("OBJECT") == "M101") == (name == lab.SCIENCE_FILE)


def test_flat_exposure_times_differ():
    times = [fits.getheader(simulate.BUNDLED_DIR / name)["EXPTIME"] for name in lab.FLAT_FILES]
    assert len(set(times)) > 1


def test_dates_form_an_evening_sequence():
    dates = {name: datetime.datetime.fromisoformat(fits.getheader(simulate.BUNDLED_DIR / name)["DATE-OBS"])
             for name in FRAME_NAMES}
    assert len(set(dates.values())) == len(dates)
    flats = [dates[name] for name in lab.FLAT_FILES]
    assert flats == sorted(flats)
    assert max(dates.values()) - min(dates.values()) < datetime.timedelta(hours=12)


# ------------------------------------------------------------ physics vs truth

def test_true_components_match_truth_file(components, truth):
    for name in ("bias_adu", "dark_current_e_per_s", "flat", "sky_e_per_s"):
        assert components[name].dtype == np.float64
        assert components[name].shape == simulate.DEFAULT_SHAPE
    assert components["hot_pixels"].dtype == bool
    assert np.median(components["flat"]) == pytest.approx(1.0, abs=1e-6)
    assert components["bias_adu"].mean() == pytest.approx(truth["bias_level_adu"], rel=1e-8)
    assert components["dark_current_e_per_s"].mean() == pytest.approx(truth["mean_dark_current_e_per_s"], rel=1e-8)
    assert components["hot_pixels"].sum() == truth["n_hot_pixels"]
    assert 0.001 <= truth["n_hot_pixels"] / components["hot_pixels"].size <= 0.005


def test_bias_pattern_has_level_and_columns(components):
    offset = components["bias_offset_adu"]
    assert 1450 < offset.mean() < 1550
    assert np.all(offset == offset[0])  # the electronics' offset: a pure column pattern
    steps = np.abs(np.diff(offset[0]))
    assert 1.0 < np.median(steps) < 20.0 and steps.max() > 15.0
    # A bias frame also holds the dark charge picked up while shifting out:
    # it grows along the readout direction, and hot pixels leave trails above them.
    readout = components["readout_dark_e"]
    expected = np.cumsum(components["dark_current_e_per_s"], axis=0) * simulate.READOUT_S / offset.shape[0]
    np.testing.assert_allclose(readout, expected, rtol=1e-5)
    np.testing.assert_allclose(components["bias_adu"], offset + readout / GAIN, rtol=1e-6)


def _cosmic_ray_pixels(residual, sigma_adu):
    """Pixels far above the expected counts: what cosmic rays hit."""
    return residual > 8 * sigma_adu


def test_bias_frames_scatter_by_read_noise(components, truth):
    read_noise_adu = truth["read_noise_e"] / GAIN
    for name in lab.BIAS_FILES:
        data, _ = _read(simulate.BUNDLED_DIR, name)
        residual = data - components["bias_adu"]
        good = ~_cosmic_ray_pixels(residual, read_noise_adu)
        assert good.mean() > 0.998, name
        assert abs(residual[good].mean()) < 0.15, name
        expected = np.sqrt(read_noise_adu**2 + components["readout_dark_e"][good] / GAIN**2 + 1 / 12)
        assert residual[good].std() == pytest.approx(np.sqrt(np.mean(expected**2)), rel=0.03), name


def test_first_bias_has_outliers_beyond_the_histogram_range(truth):
    # Notebook 02 asks why 1300-1700 ADU beats matplotlib's own range: the frame must have outliers.
    data, _ = _read(simulate.BUNDLED_DIR, lab.FIRST_BIAS_FILE)
    low, high = lab.BIAS_HISTOGRAM_RANGE_ADU
    assert truth["frames"][lab.FIRST_BIAS_FILE]["cosmic_rays"] > 0
    assert np.count_nonzero((data < low) | (data > high)) > 0


def test_one_dark_gives_the_true_dark_current(components, truth):
    means = []
    read_noise_adu = truth["read_noise_e"] / GAIN
    for name in lab.DARK_FILES:
        data, header = _read(simulate.BUNDLED_DIR, name)
        dark_e = components["dark_current_e_per_s"] * header["EXPTIME"]
        expected = components["bias_adu"] + dark_e / GAIN
        hit = _cosmic_ray_pixels(data - expected, np.hypot(read_noise_adu, np.sqrt(dark_e) / GAIN))
        assert hit.sum() <= 31 * truth["frames"][name]["cosmic_rays"], name
        current = GAIN * (data - components["bias_adu"])[~hit].mean() / header["EXPTIME"]
        true_mean = components["dark_current_e_per_s"][~hit].mean()
        assert current == pytest.approx(true_mean, rel=0.03), name
        means.append(current)
    assert np.mean(means) == pytest.approx(truth["mean_dark_current_e_per_s"], rel=0.02)


def test_dark_current_fits_the_camera_class(truth):
    # A thermoelectrically cooled CCD at its CCD-TEMP: ordinary pixels 0.01-0.1 e-/s.
    camera = truth["night"]["camera"]
    low, high = lab.TYPICAL_DARK_CURRENT_E_PER_S
    assert low <= truth["median_dark_current_e_per_s"] <= high
    assert truth["median_dark_current_e_per_s"] == pytest.approx(simulate.dark_current_at(camera["ccd_temp_c"]),
                                                                 rel=0.02)
    data, header = _read(simulate.BUNDLED_DIR, lab.FIRST_DARK_FILE)
    assert header["CCD-TEMP"] == camera["ccd_temp_c"]
    # Hot pixels pull the mean above the median.
    assert truth["mean_dark_current_e_per_s"] > 1.2 * truth["median_dark_current_e_per_s"]


def test_hot_pixels_show_in_the_darks(components):
    stack = np.mean([_read(simulate.BUNDLED_DIR, name)[0] for name in lab.DARK_FILES], axis=0)
    measured = GAIN * (stack - components["bias_adu"]) / lab.DARK_EXPTIME_S
    hot = components["hot_pixels"]
    np.testing.assert_allclose(measured[hot], components["dark_current_e_per_s"][hot], rtol=0.15, atol=0.3)
    assert np.median(measured[hot]) > 5 * np.median(measured[~hot])


def test_flats_reach_similar_levels(components, truth):
    levels = []
    for i, name in enumerate(lab.FLAT_FILES):
        data, header = _read(simulate.BUNDLED_DIR, name)
        signal = data - components["bias_adu"] - components["dark_current_e_per_s"] * header["EXPTIME"] / GAIN
        level = np.median(signal)
        assert 20000 < level < 30000, name
        assert level == pytest.approx(truth["flat_levels_adu"][i], rel=0.01), name
        levels.append(level)
    assert max(levels) / min(levels) < 1.25


def test_flats_trace_the_true_flat(components):
    normalized = []
    for name in lab.FLAT_FILES:
        data, header = _read(simulate.BUNDLED_DIR, name)
        signal = data - components["bias_adu"] - components["dark_current_e_per_s"] * header["EXPTIME"] / GAIN
        normalized.append(signal / np.median(signal))
    combined = np.median(normalized, axis=0)
    assert np.std(combined - components["flat"]) < 0.01
    flat = components["flat"]
    corners = np.mean([flat[:5, :5].mean(), flat[:5, -5:].mean(), flat[-5:, :5].mean(), flat[-5:, -5:].mean()])
    centre = flat[95:105, 95:105].mean()
    assert 0.75 < corners / centre < 0.92  # vignetting of 10-20 %


def _expected_science_adu(components):
    t = lab.SCIENCE_EXPTIME_S
    electrons = components["sky_e_per_s"] * components["flat"] * t + components["dark_current_e_per_s"] * t
    return components["bias_adu"] + electrons / GAIN, electrons


def test_science_saturates_only_at_bright_stars(components, truth):
    # SATURATE is where the full well, seen through the gain, lies: below the converter's limit.
    data, header = _read(simulate.BUNDLED_DIR, lab.SCIENCE_FILE)
    saturate = header["SATURATE"]
    assert saturate == truth["saturation_adu"] < lab.SATURATION_ADU
    assert truth["full_well_adu"] == truth["full_well_e"] / GAIN
    assert saturate == pytest.approx(truth["bias_level_adu"] + truth["full_well_adu"], rel=0.002)
    expected_adu, electrons = _expected_science_adu(components)
    stars = np.array([[star["y"], star["x"]] for star in truth["saturated_stars"]])
    assert len(stars) >= 2
    rows, cols = np.nonzero(data >= saturate)
    assert len(rows) == truth["frames"][lab.SCIENCE_FILE]["n_saturated"] > 0
    distance = np.hypot(rows[:, None] - stars[None, :, 0], cols[:, None] - stars[None, :, 1]).min(axis=1)
    very_hot = components["nonlinear_pixels"][rows, cols]
    assert distance[~very_hot].max() < 8.0  # bright stars, or a very hot pixel full after 180 s
    assert electrons[rows, cols].min() > truth["full_well_e"]
    for y, x in stars:
        assert data[int(round(y)), int(round(x))] >= saturate
    # Full pixels read the full well above the bias, whatever else they collected.
    full = electrons > (2 - truth["linear_limit_fraction"]) * truth["full_well_e"]
    assert full.sum() > 0
    np.testing.assert_allclose(data[full] - components["bias_adu"][full], truth["full_well_adu"], atol=30)
    # Everywhere else stays below saturation.
    assert electrons[data < saturate].max() < 1.3 * truth["full_well_e"]


def test_science_noise_is_photon_and_read_noise(components, truth):
    data, _ = _read(simulate.BUNDLED_DIR, lab.SCIENCE_FILE)
    expected_adu, electrons = _expected_science_adu(components)
    sigma_adu = np.sqrt(electrons + truth["read_noise_e"] ** 2) / GAIN
    good = data < lab.SATURATION_ADU
    z = ((data - expected_adu) / sigma_adu)[good]
    assert abs(np.median(z)) < 0.05
    robust_std = 1.4826 * np.median(np.abs(z - np.median(z)))
    assert robust_std == pytest.approx(1.0, abs=0.05)
    # Sky-noise limited: the sky's photon noise beats the read noise.
    sky_e = truth["sky_background_e_per_s"] * truth["science_exptime_s"]
    assert sky_e > 10 * truth["read_noise_e"] ** 2


def test_cosmic_rays_hit_every_kind_of_frame_in_proportion_to_its_time(truth):
    # During the exposure and the readout: even a 0 s bias catches a few.
    frames = truth["frames"]
    readout, rate = truth["night"]["camera"]["readout_s"], truth["night"]["cosmic_rays_per_pixel_per_s"]
    npix = truth["shape"][0] * truth["shape"][1]
    for names in (lab.BIAS_FILES, lab.DARK_FILES):
        hits = sum(frames[name]["cosmic_rays"] for name in names)
        expected = sum(rate * npix * (frames[name]["exptime_s"] + readout) for name in names)
        assert hits > 0
        assert abs(hits - expected) < 4 * math.sqrt(expected)
    assert frames[lab.SCIENCE_FILE]["cosmic_rays"] > 0


# --------------------------------------------------------------- shapes, API

def test_non_square_shape(tmp_path):
    tmp_path = tmp_path / "frames"
    truth = simulate.simulate_night(tmp_path, (48, 64), 3)
    assert truth["shape"] == [48, 64]
    for name in (lab.BIAS_FILES[0], lab.FLAT_FILES[0], lab.SCIENCE_FILE):
        data, header = _read(tmp_path, name)
        assert data.shape == (48, 64)
        assert (header["NAXIS1"], header["NAXIS2"]) == (64, 48)
    parts = simulate.true_components((48, 64), 3)
    assert all(value.shape == (48, 64) for value in parts.values())


@pytest.mark.parametrize("text, shape", [
    ("1024", (1024, 1024)),
    (1024, (1024, 1024)),
    ("200x240", (200, 240)),
    (" 48X64 ", (48, 64)),
])
def test_parse_size(text, shape):
    assert simulate.parse_size(text) == shape


@pytest.mark.parametrize("text", ["abc", "", "0", "-5", "10x", "x10", "1x2x3", "12.5", 3.5, True, None, "8", "99999"])
def test_parse_size_fails(text):
    with pytest.raises(ValueError, match="size|shape"):
        simulate.parse_size(text)


def test_simulate_night_fails(tmp_path):
    (tmp_path / lab.SCIENCE_FILE).write_bytes(b"user data")
    with pytest.raises(FileExistsError, match=re.escape(str(tmp_path))):
        simulate.simulate_night(tmp_path, SMALL_SHAPE, 1)
    assert (tmp_path / lab.SCIENCE_FILE).read_bytes() == b"user data"
    # A truth file of the same name beside the folder is user data too.
    other = tmp_path / "other"
    simulate.truth_path(other).write_text("user data")
    with pytest.raises(FileExistsError, match=re.escape(str(simulate.truth_path(other)))):
        simulate.simulate_night(other, SMALL_SHAPE, 1)
    assert simulate.truth_path(other).read_text() == "user data" and not other.exists()
    with pytest.raises(ValueError, match="shape"):
        simulate.simulate_night(tmp_path / "x", (10, 0), 1)
    with pytest.raises(ValueError, match="seed"):
        simulate.simulate_night(tmp_path / "x", SMALL_SHAPE, -1)
    with pytest.raises(ValueError, match="seed"):
        simulate.true_components(SMALL_SHAPE, "7")
    with pytest.raises(ValueError, match="not one of the frames of the bundled night"):
        simulate.frame_data("M102.fit", SMALL_SHAPE, 1)


# ---------------------------------------------------------------------- main

def test_main_refuses_to_overwrite_different_frames(tmp_path, capsys):
    out = tmp_path / "night"
    assert simulate.main(out=out, size="40x32", seed=1) == 0
    assert f"wrote {len(FRAME_NAMES)} frames of 40x32" in capsys.readouterr().out
    before = {name: (out / name).read_bytes() for name in ALL_NAMES}
    truth_before = simulate.truth_path(out).read_bytes()

    assert simulate.main(out=out, size="40x32", seed=2) == 1
    message = capsys.readouterr().err
    assert str(out) in message and "--force" in message
    assert {name: (out / name).read_bytes() for name in ALL_NAMES} == before
    assert simulate.truth_path(out).read_bytes() == truth_before
    assert _listing(out) == ALL_NAMES and len(list(out.iterdir())) == len(ALL_NAMES)  # no staging left

    assert simulate.main(out=out, size="40x32", seed=1) == 0
    assert "nothing changed" in capsys.readouterr().out

    assert simulate.main(out=out, size="40x32", seed=2, force=True) == 0
    assert json.loads(simulate.truth_path(out).read_text())["seed"] == 2
    assert (out / lab.SCIENCE_FILE).read_bytes() != before[lab.SCIENCE_FILE]


def test_main_keeps_the_bundled_folder_for_the_defaults(capsys):
    before = sorted(path.name for path in simulate.BUNDLED_DIR.parent.rglob("*"))
    assert simulate.main(seed=simulate.DEFAULT_SEED + 1) == 1
    assert str(simulate.BUNDLED_DIR) in capsys.readouterr().err
    assert simulate.main(out=simulate.BUNDLED_DIR, size="64", force=True) == 1
    assert "--out" in capsys.readouterr().err
    assert sorted(path.name for path in simulate.BUNDLED_DIR.parent.rglob("*")) == before


@pytest.mark.parametrize("kwargs, word", [({"size": "big"}, "size"), ({"seed": -3}, "seed")])
def test_main_rejects_bad_arguments(tmp_path, capsys, kwargs, word):
    assert simulate.main(out=tmp_path / "frames", **kwargs) == 2
    assert word in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------ one simulator, any camera

def _robust_var(values):
    """Variance of ``values`` without outliers (cosmic rays): beyond 6 robust sigma from the median."""
    centre = np.median(values)
    sigma = 1.4826 * np.median(np.abs(values - centre))
    kept = values[np.abs(values - centre) < 6 * max(sigma, 1.0)]
    return float(np.var(kept))


@pytest.mark.parametrize("gain, read_noise", [(1.3, 6.5), (3.2, 14.0)])
def test_another_camera_is_measured_from_its_own_frames(tmp_path, capsys, gain, read_noise):
    out = tmp_path / "night"
    assert simulate.main(out=out, size="150x120", seed=5, gain=gain, read_noise=read_noise) == 0
    assert f"gain {gain:g} e-/ADU, read noise {read_noise:g} e-" in capsys.readouterr().out
    truth = json.loads(simulate.truth_path(out).read_text())
    assert truth["gain_e_per_adu"] == gain and truth["read_noise_e"] == read_noise
    assert truth["night"]["camera"]["gain_e_per_adu"] == gain
    assert truth["night"]["camera"]["read_noise_e"] == read_noise
    assert truth["night"]["flat_exptimes_s"] == list(lab.FLAT_EXPTIMES_S)

    # Read noise from a pair of biases: the pattern cancels, the noise adds.
    b1, header = _read(out, lab.BIAS_FILES[0])
    b2, _ = _read(out, lab.BIAS_FILES[1])
    assert header["GAIN"] == gain and header["RDNOISE"] == read_noise
    read_var_adu = _robust_var(b1 - b2) / 2 - 1 / 12  # less the rounding to whole ADU
    # Gain from a pair of flats (photon transfer): scaled to one level, the
    # flat pattern cancels; what is left is photon noise (level / gain) and read noise.
    bias = np.median([_read(out, name)[0] for name in lab.BIAS_FILES], axis=0)
    f1, f2 = (_read(out, name)[0] - bias for name in lab.FLAT_FILES[2:4])
    m1, m2 = np.median(f1), np.median(f2)
    ratio = m1 / m2
    photon_var_adu = _robust_var(f1 - ratio * f2) - (1 + ratio**2) * (read_var_adu + 1 / 12)
    measured_gain = (m1 + ratio**2 * m2) / photon_var_adu
    assert measured_gain == pytest.approx(gain, rel=0.05)
    assert np.sqrt(read_var_adu) * measured_gain == pytest.approx(read_noise, rel=0.06)
    # The lab's camera would measure otherwise: the test can fail.
    assert abs(measured_gain - lab.GAIN_E_PER_ADU) > 0.2


def test_main_rejects_a_bad_camera(tmp_path, capsys):
    assert simulate.main(out=tmp_path / "n", gain=0) == 2
    assert "--gain" in capsys.readouterr().err
    assert simulate.main(out=tmp_path / "n", read_noise="noise") == 2
    assert "--read-noise" in capsys.readouterr().err
    assert not (tmp_path / "n").exists()
    assert simulate.main(gain=1.5) == 1  # the bundled folder holds only the lab's camera
    assert "pass --out" in capsys.readouterr().err


def test_night_description_fails():
    with pytest.raises(ValueError, match="flat_exptimes_s has 2 exposure times for 5 flat_files"):
        simulate.NightDescription(shape=SMALL_SHAPE, seed=1, flat_exptimes_s=(1.0, 2.0))
    with pytest.raises(ValueError, match="gain_e_per_adu"):
        simulate.Camera(gain_e_per_adu=-1.0)
    with pytest.raises(ValueError, match="names no frame"):
        simulate.NightDescription(shape=SMALL_SHAPE, seed=1, planted_hits=(("nope.fit", 0, 0, 1, 1, 10.0),))
    with pytest.raises(TypeError, match="camera"):
        simulate.NightDescription(shape=SMALL_SHAPE, seed=1, camera="cold")


def test_second_night_and_test_frames_come_from_the_simulator(tmp_path):
    from autograder import checks

    night = checks.second_night(tmp_path, seed=3)
    description = night.simulation
    assert night.shape == description.shape == checks.second_shape(3)
    assert night.shape[0] != night.shape[1]
    data, header = simulate.frame_data(description.bias_files[0], night=description)
    np.testing.assert_array_equal(fits.getdata(night.biases[0]), data)
    assert header["GAIN"] == description.camera.gain_e_per_adu
    true = simulate.true_components(night=description)
    assert 80 < np.median(true["bias_adu"]) < 120  # low: uint16 subtraction wraps
    assert night.dark_exptime != lab.DARK_EXPTIME_S
    assert len({fits.getheader(f)["EXPTIME"] for f in night.flats}) == len(night.flats)
    planted = fits.getdata(night.biases[1]).astype(float) - true["bias_adu"]
    assert planted[5:8, 10:14].min() > 1000  # the strong cosmic ray of the second bias
    assert not list(tmp_path.parent.glob(tmp_path.name + "_truth.json"))


# ------------------------------------------ notebook 06: lamp series, dark series

def _pair(names):
    """The two frames of a pair, float64 ADU, and the first one's header."""
    (a, header), (b, _) = (_read(simulate.BUNDLED_DIR, name) for name in names)
    return a, b, header


def test_well_response_is_linear_then_bends_to_the_full_well():
    full_well, fraction = 100_000.0, 0.7
    charge = np.linspace(0.0, 2.0 * full_well, 20001)
    kept = simulate.well_response(charge, full_well, fraction)
    linear = charge <= fraction * full_well
    np.testing.assert_array_equal(kept[linear], charge[linear])
    assert np.all(np.diff(kept) >= 0) and kept.max() == full_well
    assert np.all(kept[charge >= (2 - fraction) * full_well] == full_well)
    at = lambda share: float(simulate.well_response(np.array([share * full_well]), full_well, fraction)[0])  # noqa: E731
    assert 1 - at(0.8) / (0.8 * full_well) == pytest.approx(0.0104, abs=0.0005)
    assert at(1.0) == pytest.approx(0.925 * full_well)
    np.testing.assert_array_equal(simulate.well_response(charge, full_well, 1.0), np.minimum(charge, full_well))


def test_lamp_series_levels_follow_lamp_rate_and_time(components, truth):
    # The lamp's charge, lamp rate x flat x time, over the gain, as long as the response is linear.
    bias = components["bias_adu"]
    flat = components["flat"]
    assert truth["lamp_e_per_s"] == truth["full_well_e"] / simulate.LAMP_FILL_TIME_S
    assert truth["ptc_exptimes_s"] == list(lab.PTC_EXPTIMES_S) and len(lab.PTC_FLAT_PAIRS) == 8
    limit_adu = truth["linear_limit_fraction"] * truth["full_well_adu"]
    linear_pairs = 0
    for i, (names, t) in enumerate(zip(lab.PTC_FLAT_PAIRS, lab.PTC_EXPTIMES_S)):
        a, b, header = _pair(names)
        assert header["EXPTIME"] == t
        signal = (a + b) / 2 - bias
        expected = (truth["lamp_e_per_s"] * flat + components["dark_current_e_per_s"]) * t / GAIN
        assert truth["ptc_linear_levels_adu"][i] == pytest.approx(expected.mean(), rel=1e-6)
        # Through the pixels' response (noiseless), the frames' mean level, cosmic rays left out.
        readout = components["readout_dark_e"]
        kept = (simulate.well_response(expected * GAIN + readout, truth["full_well_e"], truth["linear_limit_fraction"])
                - readout) / GAIN
        assert truth["ptc_levels_adu"][i] == pytest.approx(kept.mean(), rel=1e-6)
        residual = signal - kept
        spread = 1.4826 * np.median(np.abs(residual - np.median(residual)))
        clean = np.abs(residual - np.median(residual)) < 6 * max(spread, 1.0)
        assert clean.mean() > 0.995
        assert abs(residual[clean].mean()) < 5 * residual[clean].std() / np.sqrt(clean.sum()) + 0.05
        if (truth["lamp_e_per_s"] * flat.max() * t) / GAIN < limit_adu:
            linear_pairs += 1
            assert truth["ptc_levels_adu"][i] == pytest.approx(truth["ptc_linear_levels_adu"][i], rel=1e-6)
        else:  # the response bends: less than the lamp put in
            assert truth["ptc_levels_adu"][i] < 0.995 * truth["ptc_linear_levels_adu"][i]
    assert linear_pairs == 5


def test_ptc_spans_read_noise_floor_shot_noise_and_full_well(truth):
    # Variance of a pair's difference over 2: read noise + shot noise (signal / gain), squeezed near the full well.
    bias_a, bias_b, _ = _pair(lab.BIAS_FILES[:2])
    read_var = _robust_var(bias_a - bias_b) / 2
    assert read_var == pytest.approx(truth["read_noise_adu"] ** 2 + 1 / 12, rel=0.05)
    variances, levels = [], []
    for names in lab.PTC_FLAT_PAIRS:
        a, b, _ = _pair(names)
        variances.append(_robust_var(a - b) / 2)
        levels.append(np.mean((a + b) / 2 - (bias_a + bias_b) / 2))
    shot = np.array(variances) - read_var
    assert levels[0] / GAIN < read_var  # the faintest pair: read noise dominates
    for i in (2, 3, 4):  # the shot-noise regime: gain = signal / shot variance
        assert levels[i] / shot[i] == pytest.approx(GAIN, rel=0.05)
    assert variances[5] > variances[6] > variances[7]  # the curve turns over
    assert np.argmax(variances) == 5
    # The brightest pair is full: every pixel at SATURATE or above, only read noise left.
    a, b, header = _pair(lab.PTC_FLAT_PAIRS[-1])
    assert (a >= header["SATURATE"]).all() and (b >= header["SATURATE"]).all()
    assert variances[7] == pytest.approx(read_var, rel=0.1)


def test_dark_series_is_linear_in_time_for_ordinary_pixels(components, truth):
    assert truth["dark_series_exptimes_s"] == list(lab.DARK_SERIES_EXPTIMES_S)
    bias = components["bias_adu"]
    ordinary = ~components["hot_pixels"] & ~components["nonlinear_pixels"]
    times, signals = [], []
    for name in lab.DARK_SERIES_FILES:
        data, header = _read(simulate.BUNDLED_DIR, name)
        assert header["IMAGETYP"] == "Dark Frame"
        times.append(header["EXPTIME"])
        signals.append((data - bias)[ordinary])
    assert sorted(set(times)) == list(lab.DARK_SERIES_EXPTIMES_S) and times == sorted(times)
    # Cosmic rays aside (clipped), the mean signal of ordinary pixels grows in proportion to the time.
    means = []
    for values in signals:
        centre, spread = np.median(values), 1.4826 * np.median(np.abs(values - np.median(values)))
        means.append(values[np.abs(values - centre) < 6 * spread].mean())
    slope, intercept = np.polyfit(times, means, 1)
    assert slope * GAIN == pytest.approx(truth["mean_dark_current_without_hot_pixels_e_per_s"], rel=0.03)
    assert abs(intercept) < 0.1
    assert np.abs(np.array(means) - (intercept + slope * np.array(times))).max() < 0.1  # ADU


def test_nonlinear_pixels_fill_their_wells_in_the_long_darks(components, truth):
    bias = components["bias_adu"]
    nonlinear, hot = components["nonlinear_pixels"], components["hot_pixels"]
    assert nonlinear.sum() == truth["n_nonlinear_pixels"] >= 1 and not (nonlinear & hot).any()
    assert components["dark_current_e_per_s"][nonlinear] == pytest.approx(
        truth["nonlinear_pixels_dark_current_e_per_s"], rel=1e-6)
    by_time = {}
    for name in lab.DARK_SERIES_FILES:
        data, header = _read(simulate.BUNDLED_DIR, name)
        by_time.setdefault(header["EXPTIME"], []).append(data - bias)
    # Shortfall of each time's mean signal below the straight line dark current x time, in noise sigmas.
    shortfall = {}
    for t, frames in by_time.items():
        linear = components["dark_current_e_per_s"] * t / GAIN
        sigma = np.sqrt((truth["read_noise_adu"] ** 2 + linear / GAIN) / len(frames))
        shortfall[t] = (linear - np.mean(frames, axis=0)) / sigma
    times = sorted(shortfall)
    # On the line in the short darks (the lab's 60 s darks among them), far below it in the longest.
    for t in times[:2]:
        assert (np.abs(shortfall[t][nonlinear]) < 5).all(), t
    assert (shortfall[times[-1]][nonlinear] > 20).all()
    # Hot pixels, even the hottest, stay on the line (a cosmic ray can only add charge).
    for t in times:
        assert np.median(np.abs(shortfall[t][hot])) < 1.5 and (shortfall[t][hot] < 5).all(), t


def test_a_night_may_have_no_lamp_or_dark_series(tmp_path):
    night = simulate.NightDescription(shape=SMALL_SHAPE, seed=4, ptc_pairs=(), ptc_exptimes_s=(),
                                      dark_series_files=(), dark_series_exptimes_s=())
    truth = simulate.simulate_night(tmp_path / "frames", night=night)
    assert sorted(truth["frames"]) == sorted(set(FRAME_NAMES) - set(PTC_NAMES) - set(lab.DARK_SERIES_FILES))
    assert truth["ptc_levels_adu"] == [] and truth["dark_series_exptimes_s"] == []
    # The frames they share are the same as those of the night with both series.
    data, _ = simulate.frame_data(lab.SCIENCE_FILE, night=night)
    np.testing.assert_array_equal(data, simulate.frame_data(lab.SCIENCE_FILE, SMALL_SHAPE, 4)[0])


def test_another_full_well_moves_saturate_and_the_lamp(tmp_path, capsys):
    out = tmp_path / "night"
    assert simulate.main(out=out, size="40x32", seed=1, gain=1.3, full_well=60_000) == 0
    truth = json.loads(simulate.truth_path(out).read_text())
    assert truth["full_well_e"] == 60_000 and truth["lamp_e_per_s"] == 600
    a, header = _read(out, lab.PTC_FLAT_PAIRS[-1][0])
    assert header["SATURATE"] == truth["saturation_adu"] < 100 + 60_000 / 1.3 + 1500
    assert (a >= header["SATURATE"]).all()
    assert simulate.main(out=tmp_path / "n", full_well=-5) == 2
    assert "--full-well" in capsys.readouterr().err


def test_night_description_fails_on_series():
    with pytest.raises(ValueError, match="ptc_exptimes_s has 2 exposure times for 8 ptc_pairs"):
        simulate.NightDescription(shape=SMALL_SHAPE, seed=1, ptc_exptimes_s=(1.0, 2.0))
    with pytest.raises(ValueError, match="same number of files"):
        simulate.NightDescription(shape=SMALL_SHAPE, seed=1, dark_series_files=("a.fit", "b.fit", "c.fit"))
    with pytest.raises(ValueError, match="must increase"):
        simulate.NightDescription(shape=SMALL_SHAPE, seed=1, dark_series_exptimes_s=(300.0, 180.0, 60.0, 30.0))
    with pytest.raises(ValueError, match="repeat"):
        simulate.NightDescription(shape=SMALL_SHAPE, seed=1, ptc_pairs=(("a.fit", "a.fit"),), ptc_exptimes_s=(1.0,))
    with pytest.raises(ValueError, match="linear_limit_fraction"):
        simulate.Camera(linear_limit_fraction=0.0)


def test_second_night_has_its_own_camera_lamp_series_and_dark_series(tmp_path):
    from autograder import checks

    night = checks.second_night(tmp_path)
    camera, bundled = night.simulation.camera, simulate.Camera()
    for name in ("gain_e_per_adu", "read_noise_e", "full_well_e", "dark_current_e_per_s", "bias_level_adu"):
        assert getattr(camera, name) != getattr(bundled, name), name
    assert len(night.ptc_pairs) == len(checks.SECOND_PTC_EXPTIMES_S) and len(night.dark_series) >= 6
    times = [fits.getheader(a)["EXPTIME"] for a, _ in night.ptc_pairs]
    assert times == list(checks.SECOND_PTC_EXPTIMES_S) != list(lab.PTC_EXPTIMES_S)
    series = [fits.getheader(path)["EXPTIME"] for path in night.dark_series]
    assert series == sorted(series) and sorted(set(series)) == list(checks.SECOND_DARK_SERIES_EXPTIMES_S)
    brightest = fits.getdata(night.ptc_pairs[-1][0])
    assert (brightest >= camera.saturation_adu).all() and camera.saturation_adu < lab.SATURATION_ADU
    assert simulate.true_components(night=night.simulation)["nonlinear_pixels"].sum() >= 1
