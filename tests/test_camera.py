"""Notebook 06 (solutions/camera.py, autograder/checking/camera.py and co.): measured camera vs the simulator's truth.

Every night is made once per module: the bundled night, the grader's second
night, and two more with another gain and read noise.  The references must
come within 3 % of the truth on the big nights; the checks must pass them and
sound alternatives, and name each known mistake.
"""

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import solutions
from autograder import checks
from autograder.checking import dark_series, photon_transfer, read_noise_gain
from sample_data import simulate

import mistakes

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------
# Nights, made once




def _other_night(folder, camera, shape, seed, label):
    """A night of the simulator with ``camera``: three biases, its photon-transfer and dark series."""
    description = simulate.NightDescription(
        shape=shape, seed=seed, camera=camera, label=label,
        bias_files=("bias0.fit", "bias1.fit", "bias2.fit"), dark_files=("dark0.fit",),
        flat_files=("flat0.fit",), flat_exptimes_s=(3.0,), science_file="science.fit")
    simulate.simulate_night(folder, night=description, truth_file=False)
    night = checks.Night(folder, [str(folder / name) for name in description.bias_files],
                         [str(folder / name) for name in description.dark_files],
                         [str(folder / name) for name in description.flat_files],
                         str(folder / description.science_file),
                         description.shape, description.dark_exptime_s, description.science_exptime_s, label,
                         ptc_pairs=[(str(folder / a), str(folder / b)) for a, b in description.ptc_pairs],
                         dark_series=[str(folder / name) for name in description.dark_series_files])
    night.simulation, night.seed = description, seed
    return night


@pytest.fixture(scope="module")
def bundled():
    night = checks.bundled_night()
    assert night.simulation is not None, "the bundled frames are not the simulator's"
    return night


@pytest.fixture(scope="module")
def second(tmp_path_factory):
    return checks.second_night(tmp_path_factory.mktemp("second"))


@pytest.fixture(scope="module")
def others(tmp_path_factory):
    """Two 150 x 180 / 120 x 160 nights: gain 1.3 and read noise 6 e-, gain 3.7 and read noise 14 e- (warm)."""
    return [
        _other_night(tmp_path_factory.mktemp("low_gain"), simulate.Camera(gain_e_per_adu=1.3, read_noise_e=6.0),
                     (150, 180), 5, "a night with gain 1.3 and read noise 6 e-"),
        _other_night(tmp_path_factory.mktemp("high_gain"),
                     simulate.Camera(gain_e_per_adu=3.7, read_noise_e=14.0, ccd_temp_c=0.0, bias_level_adu=100.0),
                     (120, 160), 6, "a night with gain 3.7 and read noise 14 e-"),
    ]


@pytest.fixture(scope="module")
def big_nights(bundled, others):
    return [bundled] + others


@pytest.fixture(scope="module")
def graded_nights(bundled, second):
    return [bundled, second]


REFERENCE = {
    "measure_read_noise": solutions.measure_read_noise,
    "measure_gain": solutions.measure_gain,
    "photon_transfer": solutions.photon_transfer,
    "plot_photon_transfer": solutions.plot_photon_transfer,
    "fit_dark_current": solutions.fit_dark_current,
    "bad_pixel_mask": solutions.bad_pixel_mask,
}


# ---------------------------------------------------------------------------
# The references against the truth


def _errors(night):
    """Relative error of each scalar reference against the checks' truth on ``night``."""
    gain = night.simulation.camera.gain_e_per_adu
    first, second = night.biases[:2]
    master_bias = solutions.combine_bias(night.biases)
    pair = read_noise_gain.gain_pair(night)
    read_noise, _ = read_noise_gain.read_noise_truth(night)
    true_gain, _ = read_noise_gain.gain_truth(night, pair)
    dark, _ = dark_series.dark_current_truth(night, master_bias)
    return {
        "read noise": solutions.measure_read_noise(first, second, gain) / read_noise - 1,
        "gain": solutions.measure_gain(*pair, first, second) / true_gain - 1,
        "dark current": solutions.fit_dark_current(night.dark_series, master_bias, gain) / dark - 1,
    }


def test_references_within_3_percent_of_the_truth(big_nights):
    for night in big_nights:
        errors = _errors(night)
        assert all(abs(error) < 0.03 for error in errors.values()), (night.description, errors)
        signal, variance = solutions.photon_transfer(night.ptc_pairs, *night.biases[:2])
        true_signal, true_variance, _se, judged = photon_transfer.ptc_truth(night)
        assert judged.sum() >= 4 and not judged.all()  # the floor and the shot-noise regime; not the full well
        assert np.all(np.abs(signal[judged] / true_signal[judged] - 1) < 0.03), night.description
        assert np.all(np.abs(variance[judged] / true_variance[judged] - 1) < 0.03), night.description
        assert variance[-1] < 0.1 * variance[judged].max()  # past the full well the noise is gone


def test_reference_read_noise_and_gain_are_the_camera_s(big_nights):
    """The truths are the camera's own numbers (the bias's noise adds at most a few tenths of a percent here)."""
    for night in big_nights:
        camera = night.simulation.camera
        first, second = night.biases[:2]
        assert solutions.measure_read_noise(first, second, camera.gain_e_per_adu) == pytest.approx(
            camera.read_noise_e, rel=0.03)
        assert solutions.measure_gain(*read_noise_gain.gain_pair(night), first, second) == pytest.approx(
            camera.gain_e_per_adu, rel=0.03)


def test_reference_mask_finds_the_bad_pixels(big_nights):
    for night in big_nights:
        master_bias = solutions.combine_bias(night.biases)
        gain = night.simulation.camera.gain_e_per_adu
        for limit in dark_series.bad_pixel_limits(night):
            mask = solutions.bad_pixel_mask(night.dark_series, master_bias, gain, limit)
            must, must_not, nonlinear = dark_series.bad_pixel_truth(night, limit)
            assert mask.dtype == bool and mask.shape == night.shape
            assert nonlinear.any() and must.any()
            assert not np.any(must & ~mask), (night.description, limit)
            assert np.sum(must_not & mask) <= 2, (night.description, limit)


# ---------------------------------------------------------------------------
# The checks: the reference passes, mistakes are named, sound alternatives pass


@pytest.mark.parametrize("item", sorted(REFERENCE))
def test_reference_passes_its_check(item, graded_nights, others):
    for nights in (graded_nights, others):
        checks.NOTES.clear()
        assert checks.DIAGNOSES[item](REFERENCE[item], nights=nights) == [], item


@pytest.mark.parametrize(
    "item, wrong, phrase",
    [(item, wrong, phrase) for item, cases in mistakes.CAMERA_WRONG_ANSWERS.items() for wrong, phrase in cases],
    ids=lambda value: getattr(value, "__name__", str(value))[:40],
)
def test_mistake_is_named(item, wrong, phrase, graded_nights):
    problems = checks.DIAGNOSES[item](wrong, nights=graded_nights)
    assert problems, f"{wrong.__name__} passed the {item} check"
    assert phrase.lower() in " ".join(problems).lower(), problems


def _frame(name):
    return fits.getdata(name).astype(float)


def read_noise_clipped_3sigma(bias_file_1, bias_file_2, gain):
    from astropy.stats import sigma_clipped_stats

    return sigma_clipped_stats(_frame(bias_file_1) - _frame(bias_file_2), sigma=3)[2] / np.sqrt(2) * gain


def read_noise_mad(bias_file_1, bias_file_2, gain):
    from astropy.stats import mad_std

    return mad_std(_frame(bias_file_1) - _frame(bias_file_2)) / np.sqrt(2) * gain


def gain_mad(flat_file_1, flat_file_2, bias_file_1, bias_file_2):
    from astropy.stats import mad_std

    f1, f2, b1, b2 = (_frame(name) for name in (flat_file_1, flat_file_2, bias_file_1, bias_file_2))
    return (f1.mean() + f2.mean() - b1.mean() - b2.mean()) / (mad_std(f1 - f2) ** 2 - mad_std(b1 - b2) ** 2)


def gain_clipped_3sigma(flat_file_1, flat_file_2, bias_file_1, bias_file_2):
    """Means of the frames over 3-sigma clipped variances of the differences."""
    from astropy.stats import sigma_clipped_stats

    f1, f2, b1, b2 = (_frame(name) for name in (flat_file_1, flat_file_2, bias_file_1, bias_file_2))
    variance = sigma_clipped_stats(f1 - f2)[2] ** 2 - sigma_clipped_stats(b1 - b2)[2] ** 2
    return (f1.mean() + f2.mean() - b1.mean() - b2.mean()) / variance


def ptc_clipped_3sigma(flat_pairs, bias_file_1, bias_file_2):
    from astropy.stats import sigma_clipped_stats

    bias = np.mean([_frame(bias_file_1).mean(), _frame(bias_file_2).mean()])
    signal, variance = [], []
    for name_a, name_b in flat_pairs:
        a, b = _frame(name_a), _frame(name_b)
        signal.append((a + b).mean() / 2 - bias)
        variance.append(sigma_clipped_stats(a - b, sigma=4)[2] ** 2 / 2)
    return np.array(signal), np.array(variance)


def dark_polyfit_of_plain_means(dark_files, master_bias, gain):
    times = [fits.getheader(name)["EXPTIME"] for name in dark_files]
    return np.polyfit(times, [(_frame(name) - master_bias).mean() for name in dark_files], 1)[0] * gain


def dark_least_squares_by_hand(dark_files, master_bias, gain):
    """The slope through the per-time means, written out (no numpy fit)."""
    groups = {}
    for name in dark_files:
        groups.setdefault(fits.getheader(name)["EXPTIME"], []).append((_frame(name) - master_bias).mean())
    t = np.array(sorted(groups))
    y = np.array([np.mean(groups[key]) for key in t])
    return float(np.sum((t - t.mean()) * (y - y.mean())) / np.sum((t - t.mean()) ** 2)) * gain


def mask_polyfit_shortfall(dark_files, master_bias, gain, max_dark_current):
    """np.polyfit slopes over the limit, or the longest darks 8 sigma below the line through the others.

    Each time's darks are combined by their minimum (a cosmic ray only adds charge).
    """
    from astropy.stats import mad_std

    times = np.array([fits.getheader(name)["EXPTIME"] for name in dark_files], dtype=float)
    stack = np.stack([(_frame(name) - master_bias) * gain for name in dark_files])
    unique = np.unique(times)
    lowest = np.stack([stack[times == t].min(axis=0) for t in unique]).reshape(len(unique), -1)
    slope = np.polyfit(unique, lowest, 1)[0].reshape(stack.shape[1:])
    short_slope, short_intercept = np.polyfit(unique[:-1], lowest[:-1], 1)
    predicted = (short_intercept + short_slope * unique[-1]).reshape(stack.shape[1:])
    read = mad_std(stack[1] - stack[0]) / np.sqrt(2)
    sigma = np.sqrt(3 * read**2 + np.clip(predicted, 0, None))
    return (slope > max_dark_current) | (predicted - lowest[-1].reshape(predicted.shape) > 8 * sigma)


def plot_scatter_log_axes(signal_adu, variance_adu2, ax=None):
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    ax.scatter(signal_adu, variance_adu2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(xlabel="signal [ADU]", ylabel="variance [ADU²]")
    return ax


def plot_noise_log_log(signal_adu, variance_adu2, ax=None):
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    ax.loglog(signal_adu, np.sqrt(variance_adu2), "o-")
    ax.set(xlabel="Signal above bias (ADU)", ylabel="Noise of one frame (ADU)")
    return ax


@pytest.mark.parametrize("item, sound", [
    ("plot_photon_transfer", plot_scatter_log_axes), ("plot_photon_transfer", plot_noise_log_log),
    ("measure_read_noise", read_noise_clipped_3sigma), ("measure_read_noise", read_noise_mad),
    ("measure_gain", gain_mad), ("measure_gain", gain_clipped_3sigma),
    ("photon_transfer", ptc_clipped_3sigma),
    ("fit_dark_current", dark_polyfit_of_plain_means), ("fit_dark_current", dark_least_squares_by_hand),
    ("bad_pixel_mask", mask_polyfit_shortfall),
], ids=lambda value: getattr(value, "__name__", str(value)))
def test_a_sound_alternative_passes(item, sound, graded_nights, others):
    for nights in (graded_nights, others):
        checks.NOTES.clear()
        assert checks.DIAGNOSES[item](sound, nights=nights) == [], sound.__name__


@pytest.mark.parametrize("seed", [6, 56, 99])
def test_the_reference_passes_on_other_second_nights(seed, bundled, tmp_path):
    """The grader draws a new second night (shape, noise) per grading run: judged the same."""
    night = checks.second_night(tmp_path, seed=seed)
    for item, function in REFERENCE.items():
        checks.NOTES.clear()
        assert checks.DIAGNOSES[item](function, nights=[night]) == [], (item, seed)


def test_the_mad_is_accepted_and_named(graded_nights):
    checks.NOTES.clear()
    assert read_noise_gain.diagnose_measure_read_noise(read_noise_mad, nights=graded_nights) == []
    assert any("the MAD of the difference: accepted" in note for note in checks.NOTES), checks.NOTES


def test_a_sound_result_passes_within_the_tolerance_and_a_wrong_one_says_how_far(graded_nights):
    def off_by(factor):
        def read_noise(bias_file_1, bias_file_2, gain):
            return solutions.measure_read_noise(bias_file_1, bias_file_2, gain) * factor
        return read_noise

    assert read_noise_gain.diagnose_measure_read_noise(off_by(1.01), nights=graded_nights) == []
    problems = read_noise_gain.diagnose_measure_read_noise(off_by(1.25), nights=graded_nights)
    assert problems and "off the camera's" in problems[0], problems


def test_hidden_test_entry_points(bundled):
    """``check_X`` judges on the bundled and a fresh second night, and raises naming the mistake."""
    checks.check_measure_read_noise(solutions.measure_read_noise)
    with pytest.raises(AssertionError, match="inverted"):
        checks.check_measure_gain(mistakes.gain_inverted)


def test_every_camera_item_is_a_diagnosis_with_a_check_function():
    modules = {module.__name__ for module in (read_noise_gain, photon_transfer, dark_series)}
    for item in REFERENCE:
        assert checks.DIAGNOSES[item].__name__ == f"diagnose_{item}", item
        assert callable(getattr(checks, f"check_{item}")), item
    camera_items = {item for item, diagnose in checks.DIAGNOSES.items() if diagnose.__module__ in modules}
    assert set(mistakes.CAMERA_WRONG_ANSWERS) == camera_items == set(REFERENCE)


@pytest.mark.parametrize("first", ["autograder.checks", "autograder.checking.camera", "autograder.checking.dark_series",
                                   "autograder.checking.stacking", "autograder.checking.nights", "autograder.judging"])
def test_no_import_circle(first):
    """Any part imported first, the checks load whole, and their state lives in one place."""
    code = (f"import sys, importlib; importlib.import_module({first!r}); "
            "from autograder import checks; "
            "from autograder.checking import camera, compare, dark_series, nights, read_noise_gain; "
            "assert 'measure_gain' in checks.DIAGNOSES and 'combine_bias' in checks.DIAGNOSES; "
            "assert checks.DIAGNOSES['measure_gain'] is read_noise_gain.diagnose_measure_gain; "
            "assert checks.NOTES is compare.NOTES is camera.NOTES is dark_series.NOTES; "
            "assert checks.use_second_night is nights.use_second_night; "
            "print(len(checks.DIAGNOSES))")
    assert _fresh_interpreter(code) == str(len(checks.DIAGNOSES))


def test_a_fresh_copy_of_the_checks_has_fresh_parts():
    """The hidden grade cells pop ``autograder.checks`` and import it again: its parts and state come afresh."""
    code = ("import sys; from autograder import checks; "
            "checks.NOTES.append('left over'); checks.use_second_night('patched'); "
            "import autograder.checking.compare as old_compare; old_compare._compare = None; "
            "sys.modules.pop('autograder.checks', None); "
            "from autograder.checks import check_measure_gain, NOTES, DIAGNOSES; "
            "from autograder.checking import camera, compare, nights, read_noise_gain; "
            "assert NOTES == [] and compare.NOTES is NOTES is camera.NOTES; "
            "assert nights._SECOND_NIGHT is None and compare._compare is not None; "
            "assert DIAGNOSES['measure_gain'] is read_noise_gain.diagnose_measure_gain; "
            "print('fresh')")
    assert _fresh_interpreter(code) == "fresh"


def _fresh_interpreter(code):
    """What ``code`` prints, run by a new Python from the repository's root (which it must not fail)."""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


# ---------------------------------------------------------------------------
# Bad input: clear errors naming the argument; inputs unchanged


def _digest(paths):
    return [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths]


def test_inputs_are_not_changed(bundled):
    files = list(bundled.biases[:2]) + [p for pair in bundled.ptc_pairs for p in pair] + list(bundled.dark_series)
    before = _digest(files)
    master_bias = solutions.combine_bias(bundled.biases)
    kept = master_bias.copy()
    gain = bundled.simulation.camera.gain_e_per_adu
    signal, variance = solutions.photon_transfer(bundled.ptc_pairs, *bundled.biases[:2])
    signal_kept, variance_kept = signal.copy(), variance.copy()
    solutions.measure_read_noise(*bundled.biases[:2], gain)
    solutions.measure_gain(*bundled.ptc_pairs[3], *bundled.biases[:2])
    solutions.fit_dark_current(bundled.dark_series, master_bias, gain)
    solutions.bad_pixel_mask(bundled.dark_series, master_bias, gain, 1.0)
    import matplotlib.pyplot as plt

    solutions.plot_photon_transfer(signal, variance, plt.subplots()[1])
    plt.close("all")
    assert np.array_equal(master_bias, kept)
    assert np.array_equal(signal, signal_kept) and np.array_equal(variance, variance_kept)
    assert _digest(files) == before


def test_results_are_plain_floats_and_a_master_bias_file_is_accepted(bundled, tmp_path):
    gain = bundled.simulation.camera.gain_e_per_adu
    master_bias = solutions.combine_bias(bundled.biases)
    path = tmp_path / "master_bias.fits"
    fits.PrimaryHDU(master_bias).writeto(path)
    for value in (solutions.measure_read_noise(*bundled.biases[:2], gain),
                  solutions.measure_gain(*bundled.ptc_pairs[3], *bundled.biases[:2]),
                  solutions.fit_dark_current(bundled.dark_series, master_bias, gain)):
        assert type(value) is float
    assert solutions.fit_dark_current(bundled.dark_series, str(path), gain) == pytest.approx(
        solutions.fit_dark_current(bundled.dark_series, master_bias, gain), rel=1e-6)
    signal, variance = solutions.photon_transfer(bundled.ptc_pairs, *bundled.biases[:2])
    assert signal.dtype == variance.dtype == np.float64 and signal.shape == (len(bundled.ptc_pairs),)


def test_plot_photon_transfer_draws_log_log_with_units():
    import matplotlib.pyplot as plt

    ax = solutions.plot_photon_transfer(np.array([10.0, 100.0, 1000.0]), np.array([30.0, 75.0, 525.0]))
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert "ADU" in ax.get_xlabel() and "ADU$^2$" in ax.get_ylabel()
    plt.close("all")


def test_camera_functions_fail(bundled, second, tmp_path):
    biases, pair, darks = bundled.biases[:2], bundled.ptc_pairs[3], bundled.dark_series
    master_bias = solutions.combine_bias(bundled.biases)
    missing = str(tmp_path / "missing.fits")
    with pytest.raises(FileNotFoundError, match="bias_file_2"):
        solutions.measure_read_noise(biases[0], missing, 2.0)
    with pytest.raises(ValueError, match="gain"):
        solutions.measure_read_noise(*biases, -2.0)
    with pytest.raises(TypeError, match="gain"):
        solutions.measure_read_noise(*biases, "2")
    with pytest.raises(ValueError, match="bias_file_2.*shape"):
        solutions.measure_read_noise(biases[0], second.biases[0], 2.0)
    with pytest.raises(FileNotFoundError, match="flat_file_1"):
        solutions.measure_gain(missing, pair[1], *biases)
    with pytest.raises(ValueError, match="no brighter|no noisier"):
        solutions.measure_gain(biases[1], biases[0], *biases)
    with pytest.raises(ValueError, match="bias_file_1.*shape"):
        solutions.measure_gain(*pair, *second.biases[:2])
    with pytest.raises(ValueError, match="flat_pairs is empty"):
        solutions.photon_transfer([], *biases)
    with pytest.raises(ValueError, match=r"flat_pairs\[0\]"):
        solutions.photon_transfer([pair[0]], *biases)
    with pytest.raises(TypeError, match="flat_pairs"):
        solutions.photon_transfer(pair[0], *biases)
    with pytest.raises(FileNotFoundError, match=r"flat_pairs\[1\]"):
        solutions.photon_transfer([pair, (missing, pair[1])], *biases)
    with pytest.raises(ValueError, match="two different exposure times"):
        solutions.fit_dark_current([darks[0], darks[1]], master_bias, 2.0)
    with pytest.raises(TypeError, match="dark_files"):
        solutions.fit_dark_current(darks[0], master_bias, 2.0)
    with pytest.raises(ValueError, match="master_bias"):
        solutions.fit_dark_current(darks, master_bias[:10], 2.0)
    with pytest.raises(FileNotFoundError, match="master_bias"):
        solutions.fit_dark_current(darks, missing, 2.0)
    with pytest.raises(ValueError, match="dark_files.*no EXPTIME"):
        solutions.fit_dark_current(darks + [_without_exptime(darks[0], tmp_path)], master_bias, 2.0)
    with pytest.raises(ValueError, match="three"):
        solutions.bad_pixel_mask(darks[:4], master_bias, 2.0, 1.0)
    with pytest.raises(ValueError, match="max_dark_current"):
        solutions.bad_pixel_mask(darks, master_bias, 2.0, 0.0)
    with pytest.raises(ValueError, match="signal_adu and variance_adu2"):
        solutions.plot_photon_transfer([1.0, 2.0], [1.0])


def _without_exptime(path, folder):
    data, header = fits.getdata(path, header=True)
    del header["EXPTIME"]
    out = folder / "no_exptime.fits"
    fits.PrimaryHDU(data, header).writeto(out)
    return str(out)


# ---------------------------------------------------------------------------
# Through a real runner: a tuple of arrays, a drawing and a bool mask come back as plain data

STUDENT_CELLS = '''
import numpy as np
import matplotlib.pyplot as plt
from astropy.io import fits
from astropy.stats import sigma_clipped_stats

def read(name):
    return fits.getdata(name).astype(float)

def photon_transfer(flat_pairs, bias_file_1, bias_file_2):
    bias = np.median((read(bias_file_1) + read(bias_file_2)) / 2)
    signal, variance = [], []
    for a, b in flat_pairs:
        fa, fb = read(a), read(b)
        signal.append((fa.mean() + fb.mean()) / 2 - bias)
        variance.append(sigma_clipped_stats(fa - fb, sigma=5, maxiters=10)[2] ** 2 / 2)
    return np.array(signal), np.array(variance)

def plot_photon_transfer(signal_adu, variance_adu2, ax=None):
    ax = ax or plt.gca()
    ax.loglog(signal_adu, variance_adu2, "o")
    ax.set_xlabel("Mean signal (ADU)")
    ax.set_ylabel("Variance (ADU^2)")
    return ax

def bad_pixel_mask(dark_files, master_bias, gain, max_dark_current):
    times = np.array([fits.getheader(f)["EXPTIME"] for f in dark_files])
    stack = np.stack([(read(f) - master_bias) * gain for f in dark_files])
    slope = np.polyfit(times, stack.reshape(len(times), -1), 1)[0].reshape(stack.shape[1:])
    return slope > max_dark_current
'''


def test_a_notebook_judged_through_the_runner(tmp_path, second):
    from autograder import judging
    from convenience_functions import data_dir

    graded = ["test_photon_transfer", "test_plot_photon_transfer", "test_bad_pixel_mask"]
    cells = [STUDENT_CELLS] + [("grade", grade_id) for grade_id in graded]
    notebook = {"cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": cell} if isinstance(cell, str) else
        {"cell_type": "code", "outputs": [], "source": "assert True\n",
         "metadata": {"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": cell[1], "points": 1}}}
        for cell in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    checks.use_second_night(second)
    try:
        argv, env, visible = judging.runner_command(tmp_path, data_dir(), second.folder, False, cwd)
        verdicts = judging.judge_notebooks({"06.ipynb": notebook}, {"06.ipynb": graded}, argv, cwd, env, visible, 60.0)
    finally:
        checks.use_second_night(None)
    assert verdicts["test_photon_transfer"].passed, verdicts["test_photon_transfer"].message
    assert verdicts["test_plot_photon_transfer"].passed, verdicts["test_plot_photon_transfer"].message
    assert not verdicts["test_bad_pixel_mask"].passed
    assert "non-linear pixels were not flagged" in verdicts["test_bad_pixel_mask"].message


def test_the_instructor_notebook_s_functions_pass_on_any_second_night(tmp_path):
    """An honest student (the instructor notebook's own answers) keeps every point whatever night is drawn.

    Each grading run draws its second night from a new seed; a method that fails on 2 % of the nights
    once cost a whole benchmark class the bad-pixel points.
    """
    import json
    import random

    from autograder import checks
    from autograder.course import source_dir

    notebook = json.loads((source_dir() / "06_know_your_camera.ipynb").read_text(encoding="utf-8"))
    namespace = {}
    exec("import numpy as np\nimport matplotlib.pyplot as plt\nfrom astropy.io import fits\n"
         "from astropy.stats import mad_std, sigma_clipped_stats\n", namespace)
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("solution"):
            exec("".join(cell["source"]), namespace)
    items = ["measure_read_noise", "measure_gain", "photon_transfer", "fit_dark_current", "bad_pixel_mask"]
    draw = random.Random(2026)
    seeds = [draw.randrange(1, 2**31 - 1) for _ in range(12)] + [1475265434, 1768920593]
    try:
        for seed in seeds:
            folder = tmp_path / str(seed)
            folder.mkdir()
            checks.use_second_night(checks.second_night(folder, seed=seed))
            for item in items:
                assert checks.DIAGNOSES[item](namespace[item]) == [], (seed, item)
    finally:
        checks.use_second_night(None)
