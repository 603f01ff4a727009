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


def _code_source(notebook, marker):
    """The source of the one code cell of ``notebook`` that contains ``marker``."""
    nb = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))
    sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    (source,) = [s for s in sources if marker in s]
    return source


def _bias_structure(bias):
    """What notebook 01's counting cells find in ``bias``: (bright columns, number of speck pixels)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace = {"np": np, "plt": plt, "bias_data": bias}
    for marker in ("bright_columns =", "specks ="):
        exec(_code_source("01_fits_basics.ipynb", marker), namespace)
    plt.close("all")
    return list(namespace["bright_columns"]), int(namespace["specks"].sum())


def test_01_example_camera_size():
    side, _ = quoted("01_fits_basics.ipynb", r"a (\d+) × \1 camera, for example, makes frames of about a (million) pixels")
    assert abs(side**2 / 1e6 - 1) < 0.1
    (centre,) = quoted("01_fits_basics.ipynb", r"On a 1024 × 1024 camera the centre > would be pixel `\[(\d+), \1\]`")
    assert centre == side // 2


def test_01_bright_columns_and_specks_are_counted_right():
    """The counts the prose points to find the bundled night's bright columns and cosmic rays, and nothing in pure noise."""
    quoted("01_fits_basics.ipynb", r"counts the columns that lie above the mean of their two neighbours by more than (five) times")
    quoted("01_fits_basics.ipynb", r"counts the pixels more than (ten) times that scatter above their column")
    assert "5 * usual" in _code_source("01_fits_basics.ipynb", "bright_columns =")
    assert "10 * scatter" in _code_source("01_fits_basics.ipynb", "specks =")
    quoted("01_fits_basics.ipynb", r"(A count of zero) means that this frame caught no cosmic ray bright enough to stand out")
    pattern = components()["bias_offset_adu"][0]
    true_excess = pattern[1:-1] - (pattern[:-2] + pattern[2:]) / 2
    outstanding = list(np.flatnonzero(true_excess > 20) + 1)
    assert 1 <= len(outstanding) <= 5
    for name in lab.BIAS_FILES:
        columns, specks = _bias_structure(fits.getdata(simulate.BUNDLED_DIR / name))
        assert columns == outstanding, (name, columns)
        assert (specks > 0) == (truth()["frames"][name]["cosmic_rays"] > 0), (name, specks)
    rng = np.random.default_rng(1)
    noise = np.round(rng.normal(1000, 5, size=(200, 200))).astype(np.uint16)
    assert _bias_structure(noise) == ([], 0)


def test_01_show_image_default_percentiles():
    low, high = quoted("01_fits_basics.ipynb", r"black at the (\d+)st and white at the ([\d.]+)th percentile")
    assert (low, high) == DEFAULT_PERCENTILE


# --- 02: histogram -------------------------------------------------------------


def test_02_one_histogram_per_column():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quoted("02_histogram.ipynb", r"they treat every \*column\* as a separate data set and draw (one) histogram per column")
    bias = frame(lab.FIRST_BIAS_FILE)[:, :7]
    fig, ax = plt.subplots()
    counts, _, _ = ax.hist(bias, bins=10)
    plt.close(fig)
    assert len(counts) == bias.shape[1]


def test_02_hump_inside_the_window_and_bright_column_bumps():
    quoted("02_histogram.ipynb", r"(Almost all) the pixels fall in one narrow hump, well inside the window")
    quoted("02_histogram.ipynb", r"Bright columns, if the frame has any \(Part 1 counted them\), add low (bumps) of their own beside the hump")
    bias = frame(lab.FIRST_BIAS_FILE)
    low, high = lab.BIAS_HISTOGRAM_RANGE_ADU
    inside = (bias >= low) & (bias <= high)
    assert inside.mean() > 0.999
    hump_low, hump_high = np.percentile(bias, [1, 99])
    assert low + (high - low) / 4 < hump_low and hump_high < high - (high - low) / 4  # well inside
    columns, _ = _bias_structure(fits.getdata(simulate.BUNDLED_DIR / lab.FIRST_BIAS_FILE))
    others = np.delete(bias, columns, axis=1)
    assert np.percentile(bias[:, columns], 5) > np.percentile(others, 99)  # beside the hump, not in it
    assert bias[:, columns].max() < high  # and inside the window


def test_02_read_noise_header_and_ratio_of_one_frame():
    quoted("02_histogram.ipynb", r"compare it with the read noise found from the two bias frames: they should be (close)")
    (one,) = quoted("02_histogram.ipynb", r"a frame of pure read noise gives about (\d+)")
    # Pure read noise: one frame's spread over the read noise from two frames is about 1; a column pattern raises it.
    rng = np.random.default_rng(2)
    first, second = rng.normal(1000, 5, size=(2, 200, 200))
    read_noise = np.std(second - first) / np.sqrt(2)
    assert abs(np.std(first) / read_noise - one) < 0.05
    columns = rng.normal(0, 10, size=200)
    assert np.std(first + columns) / np.std((second + columns) - (first + columns)) * np.sqrt(2) > 1.5
    # The bundled night: the measured read noise is close to the header's RDNOISE.
    bias, second = frame(lab.BIAS_FILES[0]), frame(lab.BIAS_FILES[1])
    measured_e = np.std(second - bias) / np.sqrt(2) * lab.GAIN_E_PER_ADU
    assert abs(measured_e / header(lab.FIRST_BIAS_FILE)["RDNOISE"] - 1) < 0.15


def test_02_model_answer_outliers_and_automatic_range():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quoted("02_histogram.ipynb", r"(a single outlier) is enough to stretch it")
    quoted("02_histogram.ipynb", r"the hump, only as wide as the spread of one frame printed above, fills a (small part) of the axis")
    quoted("02_histogram.ipynb", r"the outlying pixels themselves, (a few) per bin, are too few to be seen next to the top of the peak")
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
    assert hump_high - hump_low < 5 * np.std(bias)  # about the spread of one frame
    assert (hump_high - hump_low) / (auto_high - auto_low) < 0.35  # a small part of the axis
    assert counts[edges[:-1] > high].max() <= 5 and counts.max() > 100 * counts[edges[:-1] > high].max()


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


def test_04_vignetting_and_grain():
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


def test_05_exposure_times_in_the_headers():
    quoted("05_process_data.ipynb", r"(\$t_\\mathrm\{sci\}/t_\\mathrm\{dark\}\$) times as much\. "
                                    r"Both times are in the `EXPTIME` keywords of the headers")
    dark_exptime = header(lab.GIVEN_MASTER_FILES["dark"])["EXPTIME"]
    assert dark_exptime == lab.DARK_EXPTIME_S and all(header(name)["EXPTIME"] == dark_exptime for name in lab.DARK_FILES)
    assert header(lab.SCIENCE_FILE)["EXPTIME"] == lab.SCIENCE_EXPTIME_S != dark_exptime


def test_05_raw_counts_start_at_the_bias_level():
    quoted("05_process_data.ipynb", r"The raw counts start at the (bias level) \(printed below\) plus the dark signal")
    # The faintest pixels of the raw frame hold the bias level plus dark signal and sky, nothing less.
    assert np.percentile(frame(lab.SCIENCE_FILE), 1) > np.median(given("bias"))


def test_05_masters_from_every_frame_flats_of_the_science_filter():
    quoted("05_process_data.ipynb", r"The masters were made from (every) bias, dark and flat of the night, "
                                    r"whatever filter their headers name")
    assert f"Median of {len(lab.BIAS_FILES)} bias frames" in header(lab.GIVEN_MASTER_FILES["bias"])["HISTORY"][0]
    assert f"Median of {len(lab.DARK_FILES)} darks" in header(lab.GIVEN_MASTER_FILES["dark"])["HISTORY"][0]
    assert f"Median of {len(lab.FLAT_FILES)} flats" in header(lab.GIVEN_MASTER_FILES["flat"])["HISTORY"][0]
    # On the bundled night the example is not empty: biases of another filter served, the flats are the science's.
    assert {header(name)["FILTER"] for name in lab.BIAS_FILES} - {header(lab.SCIENCE_FILE)["FILTER"]}
    assert {header(name)["FILTER"] for name in lab.FLAT_FILES} == {header(lab.SCIENCE_FILE)["FILTER"]}


def test_05_saturated_star_cores():
    limit, bits = quoted(
        "05_process_data.ipynb",
        r"or when the converter reaches its largest number \((\d+) for a (\d+)-bit converter\), whichever comes first",
    )
    assert limit == 2**bits - 1 == lab.SATURATION_ADU
    saturate = header(lab.SCIENCE_FILE)["SATURATE"]
    assert saturate == truth()["saturation_adu"]
    # Whichever comes first: the full well seen through the gain above the bias, to a percent, or the converter.
    assert saturate == pytest.approx(min(truth()["bias_level_adu"] + truth()["full_well_adu"], limit), rel=0.01)
    quoted("05_process_data.ipynb", r"(the cores of the brightest stars), if any did")
    assert (frame(lab.SCIENCE_FILE) >= saturate).sum() > 0 and truth()["saturated_stars"]


# ---------------------------------------------------------------------------
# Notebook 06: the camera measured


@lru_cache(maxsize=None)
def _ptc():
    import solutions
    from convenience_functions import data_paths

    pairs = [tuple(data_paths(pair)) for pair in lab.PTC_FLAT_PAIRS]
    return solutions.photon_transfer(pairs, *data_paths(lab.BIAS_FILES[:2]))


def _gain_pair(fraction):
    """The notebook's choice: the brightest pair below ``fraction`` of the range from the bias level to SATURATE."""
    bias_level = (frame(lab.BIAS_FILES[0]).mean() + frame(lab.BIAS_FILES[1]).mean()) / 2
    saturate = header(lab.PTC_FLAT_PAIRS[0][0]).get("SATURATE", lab.SATURATION_ADU)
    signals = np.array([np.mean([frame(name).mean() for name in pair]) for pair in lab.PTC_FLAT_PAIRS]) - bias_level
    below = np.flatnonzero(signals < fraction * (saturate - bias_level))
    return int(below[np.argmax(signals[below])])


def test_06_gain_pair_well_inside_the_linear_range():
    import solutions
    from convenience_functions import data_paths

    (fraction,) = quoted("06_know_your_camera.ipynb", r"the brightest pair whose signal above the bias stays below "
                                                      r"(a quarter) of the range a pixel can record")
    chosen = _gain_pair({"a quarter": 0.25}[fraction])
    assert lab.PTC_FLAT_PAIRS[chosen] == ("LampR-04a.fit", "LampR-04b.fit")
    # "well inside the linear range": below where the response bends, and its variance is read + shot noise.
    signal, variance = _ptc()
    assert signal[chosen] < 0.5 * truth()["linear_limit_adu"]
    expected = truth()["read_noise_adu"] ** 2 + signal[chosen] / truth()["gain_e_per_adu"]
    assert variance[chosen] == pytest.approx(expected, rel=0.02)
    measured_gain = solutions.measure_gain(*data_paths(lab.PTC_FLAT_PAIRS[chosen]), *data_paths(lab.BIAS_FILES[:2]))
    assert measured_gain == pytest.approx(truth()["gain_e_per_adu"], rel=0.01)
    # "signal / variance comes out too small": one flat of that pair alone.
    quoted("06_know_your_camera.ipynb", r"signal / variance comes out (too small), by the factor printed")
    flat = frame(lab.PTC_FLAT_PAIRS[chosen][0])
    assert (flat.mean() - frame(lab.BIAS_FILES[0]).mean()) / flat.var() < measured_gain / 10
    # The model answer: the pair's read noise agrees with the header's RDNOISE where there is one.
    quoted("06_know_your_camera.ipynb", r"it agrees with the (header's RDNOISE) where the headers give one")
    noise = solutions.measure_read_noise(*data_paths(lab.BIAS_FILES[:2]), lab.GAIN_E_PER_ADU)
    assert noise == pytest.approx(header(lab.FIRST_BIAS_FILE)["RDNOISE"], rel=0.05)


def test_06_full_well_and_linearity_read_off_the_curve():
    signal, variance = _ptc()
    (within,) = quoted("06_know_your_camera.ipynb", r"the last pair whose variance still matches read plus shot noise "
                                                    r"\(within (\d+) %: the camera is linear up to there\)")
    quoted("06_know_your_camera.ipynb", r"the signal of the (first pair whose variance has collapsed to the read noise)")
    saturated = (variance < 2 * truth()["read_noise_adu"] ** 2) & (signal > 100 * truth()["read_noise_adu"])
    assert saturated.any() and signal[saturated].min() == pytest.approx(truth()["full_well_adu"], rel=0.01)
    # The model answer's branch on the bundled night: the pixels saturate before the 16-bit converter.
    quoted("06_know_your_camera.ipynb", r"in which case it is (the pixels, not the converter), that")
    assert truth()["full_well_adu"] + truth()["bias_level_adu"] < 2 ** 16 - 1
    expected = truth()["read_noise_adu"] ** 2 + signal / truth()["gain_e_per_adu"]
    agree = np.abs(variance / expected - 1) < within / 100
    last = int(np.flatnonzero(agree).max())
    # The truth agrees: the bend starts between the last pair that matches and the next.
    assert signal[last] < truth()["linear_limit_adu"] < signal[last + 1]
    assert variance[last + 1] < (1 - within / 100) * expected[last + 1]


def test_06_dark_signal_is_a_line_through_nearly_zero():
    import solutions
    from convenience_functions import data_paths

    quoted("06_know_your_camera.ipynb", r"so the line should pass through (zero)")
    bias = given("bias")
    times = np.array([header(name)["EXPTIME"] for name in lab.DARK_SERIES_FILES])
    means = np.array([np.mean(frame(name) - bias) for name in lab.DARK_SERIES_FILES])
    slope, intercept = np.polyfit(times, means, 1)
    assert abs(intercept) < 0.05 * means.max()
    assert np.max(np.abs(means - (intercept + slope * times))) < 0.05 * means.max()
    assert solutions.fit_dark_current(data_paths(lab.DARK_SERIES_FILES), bias, lab.GAIN_E_PER_ADU) == pytest.approx(
        slope * lab.GAIN_E_PER_ADU, rel=0.05)


def test_05_pixels_whose_dark_charge_rivals_the_sky_stay_noisier():
    quoted("05_process_data.ipynb",
           r"so a pixel whose dark charge rivals the sky's stays\s+noisier than its neighbours")
    # The reference's calibration with the given masters; the truth's dark current picks the pixels.
    dark_scale = lab.SCIENCE_EXPTIME_S / header(lab.GIVEN_MASTER_FILES["dark"])["EXPTIME"]
    calibrated = (frame(lab.SCIENCE_FILE) - given("bias") - given("dark") * dark_scale) / given("flat")
    sky_e = np.median(calibrated) * lab.GAIN_E_PER_ADU
    rivals = components()["dark_current_e_per_s"] * lab.SCIENCE_EXPTIME_S >= sky_e
    unsaturated = frame(lab.SCIENCE_FILE) < header(lab.SCIENCE_FILE)["SATURATE"]
    padded = np.pad(calibrated, 1, mode="edge")
    ny, nx = calibrated.shape
    neighbours = np.median([padded[1 + dy:ny + 1 + dy, 1 + dx:nx + 1 + dx]
                            for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)], axis=0)
    deviation = np.abs(calibrated - neighbours)
    assert (rivals & unsaturated).sum() >= 10  # the bundled camera has some
    # At least sqrt(2) times the noise where the dark charge equals the sky's; more for hotter ones.
    assert np.median(deviation[rivals & unsaturated]) > 1.4 * np.median(deviation[~rivals & unsaturated])  # 2.1
