"""What the notebooks' prose says about the bundled night agrees with its frames.

Each test finds one statement in the markdown of an instructor notebook
(``solutions/ccd_reduction``), reads the numbers it quotes, and recomputes
them from the bundled frames, the simulator's noiseless components and the
truth file (``sample_data.simulate.BUNDLED_TRUTH``), within the precision the
statement gives ("about 1500 ADU": to the nearest hundred).  A statement that
is reworded fails with its own name, so that the number and its test move
together; a changed night fails where the prose no longer holds.
"""

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from convenience_functions import lab
from convenience_functions.display import DEFAULT_PERCENTILE
from sample_data import simulate

NOTEBOOKS = Path(__file__).resolve().parent.parent / "solutions" / "ccd_reduction"


@lru_cache(maxsize=None)
def _cells(notebook, kind):
    nb = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))
    return [" ".join("".join(c["source"]).split()) for c in nb["cells"] if c["cell_type"] == kind]


def quoted(notebook, pattern):
    """What ``pattern`` captures in the markdown of ``notebook``: numbers as floats, words as they are."""
    text = " ".join(_cells(notebook, "markdown"))
    match = re.search(pattern, text)
    assert match, (
        f"the prose of {notebook} no longer says {pattern!r}: "
        "update tests/test_prose.py together with the statement"
    )
    return [_number(group) for group in match.groups()]


def _number(text):
    try:
        return float(text.replace(" ", ""))
    except ValueError:
        return text


@lru_cache(maxsize=None)
def frame(name):
    return fits.getdata(simulate.BUNDLED_DIR / name).astype(float)


@lru_cache(maxsize=None)
def header(name):
    return fits.getheader(simulate.BUNDLED_DIR / name)


@lru_cache(maxsize=None)
def truth():
    return json.loads(simulate.BUNDLED_TRUTH.read_text())


@lru_cache(maxsize=None)
def components():
    return simulate.true_components()


def given(kind):
    return fits.getdata(simulate.BUNDLED_DIR / lab.GIVEN_MASTER_FILES[kind]).astype(float)


def typical_dark_e_per_s():
    """The median dark current, e-/s, measured from the given master dark."""
    dark_exptime = header(lab.GIVEN_MASTER_FILES["dark"])["EXPTIME"]
    return np.median(given("dark")) * lab.GAIN_E_PER_ADU / dark_exptime


def bias_noise():
    """Notebook 04's measurement: noise of one bias, of the median and of the mean of all (ADU)."""
    stack = np.array([frame(name) for name in lab.BIAS_FILES])
    _, ny, nx = stack.shape
    centre = (slice(ny // 4, 3 * ny // 4), slice(nx // 4, 3 * nx // 4))

    def without_columns(image):
        return image - np.median(image, axis=0)

    one = np.std((stack[0] - stack[1])[centre]) / np.sqrt(2)
    median = np.std(without_columns(np.median(stack, axis=0))[centre])
    mean = np.std(without_columns(stack.mean(axis=0))[centre])
    return one, median, mean


def corrected_flats():
    """The flats less the given bias and scaled dark, each over its own median."""
    bias, dark = given("bias"), given("dark")
    dark_exptime = header(lab.GIVEN_MASTER_FILES["dark"])["EXPTIME"]
    flats = []
    for name in lab.FLAT_FILES:
        flat = frame(name) - bias - dark * header(name)["EXPTIME"] / dark_exptime
        flats.append(flat)
    return flats


# --- 01: FITS basics ---------------------------------------------------------


def test_01_frame_size_and_pixel_count():
    ny, nx = quoted("01_fits_basics.ipynb", r"Its image has (\d+) × (\d+) pixels")
    assert frame(lab.FIRST_BIAS_FILE).shape == (ny, nx) == tuple(truth()["shape"])
    (count,) = quoted("01_fits_basics.ipynb", r"Numbers are hard to take in ([\d ]+) at a time")
    assert count == frame(lab.FIRST_BIAS_FILE).size


def test_01_bias_level_about_1500_adu():
    (around,) = quoted("01_fits_basics.ipynb", r"every pixel sits around (\d+) ADU")
    (about,) = quoted("01_fits_basics.ipynb", r"the bias level \(about (\d+) ADU here\)")
    median = np.median(frame(lab.FIRST_BIAS_FILE))
    for stated in (around, about):
        assert abs(median - stated) < 50, (stated, median)  # to the nearest hundred


def test_01_show_image_default_percentiles():
    low, high = quoted("01_fits_basics.ipynb", r"black at the (\d+)st and white at the ([\d.]+)th percentile")
    assert (low, high) == DEFAULT_PERCENTILE


# --- 02: histogram -------------------------------------------------------------


def test_02_one_histogram_per_column():
    (columns,) = quoted("02_histogram.ipynb", r"draw (\d+) histograms on top of each other")
    assert columns == frame(lab.FIRST_BIAS_FILE).shape[1]


def test_02_hump_and_bright_column_bumps():
    (hump,) = quoted("02_histogram.ipynb", r"one narrow hump around (\d+) ADU")
    low, high = quoted("02_histogram.ipynb", r"The low bumps near (\d+)–(\d+) ADU are the pixels of the few bright columns")
    bias = frame(lab.FIRST_BIAS_FILE)
    assert abs(np.median(bias) - hump) < 50
    from scipy import ndimage

    # A bright column stands out from its neighbours (the hump across the frame is broader).
    column_medians = np.median(bias, axis=0)
    bright = column_medians - ndimage.median_filter(column_medians, size=9, mode="nearest") > 20
    assert 1 <= bright.sum() <= 5, f"{bright.sum()} bright columns, not a few"
    p5, p95 = np.percentile(bias[:, bright], [5, 95])
    assert low - 10 <= p5 and p95 <= high + 10, (p5, p95)  # to the nearest ten ADU


def test_02_gain_and_noise_of_one_frame():
    (gain,) = quoted("02_histogram.ipynb", r"The gain, (\d+) electrons per ADU")
    assert gain == lab.GAIN_E_PER_ADU == header(lab.FIRST_BIAS_FILE)["GAIN"] == truth()["gain_e_per_adu"]
    assert re.search("standard deviation of one frame is more than twice as large", " ".join(_cells("02_histogram.ipynb", "markdown")))
    bias, second = frame(lab.BIAS_FILES[0]), frame(lab.BIAS_FILES[1])
    read_noise = np.std(second - bias) / np.sqrt(2)
    assert np.std(bias) > 2 * read_noise


def test_02_model_answer_outliers_and_automatic_range():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quoted("02_histogram.ipynb", r"left a few pixels above (1700) ADU")
    quoted("02_histogram.ipynb", r"the hump, a few tens of ADU wide, fills only a small part of the axis")
    quoted("02_histogram.ipynb", r"a few per bin, are too few to be seen next to a peak of more than a (thousand)")
    bias = frame(lab.FIRST_BIAS_FILE)
    low, high = lab.BIAS_HISTOGRAM_RANGE_ADU
    assert not (bias < low).any()
    above = bias > high
    assert 1 <= above.sum() <= 10, f"{above.sum()} pixels above {high} ADU, not a few"
    assert truth()["frames"][lab.FIRST_BIAS_FILE]["cosmic_rays"] >= 1  # and they are a cosmic ray
    # What matplotlib shows when left to itself, with the solution's 1-ADU bins.
    edges = np.arange(bias.min(), bias.max() + 2) - 0.5
    fig, ax = plt.subplots()
    counts, _, _ = ax.hist(bias.ravel(), bins=edges, histtype="step")
    auto_low, auto_high = ax.get_xlim()
    plt.close(fig)
    assert auto_high > bias.max()
    hump_low, hump_high = np.percentile(bias, [1, 99])
    assert 10 <= hump_high - hump_low < 100  # a few tens of ADU
    assert (hump_high - hump_low) / (auto_high - auto_low) < 0.35  # a small part of the axis
    assert counts[edges[:-1] > high].max() <= 5 and counts.max() > 1000


# --- 03: dark current ------------------------------------------------------------


def test_03_bias_much_larger_than_the_dark_signal():
    quoted("03_dark_current.ipynb", r"The bias level is (usually) much larger than what the dark current adds to a "
                                    r"typical pixel during a dark")
    assert np.median(given("bias")) / np.median(given("dark")) >= 10  # a typical pixel
    # The cell prints how many times too large forgetting it makes the dark current (the mean).
    bias, dark = frame(lab.FIRST_BIAS_FILE), frame(lab.FIRST_DARK_FILE)
    assert np.mean(dark) / np.mean(dark - bias) >= 10


def test_03_hot_pixels_pull_the_mean_up():
    quoted("03_dark_current.ipynb", r"The \*mean\* is higher when hot pixels, each with (many) times the current of "
                                    r"an ordinary pixel, pull it up")
    exptime = header(lab.FIRST_DARK_FILE)["EXPTIME"]
    rate = (frame(lab.FIRST_DARK_FILE) - frame(lab.FIRST_BIAS_FILE)) * lab.GAIN_E_PER_ADU / exptime
    assert np.mean(rate) > np.median(rate)
    hot = components()["hot_pixels"]
    current = components()["dark_current_e_per_s"]
    assert (current[hot] / np.median(current)).min() >= 10
    # On the bundled night the cell finds the median inside the range expected at its temperature.
    low, high = lab.TYPICAL_DARK_CURRENT_E_PER_S
    assert low <= np.median(rate) <= high


def test_03_dark_current_and_temperature():
    (halving,) = quoted("03_dark_current.ipynb", r"it roughly halves for every (\d+) °C of cooling")
    assert simulate.DARK_CURRENT_HALVING_C == lab.DARK_CURRENT_HALVING_C == halving
    quoted("03_dark_current.ipynb", r"an uncooled camera at room temperature has (many)\s+times more")
    cooled = header(lab.FIRST_DARK_FILE)["CCD-TEMP"]
    assert simulate.dark_current_at(20.0) / simulate.dark_current_at(cooled) >= 10
    assert lab.typical_dark_current(20.0) / lab.typical_dark_current(cooled) >= 10


def test_03_read_noise_from_two_biases():
    quoted("03_dark_current.ipynb", r"the read noise of a pixel measured from the first (two) biases \(their "
                                    r"difference holds only noise, \$\\sqrt\{2\}\$ times that of one frame\)")
    from astropy.stats import sigma_clipped_stats

    pair = frame(lab.BIAS_FILES[0]) - frame(lab.BIAS_FILES[1])
    read_noise = lab.GAIN_E_PER_ADU * sigma_clipped_stats(pair, sigma=5)[2] / np.sqrt(2)
    assert read_noise == pytest.approx(header(lab.FIRST_BIAS_FILE)["RDNOISE"], rel=0.05)


def test_03_model_answer_dark_noise_hot_pixels_and_sky():
    notebook = "03_dark_current.ipynb"
    quoted(notebook, r"For ordinary pixels the dark current matters little when its noise is well below the read "
                     r"noise; for the hot pixels it matters (a lot)")
    quoted(notebook, r"even when an ordinary pixel's dark signal is (negligible), theirs is not")
    quoted(notebook, r"when its Poisson noise \(printed last\) is larger than the read noise and the dark noise, the "
                     r"sky (dominates)")
    t = lab.SCIENCE_EXPTIME_S
    read_noise = header(lab.SCIENCE_FILE)["RDNOISE"]
    n_dark = typical_dark_e_per_s() * t
    # The bundled night: the typical pixel's dark noise is well below the read noise ...
    assert np.sqrt(n_dark) < read_noise / 2
    # ... while every hot pixel collects far more than the read noise in the science exposure ...
    current = components()["dark_current_e_per_s"]
    hot = current[components()["hot_pixels"]]
    assert hot.min() * t > 10 * read_noise
    # ... and the sky's noise dominates both.
    sky = truth()["sky_background_e_per_s"] * t
    assert np.sqrt(sky) > 2 * max(read_noise, np.sqrt(n_dark))


# --- 04: stacking ------------------------------------------------------------------


def test_04_darks_of_one_exposure_time_flats_of_the_science_filter():
    quoted("04_stacking.ipynb", r"`lab.DARK_FILES`: the dark frames, all of the (same) exposure time")
    quoted("04_stacking.ipynb", r"`lab.FLAT_FILES`: the flats, taken through the filter of the (science) frame")
    assert len({header(name)["EXPTIME"] for name in lab.DARK_FILES}) == 1
    assert {header(name)["FILTER"] for name in lab.FLAT_FILES} == {header(lab.SCIENCE_FILE)["FILTER"]} == {lab.BAND}


def test_04_cosmic_ray_adds_hundreds_of_adu():
    quoted("04_stacking.ipynb", r"A cosmic ray that hits one dark frame adds (hundred)s of ADU to a few pixels")
    low, high = (e / lab.GAIN_E_PER_ADU for e in simulate.COSMIC_RAY_E_PER_PIXEL_RANGE)
    assert 100 <= low and high < 1000


def test_04_tiny_stack_median_and_mean():
    median, mean = quoted("04_stacking.ipynb", r"The median of the hit pixel is (\d+).*dragged up to (\d+)\.")
    (source,) = [c for c in _cells("04_stacking.ipynb", "code") if c.startswith("tiny_stack = ")]
    namespace = {"np": np}
    exec(source.split(" print(")[0], namespace)
    tiny = namespace["tiny_stack"]
    assert np.median(tiny, axis=0)[1, 1] == median
    assert round(np.mean(tiny, axis=0)[1, 1]) == mean


def test_04_flat_levels_and_which_flat_the_median_picks():
    quoted("04_stacking.ipynb", r"When the levels differ by more than that noise, a median of the unscaled flats has "
                                r"little choice: at (most) pixels, the middle value is simply the flat whose \*level\*")
    flats = corrected_flats()
    levels = np.array([np.median(f) for f in flats])
    noise = np.std(flats[0] / levels[0] - flats[1] / levels[1]) / np.sqrt(2)
    assert (levels.max() - levels.min()) / np.median(levels) > 10 * noise  # the bundled flats' levels do differ
    stack = np.array(flats)
    closest = np.argmin(np.abs(stack - np.median(stack, axis=0)), axis=0)
    assert np.bincount(closest.ravel()).max() / closest.size > 0.5


def test_04_first_flat_dark_signal_is_tiny():
    quoted("04_stacking.ipynb", r"its\s+dark signal is left out: next to the flat's level it is (tiny)")
    exptime = header(lab.FLAT_FILES[0])["EXPTIME"]
    dark_exptime = header(lab.GIVEN_MASTER_FILES["dark"])["EXPTIME"]
    level = np.median(corrected_flats()[0])
    assert np.median(given("dark")) * exptime / dark_exptime < 1e-3 * level
    quoted("04_stacking.ipynb", r"A flat collects (many) electrons per pixel")
    assert all(level * lab.GAIN_E_PER_ADU >= 10_000 for level in truth()["flat_levels_adu"])


def test_04_vignetting_grain_and_dust():
    quoted("04_stacking.ipynb", r"Look for corners darker than the\s+centre \(\*\*(vignetting)\*\*")
    quoted("04_stacking.ipynb", r"The fine grain that both panels share is real too: pixels differ in (sensitivity)")
    from scipy import ndimage

    flat = components()["flat"]
    ny, nx = flat.shape
    box = max(ny, nx) // 10
    corners = np.median([flat[:box, :box], flat[:box, -box:], flat[-box:, :box], flat[-box:, -box:]])
    assert corners < np.median(flat[(ny - box) // 2:(ny + box) // 2, (nx - box) // 2:(nx + box) // 2])
    grain = np.std(flat / ndimage.median_filter(flat, size=9))
    assert 0.005 <= grain < 0.02
    quoted("05_process_data.ipynb", r"shadows of dust, a (few) percent deep")
    night = simulate.bundled_description()
    donuts = simulate.dust_donut_params(night.shape, simulate.pattern_rng(night.seed, simulate._STREAM_FLAT))
    depths = [donut[4] for donut in donuts]
    assert depths and all(0.01 <= depth < 0.1 for depth in depths), depths


def test_04_master_flat_sqrt_n_over_1_25_less_noisy_than_one_flat():
    quoted("04_stacking.ipynb", r"The median of the scaled flats is expected to be \$\\sqrt\{N\}/(1.25)\$ times less "
                                r"noisy than a single flat")
    true_flat = components()["flat"]
    flats = corrected_flats()
    one = np.std(flats[0] / np.median(flats[0]) / true_flat - 1)
    master = given("flat")
    master_noise = np.std(master / true_flat / np.median(master / true_flat) - 1)
    assert one / master_noise == pytest.approx(np.sqrt(len(flats)) / 1.25, rel=0.2)


def test_04_how_much_quieter_the_master_bias_is():
    notebook = "04_stacking.ipynb"
    quoted(notebook, r"the mean should\s+be close to \$\\sqrt\{N\}\$ times quieter than one frame, the median close "
                     r"to \$\\sqrt\{N\}/1.25\$ times")
    percent, = quoted(notebook, r"about (\d+) %\s+noisier than the mean \(that is the limit for many frames; with few "
                                r"frames the median loses less\)")
    assert percent == round(100 * (np.sqrt(np.pi / 2) - 1))
    one, median, mean = bias_noise()
    n = len(lab.BIAS_FILES)
    # "close to": the measured ratios within 15 % of the rule's on the bundled night.
    assert one / mean == pytest.approx(np.sqrt(n), rel=0.15)
    assert one / median == pytest.approx(np.sqrt(n) / 1.25, rel=0.15)
    assert 0 < median / mean - 1 <= percent / 100 + 0.05
    # "bias frames too catch cosmic rays": the bundled biases do.
    quoted(notebook, r"bias frames (too) catch cosmic rays while they are read out")
    assert sum(truth()["frames"][name]["cosmic_rays"] for name in lab.BIAS_FILES) >= 1


def test_04_cosmic_ray_in_the_first_dark_and_warm_columns():
    quoted("04_stacking.ipynb", r"wherever a \*\*cosmic ray\*\*, a particle, hit this\s+(one) frame at one moment")
    assert truth()["frames"][lab.DARK_FILES[0]]["cosmic_rays"] >= 1
    quoted("04_stacking.ipynb", r"both panels show the same vertical stripes, and\s+\"(warm)\" columns may stand out")
    columns = np.median(components()["bias_adu"], axis=0)
    assert np.std(columns) > truth()["read_noise_adu"] / np.sqrt(len(columns))  # stripes, above the noise
    assert (columns > np.median(columns) + 5 * np.std(columns[columns < np.percentile(columns, 95)])).any()


# --- 05: calibration -------------------------------------------------------------


def test_05_exposure_times_and_filter():
    (t_sci,) = quoted("05_process_data.ipynb", r"the raw (\d+)-second R-band image")
    t_dark, t_sci_2, = quoted("05_process_data.ipynb", r"exposure time \$t_\\mathrm\{dark\}\$ \((\d+) s\).*\$t_\\mathrm\{sci\}\$ \((\d+) s\), three times as much")
    science = header(lab.SCIENCE_FILE)
    assert science["EXPTIME"] == t_sci == t_sci_2 and science["FILTER"] == "R"
    assert header(lab.GIVEN_MASTER_FILES["dark"])["EXPTIME"] == t_dark and t_sci / t_dark == 3
    (level,) = quoted("05_process_data.ipynb", r"the bias level \(about (\d+) ADU\)")
    assert abs(np.median(given("bias")) - level) < 50


def test_05_biases_and_darks_of_both_filters_flats_of_one():
    quoted("05_process_data.ipynb", r"(half) of the biases and darks that went into the masters are named `CalV-...`")
    for names in (lab.BIAS_FILES, lab.DARK_FILES):
        filters = [header(name)["FILTER"] for name in names]
        assert filters.count("V") * 2 == len(filters) and set(filters) == {"R", "V"}
    assert {header(name)["FILTER"] for name in lab.FLAT_FILES} == {header(lab.SCIENCE_FILE)["FILTER"]}


def test_05_saturated_star_cores():
    level, bits = quoted(
        "05_process_data.ipynb",
        r"for this camera the full well comes first: about ([\d,]+) ADU, below the converter's (\d+)-bit limit",
    )
    saturate = header(lab.SCIENCE_FILE)["SATURATE"]
    assert saturate == truth()["saturation_adu"] < 2**bits - 1 == lab.SATURATION_ADU
    # The full well seen through the gain above the bias, to the statement's precision.
    assert saturate == pytest.approx(truth()["bias_level_adu"] + truth()["full_well_adu"], rel=0.01)
    assert float(level.replace(",", "")) == pytest.approx(saturate, rel=0.01)
    assert (frame(lab.SCIENCE_FILE) >= saturate).sum() > 0 and truth()["saturated_stars"]


# ---------------------------------------------------------------------------
# Notebook 06: the camera measured


def _number_with_commas(text):
    return float(str(text).replace(",", ""))


@lru_cache(maxsize=None)
def _ptc():
    import solutions
    from convenience_functions import data_paths

    pairs = [tuple(data_paths(pair)) for pair in lab.PTC_FLAT_PAIRS]
    return solutions.photon_transfer(pairs, *data_paths(lab.BIAS_FILES[:2]))


def test_06_read_noise_and_gain_of_the_model_answer():
    import solutions
    from convenience_functions import data_paths

    noise_e, noise_adu = quoted("06_know_your_camera.ipynb", r"biases gives about (\d+) e- \((\d+) ADU at 2 e-/ADU\)")
    measured = solutions.measure_read_noise(*data_paths(lab.BIAS_FILES[:2]), lab.GAIN_E_PER_ADU)
    assert measured == pytest.approx(noise_e, rel=0.05) and measured / lab.GAIN_E_PER_ADU == pytest.approx(noise_adu, rel=0.05)
    (gain,) = quoted("06_know_your_camera.ipynb", r"pair in the middle of the series gives ([\d.]+) e-/ADU to a fraction of a percent")
    pair = data_paths(lab.PTC_FLAT_PAIRS[len(lab.PTC_FLAT_PAIRS) // 2 - 1])
    measured_gain = solutions.measure_gain(*pair, *data_paths(lab.BIAS_FILES[:2]))
    assert measured_gain == pytest.approx(gain, rel=0.01) == pytest.approx(truth()["gain_e_per_adu"], rel=0.01)
    # "one flat alone gives a number more than ten times too small"
    quoted("06_know_your_camera.ipynb", r"one flat alone gives a number (more than ten times) too small")
    flat = frame(lab.PTC_FLAT_PAIRS[len(lab.PTC_FLAT_PAIRS) // 2 - 1][0])
    bias_level = np.mean(frame(lab.BIAS_FILES[0]))
    assert measured_gain / ((flat.mean() - bias_level) / flat.var()) > 10


def test_06_full_well_dynamic_range_and_linearity():
    signal, variance = _ptc()
    adu, electrons = quoted("06_know_your_camera.ipynb", r"it sits at ([\d,]+) ADU = ([\d,]+) e-, below the 16-bit")
    saturated = (variance < 2 * truth()["read_noise_adu"] ** 2) & (signal > 100 * truth()["read_noise_adu"])
    assert saturated.any() and signal[saturated].min() == pytest.approx(_number_with_commas(adu), rel=0.01)
    assert truth()["full_well_e"] == pytest.approx(_number_with_commas(electrons), rel=0.01)
    assert truth()["full_well_adu"] + truth()["bias_level_adu"] < 2 ** 16 - 1
    (dynamic,) = quoted("06_know_your_camera.ipynb", r"full well / read noise, about ([\d,]+):")
    assert truth()["full_well_e"] / truth()["read_noise_e"] == pytest.approx(_number_with_commas(dynamic), rel=0.1)

    limit, percent, following, shortfall = quoted(
        "06_know_your_camera.ipynb",
        r"up to the pair at about ([\d,]+) ADU \((\d+) % of the full well\) the variance matches read noise "
        r"plus shot noise; the next pair, at about ([\d,]+) ADU, is already (\d+) % below",
    )
    expected = truth()["read_noise_adu"] ** 2 + signal / truth()["gain_e_per_adu"]
    agree = np.abs(variance / expected - 1) < 0.05
    last = int(np.flatnonzero(agree).max())
    assert signal[last] == pytest.approx(_number_with_commas(limit), rel=0.05)
    assert 100 * signal[last] / truth()["full_well_adu"] == pytest.approx(percent, abs=3)
    assert signal[last + 1] == pytest.approx(_number_with_commas(following), rel=0.05)
    assert 100 * (1 - variance[last + 1] / expected[last + 1]) == pytest.approx(shortfall, abs=5)
    # The truth agrees: the bend starts between the two pairs.
    assert signal[last] < truth()["linear_limit_adu"] < signal[last + 1]


def test_06_dark_signal_is_a_line_through_nearly_zero():
    import solutions
    from convenience_functions import data_paths

    quoted("06_know_your_camera.ipynb", r"The means fall on a line through \((nearly)\) zero")
    bias = given("bias")
    times = np.array([header(name)["EXPTIME"] for name in lab.DARK_SERIES_FILES])
    means = np.array([np.mean(frame(name) - bias) for name in lab.DARK_SERIES_FILES])
    slope, intercept = np.polyfit(times, means, 1)
    assert abs(intercept) < 0.05 * means.max()
    assert np.max(np.abs(means - (intercept + slope * times))) < 0.05 * means.max()
    assert solutions.fit_dark_current(data_paths(lab.DARK_SERIES_FILES), bias, lab.GAIN_E_PER_ADU) == pytest.approx(
        slope * lab.GAIN_E_PER_ADU, rel=0.05)
