"""Tests of convenience_functions: show_image and the data paths."""

import json
import shutil

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from astropy.visualization import (  # noqa: E402
    AsymmetricPercentileInterval,
    PercentileInterval,
    ZScaleInterval,
)
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colorbar import Colorbar  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

from convenience_functions import data_dir, data_path, data_paths, lab, reduced_dir, show_image  # noqa: E402
from convenience_functions import night as night_module  # noqa: E402
from convenience_functions.paths import DATA_ENV_VAR  # noqa: E402


def make_frame(shape=(200, 300), seed=0, bias=1500.0, noise=12.0, hot=50):
    """A raw-like uint16 frame: bias level plus noise plus a few hot pixels (ADU)."""
    rng = np.random.default_rng(seed)
    frame = rng.normal(bias, noise, shape)
    ys = rng.integers(0, shape[0], hot)
    xs = rng.integers(0, shape[1], hot)
    frame[ys, xs] = rng.uniform(20000, 65535, hot)
    return np.clip(np.round(frame), 0, lab.SATURATION_ADU).astype(np.uint16)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- show_image -------------------------------------------------------------


def test_show_image_returns_matplotlib_objects():
    frame = make_frame()
    fig, ax, im, cbar = show_image(frame, cmap="gray")
    assert isinstance(fig, Figure)
    assert isinstance(ax, Axes)
    assert isinstance(im, AxesImage)
    assert isinstance(cbar, Colorbar)
    assert im.axes is ax and ax.figure is fig
    assert im.origin == "lower"
    assert im.get_cmap().name == "gray"
    assert cbar.ax.get_ylabel() == "Counts (ADU)"
    # The students call plt.title right after show_image: it must title this image.
    assert plt.gca() is ax
    plt.title("One Bias Frame")
    assert ax.get_title() == "One Bias Frame"


def test_show_image_each_call_makes_its_own_figure():
    frame = make_frame()
    first = show_image(frame)
    second = show_image(frame)
    assert first.fig is not second.fig
    assert plt.gcf() is second.fig


@pytest.mark.parametrize("percentile", [None, (1.0, 99.5), (5, 95), (0, 100), (10.0, 60.0)])
def test_show_image_limits_are_the_percentiles(percentile):
    frame = make_frame(seed=3)
    lower, upper = (1.0, 99.5) if percentile is None else percentile
    expected = AsymmetricPercentileInterval(lower, upper).get_limits(frame.astype(float))
    display = show_image(frame, percentile=percentile)
    assert display.im.get_clim() == pytest.approx(expected)
    # The stretch must actually clip the hot pixels out of the range...
    if percentile != (0, 100):
        assert display.im.get_clim()[1] < frame.max()
    # ...and for (0, 100) the range is the full range of the data.
    else:
        assert display.im.get_clim() == pytest.approx((frame.min(), frame.max()))


def test_show_image_single_percentile_is_central():
    frame = make_frame(seed=4)
    display = show_image(frame, percentile=90)
    assert display.im.get_clim() == pytest.approx(PercentileInterval(90).get_limits(frame.astype(float)))


def test_show_image_zscale_limits():
    frame = make_frame(seed=5)
    display = show_image(frame, zscale=True)
    assert display.im.get_clim() == pytest.approx(ZScaleInterval().get_limits(frame.astype(float)))


def test_show_image_given_limits_win():
    frame = make_frame(seed=6)
    _, upper = AsymmetricPercentileInterval(1.0, 99.5).get_limits(frame.astype(float))
    display = show_image(frame, vmin=1400)
    assert display.im.get_clim() == pytest.approx((1400, upper))
    display = show_image(frame, vmin=1400, vmax=1600)
    assert display.im.get_clim() == pytest.approx((1400, 1600))


@pytest.mark.parametrize("stretch", ["linear", "sqrt", "log", "asinh"])
def test_show_image_stretch_maps_limits_to_ends(stretch):
    frame = make_frame(seed=7)
    display = show_image(frame, stretch=stretch)
    low, high = display.im.get_clim()
    ends = display.im.norm([low, high])
    assert np.asarray(ends) == pytest.approx([0.0, 1.0])
    middle = float(np.asarray(display.im.norm([(low + high) / 2]))[0])
    if stretch == "linear":
        assert middle == pytest.approx(0.5)
    else:  # the non-linear stretches brighten the faint half
        assert middle > 0.5


def test_show_image_keeps_uint16_input():
    frame = make_frame(seed=8)
    before = frame.copy()
    display = show_image(frame)
    assert frame.dtype == np.uint16
    np.testing.assert_array_equal(frame, before)
    # Small frames are drawn pixel for pixel, as floats.
    shown = np.asarray(display.im.get_array())
    assert shown.dtype == np.float64
    np.testing.assert_array_equal(shown, frame.astype(float))
    assert display.im.get_extent() == [-0.5, frame.shape[1] - 0.5, -0.5, frame.shape[0] - 0.5]


def test_show_image_ignores_nan():
    frame = make_frame(seed=9).astype(float)
    frame[10:20, :] = np.nan
    frame[0, 0] = np.inf
    finite = frame[np.isfinite(frame)]
    display = show_image(frame)
    assert display.im.get_clim() == pytest.approx(AsymmetricPercentileInterval(1.0, 99.5).get_limits(finite))
    assert np.all(np.isfinite(display.im.get_clim()))


def test_show_image_masked_pixels_are_ignored():
    frame = make_frame(seed=10).astype(float)
    mask = np.zeros(frame.shape, bool)
    mask[:, :150] = True
    frame[:, :150] += 1e4  # would dominate the range if the mask were ignored
    display = show_image(np.ma.MaskedArray(frame, mask=mask))
    expected = AsymmetricPercentileInterval(1.0, 99.5).get_limits(frame[:, 150:])
    assert display.im.get_clim() == pytest.approx(expected)


def test_show_image_downsamples_large_frames():
    frame = make_frame(shape=(3000, 2400), seed=11, hot=500)
    display = show_image(frame)
    shown = np.asarray(display.im.get_array())
    # 3000 px needs 3 x 3 blocks to fit in 1000 px.
    assert shown.shape == (1000, 800)
    as_float = frame.astype(float)
    assert shown.mean() == pytest.approx(as_float.mean(), rel=1e-12)
    assert shown[0, 0] == pytest.approx(as_float[:3, :3].mean())
    assert shown[-1, -1] == pytest.approx(as_float[-3:, -3:].mean())
    # Axes still count original pixels, and the limits come from full resolution.
    assert display.im.get_extent() == [-0.5, 2399.5, -0.5, 2999.5]
    assert display.im.get_clim() == pytest.approx(AsymmetricPercentileInterval(1.0, 99.5).get_limits(as_float))


def test_show_image_downsamples_4k_frame_to_at_most_max_size():
    frame = make_frame(shape=(4096, 4096), seed=12, hot=0)
    display = show_image(frame, max_size=1000)
    shown = np.asarray(display.im.get_array())
    assert max(shown.shape) <= 1000
    assert max(shown.shape) > 500  # not shrunk more than needed
    # Block size 5: 4095 rows and columns are used, the last one is dropped.
    assert shown.mean() == pytest.approx(frame[:4095, :4095].astype(float).mean(), rel=1e-12)


def test_show_image_downsampling_can_be_switched_off():
    frame = make_frame(shape=(1200, 50), seed=13)
    assert np.asarray(show_image(frame).im.get_array()).shape == (600, 25)
    assert np.asarray(show_image(frame, max_size=None).im.get_array()).shape == (1200, 50)


def test_show_image_side_by_side_panels():
    single = make_frame(seed=14)
    combined = np.median(np.stack([make_frame(seed=s) for s in range(15, 20)]), axis=0)
    figures_before = plt.get_fignums()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    first = show_image(single, ax=left, title="One bias frame")
    second = show_image(combined, ax=right, title="Combined bias frame")
    assert len(plt.get_fignums()) == len(figures_before) + 1  # no extra figure
    assert first.fig is fig and second.fig is fig
    assert first.ax is left and second.ax is right
    assert (left.get_title(), right.get_title()) == ("One bias frame", "Combined bias frame")
    # The median of five frames is less noisy: a narrower display range.
    assert np.ptp(second.im.get_clim()) < np.ptp(first.im.get_clim())
    fig.canvas.draw()  # draws headless without error


def test_show_image_without_colorbar_and_custom_label():
    frame = make_frame(seed=20)
    bare = show_image(frame, show_colorbar=False)
    assert bare.cbar is None
    assert bare.fig.axes == [bare.ax]
    labelled = show_image(frame, colorbar_label="Counts (e-)")
    assert labelled.cbar.ax.get_ylabel() == "Counts (e-)"


def test_show_image_figsize():
    display = show_image(make_frame(seed=21), figsize=(4, 3))
    assert tuple(display.fig.get_size_inches()) == pytest.approx((4, 3))


def test_show_image_flat_frame():
    display = show_image(np.full((20, 30), 1234, dtype=np.uint16))
    low, high = display.im.get_clim()
    assert low < 1234 < high


def test_show_image_repr_is_short():
    text = repr(show_image(make_frame(seed=22)))
    assert text.startswith("<ImageDisplay") and "\n" not in text and len(text) < 120


def test_show_image_fails():
    frame = make_frame(seed=23)
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="image must be 2-D"):
        show_image(frame[0])
    with pytest.raises(ValueError, match="image must be 2-D.*image\\[0\\]"):
        show_image(np.stack([frame, frame]))
    with pytest.raises(ValueError, match="image is empty"):
        show_image(np.zeros((0, 5)))
    with pytest.raises(ValueError, match="image must be a 2-D array of numbers"):
        show_image([["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match="image has no finite pixel"):
        show_image(np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="percentile must satisfy"):
        show_image(frame, percentile=(5, 101))
    with pytest.raises(ValueError, match="percentile must satisfy"):
        show_image(frame, percentile=(99, 1))
    with pytest.raises(ValueError, match="percentile must satisfy"):
        show_image(frame, percentile=(-1, 50))
    with pytest.raises(ValueError, match="percentile must be in"):
        show_image(frame, percentile=0)
    with pytest.raises(ValueError, match="percentile must be one number or a pair"):
        show_image(frame, percentile=(1, 2, 3))
    with pytest.raises(ValueError, match="either percentile or zscale"):
        show_image(frame, percentile=(1, 99), zscale=True)
    with pytest.raises(ValueError, match="either ax .* or figsize"):
        show_image(frame, ax=ax, figsize=(4, 4))
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        show_image(frame, ax="left")
    with pytest.raises(ValueError, match="figsize must be"):
        show_image(frame, figsize=(4, -1))
    with pytest.raises(ValueError, match="stretch must be one of"):
        show_image(frame, stretch="cubic")
    with pytest.raises(ValueError, match="cmap must be"):
        show_image(frame, cmap="no-such-map")
    with pytest.raises(ValueError, match="max_size must be"):
        show_image(frame, max_size=0)
    with pytest.raises(ValueError, match="vmin must be a finite number"):
        show_image(frame, vmin=np.nan)
    with pytest.raises(ValueError, match=r"vmin \(10\) must be smaller than vmax \(5\)"):
        show_image(frame, vmin=10, vmax=5)
    with pytest.raises(ValueError, match="vmin is not below"):
        show_image(frame, vmin=70000)
    # A refused call draws nothing.
    assert len(plt.get_fignums()) == 1


def _drawn_tick_labels(cbar):
    """The colorbar's tick labels drawn on the bar: (text, extent in pixels)."""
    cbar.ax.figure.canvas.draw()
    bar = cbar.ax.get_window_extent()
    drawn = []
    for label in cbar.ax.yaxis.get_ticklabels():
        if not (label.get_visible() and label.get_text()):
            continue
        extent = label.get_window_extent()
        # Ticks outside the view are not drawn; their labels lie off the bar.
        if bar.y0 - 1 <= (extent.y0 + extent.y1) / 2 <= bar.y1 + 1:
            drawn.append((label.get_text(), extent))
    return drawn


def _bundled_frame(name):
    from astropy.io import fits

    from sample_data.simulate import BUNDLED_DIR

    return fits.getdata(BUNDLED_DIR / name)


def _saturated_frame():
    """The science frame as a 20 times longer exposure: sky near 26,000 ADU, 6 % saturated."""
    science = _bundled_frame(lab.SCIENCE_FILE).astype(float)
    longer = 1500.0 + 20 * (science - 1500.0)
    return np.clip(np.rint(longer), 0, lab.SATURATION_ADU).astype(np.uint16)


@pytest.mark.parametrize(
    "frame, options",
    [
        ("science", {}),
        ("science", {"stretch": "asinh"}),
        ("science", {"stretch": "log"}),
        ("science", {"percentile": (1, 60)}),
        ("saturated", {}),
        ("saturated", {"stretch": "sqrt"}),
        ("bias", {}),
        ("bias", {"stretch": "log"}),
    ],
)
def test_show_image_colorbar_labels_do_not_overlap(frame, options):
    # The stretch clips values outside the display range to its ends: a tick
    # just outside the range (70,000 above a range ending at 65,535) used to
    # be drawn at the end of the bar, on top of its neighbour (65,000).
    image = {
        "science": lambda: _bundled_frame(lab.SCIENCE_FILE),
        "saturated": _saturated_frame,
        "bias": lambda: _bundled_frame(lab.FIRST_BIAS_FILE),
    }[frame]()
    if frame == "saturated":
        assert np.mean(image == lab.SATURATION_ADU) > 0.01
    for display in (show_image(image, **options), _panel(image, options)):
        labels = _drawn_tick_labels(display.cbar)
        assert len(labels) >= 3, labels
        low, high = display.im.get_clim()
        for text, _ in labels:
            assert low <= float(text.replace("\N{MINUS SIGN}", "-")) <= high, (text, low, high)
        for i, (text, extent) in enumerate(labels):
            for other, other_extent in labels[i + 1 :]:
                assert not extent.overlaps(other_extent), f"tick labels {text} and {other} overlap"


def _panel(image, options):
    """``image`` drawn into one panel of notebook 05's 2 x 2 figure."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 9), layout="constrained")
    return show_image(image, ax=axes[0, 1], **options)


# --- data paths -------------------------------------------------------------


@pytest.fixture
def fake_data(tmp_path, monkeypatch):
    """A folder with empty stand-ins for the first frames, named by CCDLAB_DATA."""
    folder = tmp_path / "night"
    folder.mkdir()
    for name in (lab.FIRST_BIAS_FILE, lab.FIRST_DARK_FILE, lab.SCIENCE_FILE):
        (folder / name).write_bytes(b"")
    shutil.copy(night_module.night_file(data_dir()), folder)  # the bundled night's description
    monkeypatch.setenv(DATA_ENV_VAR, str(folder))
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    return folder


def test_data_dir_honours_environment(fake_data):
    assert data_dir() == fake_data.resolve()
    assert data_dir().is_absolute()


def test_data_path_finds_frame_from_another_directory(fake_data):
    path = data_path(lab.FIRST_BIAS_FILE)
    assert isinstance(path, str)
    assert path == str(fake_data.resolve() / lab.FIRST_BIAS_FILE)
    with open(path, "rb"):
        pass  # opens although the working directory is elsewhere


def test_data_paths_keeps_order(fake_data):
    names = [lab.SCIENCE_FILE, lab.FIRST_BIAS_FILE]
    assert data_paths(names) == [str(fake_data.resolve() / name) for name in names]
    assert data_paths([]) == []


def test_data_dir_relative_environment_is_made_absolute(tmp_path, monkeypatch):
    (tmp_path / "frames").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(DATA_ENV_VAR, "frames")
    assert data_dir() == (tmp_path / "frames").resolve()


def test_data_dir_fails(tmp_path, monkeypatch):
    missing = tmp_path / "no_such_folder"
    monkeypatch.setenv(DATA_ENV_VAR, str(missing))
    with pytest.raises(FileNotFoundError, match=str(missing)) as info:
        data_dir()
    assert DATA_ENV_VAR in str(info.value)
    assert "ccdlab" not in str(info.value)  # students have no ccdlab command
    with pytest.raises(FileNotFoundError, match=str(missing)):
        data_path(lab.FIRST_BIAS_FILE)


def test_bundled_data_dir_from_another_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    try:
        folder = data_dir()
    except FileNotFoundError as err:
        # Before the sample frames exist the error must say where it looked.
        assert "sample_data" in str(err)
        pytest.skip("bundled frames not generated yet")
    assert folder.is_absolute()
    assert folder.name == "frames" and folder.parent.name == "sample_data"
    assert (folder / lab.FIRST_BIAS_FILE).is_file()
    assert data_path(lab.FIRST_BIAS_FILE) == str(folder / lab.FIRST_BIAS_FILE)


def test_reduced_dir_beside_base(tmp_path):
    base = tmp_path / "student"
    base.mkdir()
    folder = reduced_dir(base)
    assert folder == base / lab.REDUCED_DIRNAME
    assert folder.is_dir()
    (folder / "keep.txt").write_text("x")
    assert reduced_dir(str(base)) == folder  # a second call keeps what is there
    assert (folder / "keep.txt").read_text() == "x"


def test_reduced_dir_defaults_to_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = reduced_dir()
    assert folder.resolve() == (tmp_path / lab.REDUCED_DIRNAME).resolve()
    assert folder.is_dir()


# =============================================================================
# The night's facts come from the data folder's night.json
# =============================================================================

def _other_night(folder, **changes):
    """Write into ``folder`` the bundled night's description with ``changes``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    night = json.loads(night_module.night_file(paths_module_dir()).read_text())
    night.update(changes)
    (folder / night_module.NIGHT_FILE).write_text(json.dumps(night))
    return night


def paths_module_dir():
    from convenience_functions.paths import BUNDLED_DATA_DIR

    return BUNDLED_DATA_DIR


def test_lab_reads_the_night_of_the_data_folder(tmp_path, monkeypatch):
    bundled = night_module.read(paths_module_dir())
    assert lab.BIAS_FILES == tuple(bundled["bias_files"]) and lab.GAIN_E_PER_ADU == bundled["camera"]["gain_e_per_adu"]
    other = _other_night(tmp_path / "other", bias_files=["b1.fits", "b2.fits"], dark_files=["d.fits"],
                         flat_files=["f.fits"], flat_exptimes_s=[7.5], science_file="NGC891-0001.fits",
                         dark_exptime_s=120.0, science_exptime_s=300.0, bias_histogram_range_adu=[40, 160],
                         camera={"name": "SBIG", "gain_e_per_adu": 2.06, "gain_from": "EGAIN", "ccd_temp_c": -15.0},
                         ptc_pairs=[], ptc_exptimes_s=[], dark_series_files=[], dark_series_exptimes_s=[])
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "other"))
    assert (lab.BIAS_FILES, lab.FIRST_BIAS_FILE, lab.DARK_FILES) == (("b1.fits", "b2.fits"), "b1.fits", ("d.fits",))
    assert (lab.DARK_EXPTIME_S, lab.SCIENCE_EXPTIME_S, lab.FLAT_EXPTIMES_S) == (120.0, 300.0, (7.5,))
    assert lab.GAIN_E_PER_ADU == other["camera"]["gain_e_per_adu"] and lab.CCD_TEMP_C == -15.0
    assert lab.BIAS_HISTOGRAM_RANGE_ADU == (40, 160)
    assert lab.CALIBRATED_SCIENCE_FILE == "NGC891-0001_proc.fits"
    assert lab.PTC_FLAT_PAIRS == () and lab.DARK_SERIES_FILES == ()
    assert set(lab.NIGHT_FACTS) <= set(dir(lab))
    # The file changed: read again.
    _other_night(tmp_path / "other", **{**other, "dark_exptime_s": 90.0})
    assert lab.DARK_EXPTIME_S == 90.0
    monkeypatch.delenv(DATA_ENV_VAR)
    assert lab.BIAS_FILES == tuple(bundled["bias_files"])
    with pytest.raises(AttributeError, match="NO_SUCH_FACT"):
        lab.NO_SUCH_FACT


@pytest.mark.parametrize("content, words", [
    (None, "night.json is missing"),
    ("{not json", "not valid JSON"),
    ('{"format": "something else"}', "not a ccdlab night description"),
    ('{"format": "ccdlab night", "version": 1}', "version 1"),
])
def test_a_bad_night_file_is_named(tmp_path, monkeypatch, content, words):
    folder = tmp_path / "night"
    folder.mkdir()
    if content is not None:
        (folder / night_module.NIGHT_FILE).write_text(content)
    monkeypatch.setenv(DATA_ENV_VAR, str(folder))
    with pytest.raises(night_module.NightFileError, match=words) as error:
        lab.BIAS_FILES
    assert str(folder / night_module.NIGHT_FILE) in str(error.value)


def test_a_missing_field_is_named(tmp_path, monkeypatch):
    night = _other_night(tmp_path / "night")
    del night["dark_exptime_s"]
    (tmp_path / "night" / night_module.NIGHT_FILE).write_text(json.dumps(night))
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "night"))
    with pytest.raises(night_module.NightFileError, match="'dark_exptime_s' is missing"):
        lab.DARK_EXPTIME_S


@pytest.mark.parametrize("level, sigma", [(1500.0, 5.0), (100.0, 8.0), (1000.0, 40.0), (3.0, 1.0)])
def test_histogram_range_holds_the_bias(level, sigma):
    """02's range on a night without one: the bias's peak in the middle, nearly every pixel inside, >= 0 ADU."""
    rng = np.random.default_rng(5)
    bias = np.clip(np.rint(rng.normal(level, sigma, (120, 90))), 0, None)
    low, high = night_module.histogram_range(bias)
    assert 0 <= low < np.median(bias) < high
    assert np.mean((bias >= low) & (bias <= high)) > 0.999
    assert high - low < 60 * max(sigma, 1.0)  # zoomed: not the converter's whole range


def test_typical_dark_current_follows_the_temperature(tmp_path, monkeypatch):
    """0.01-0.1 e-/s at the bundled night's -20 C; halved for every 6 C colder; None without CCD-TEMP."""
    assert lab.TYPICAL_DARK_CURRENT_E_PER_S == (0.01, 0.1) and lab.CCD_TEMP_C == -20.0
    assert lab.typical_dark_current(-26.0) == pytest.approx(lab.typical_dark_current(-20.0) / 2)
    night = _other_night(tmp_path / "warm", camera={"name": None, "gain_e_per_adu": 1.5, "gain_from": "--gain",
                                                    "ccd_temp_c": None})
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "warm"))
    assert lab.CCD_TEMP_C is None and lab.TYPICAL_DARK_CURRENT_E_PER_S is None
    assert lab.GAIN_E_PER_ADU == night["camera"]["gain_e_per_adu"]


def test_series_dir_finds_the_night_s_series_or_its_simulated_camera(tmp_path, monkeypatch):
    from convenience_functions import paths

    assert paths.series_dir("ptc") == data_dir() and "the bundled night itself" in paths.series_note("ptc")
    with pytest.raises(ValueError, match="'ptc', 'dark_series'"):
        paths.series_dir("flats")
    # A night without a photon-transfer series, and no simulated camera: the error names the folder.
    _other_night(tmp_path / "night", ptc_pairs=[], ptc_exptimes_s=[])
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "night"))
    assert paths.series_dir("dark_series") == (tmp_path / "night").resolve()
    with pytest.raises(FileNotFoundError, match="has no photon-transfer flat pairs and no simulated camera"):
        paths.series_dir("ptc")
    # With a simulated camera beside it (the import writes one): its folder, and the sentence says so.
    _other_night(tmp_path / "night" / paths.SIMULATED_CAMERA_DIRNAME, label="a simulated camera")
    assert paths.series_dir("ptc") == (tmp_path / "night" / paths.SIMULATED_CAMERA_DIRNAME).resolve()
    assert "has no photon-transfer flat pairs: this part measures a simulated camera" in paths.series_note("ptc")


def test_course_data_dir_reads_the_course_night_file(tmp_path):
    from convenience_functions import paths

    assert paths.course_data_dir(tmp_path) == tmp_path / paths.BUNDLED_DATA_SUBDIR
    (tmp_path / paths.COURSE_NIGHT_FILE).write_text(json.dumps({"frames": "labs/frames"}))
    assert paths.course_data_dir(tmp_path) == (tmp_path / "labs" / "frames").resolve()
    (tmp_path / paths.COURSE_NIGHT_FILE).write_text("{}")
    with pytest.raises(ValueError, match=paths.COURSE_NIGHT_FILE):
        paths.course_data_dir(tmp_path)
