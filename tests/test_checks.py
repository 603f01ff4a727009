"""The checks behind the hidden grade cells: right answers pass, known mistakes are named."""

import numpy as np
import pytest
from astropy.io import fits

import solutions
from autograder import checks
from convenience_functions import data_path, lab

from mistakes import WRONG_ANSWERS
import mistakes


def _reference_histogram(data, ax=None):
    """A correct plot_bias_histogram (the reference module has no plotting)."""
    return mistakes._histogram(data, ax)


REFERENCE = {
    "calc_dark_current": solutions.calc_dark_current,
    "load_stack": solutions.load_stack,
    "combine_bias": solutions.combine_bias,
    "combine_darks": solutions.combine_darks,
    "combine_flats": solutions.combine_flats,
    "save_fits": solutions.save_fits,
    "process_data": solutions.process_data,
    "plot_bias_histogram": _reference_histogram,
}


@pytest.mark.parametrize("item", sorted(REFERENCE))
def test_reference_passes(item):
    assert checks.DIAGNOSES[item](REFERENCE[item]) == []


@pytest.mark.parametrize(
    "item, wrong, phrase",
    [(item, wrong, phrase) for item, cases in WRONG_ANSWERS.items() for wrong, phrase in cases],
    ids=lambda value: getattr(value, "__name__", str(value))[:40],
)
def test_mistake_is_named(item, wrong, phrase):
    problems = checks.DIAGNOSES[item](wrong)
    assert problems, f"{wrong.__name__} passed the {item} check"
    assert phrase.lower() in " ".join(problems).lower(), problems


def test_every_graded_function_has_two_named_mistakes():
    for item in REFERENCE:
        assert len(WRONG_ANSWERS.get(item, [])) >= 2, item


def test_unwritten_stub_is_reported():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    problems = checks.diagnose_combine_bias(stub)
    assert problems == ["combine_bias is not written yet: it still raises NotImplementedError (on the bundled frames)"]


def _first_bias():
    return fits.getdata(data_path(lab.FIRST_BIAS_FILE))


def test_center_flux():
    data = _first_bias()
    ny, nx = data.shape
    assert checks.diagnose_center_flux(data[ny // 2, nx // 2]) == []
    assert "corner" in checks.diagnose_center_flux(data[0, 0])[0]
    assert checks.diagnose_center_flux(None)


def test_fifth_column_mean():
    data = _first_bias().astype(float)
    assert checks.diagnose_fifth_column_mean(np.mean(data[:, 4])) == []
    assert "ROW" in checks.diagnose_fifth_column_mean(data[4, :].mean())[0]
    assert "sixth column" in checks.diagnose_fifth_column_mean(data[:, 5].mean())[0]


@pytest.mark.parametrize("item", ["answer_bias_exptime", "answer_center_pixel", "answer_ninth_image"])
def test_multiple_choice(item):
    right, hints = checks.MULTIPLE_CHOICE[item]
    assert checks.DIAGNOSES[item](right.upper()) == []
    for letter, hint in hints.items():
        assert hint in checks.DIAGNOSES[item](letter)[0]
    assert "single letter" in checks.DIAGNOSES[item]("ab")[0]


def test_check_raises_the_named_mistake_and_passes_the_reference():
    with pytest.raises(AssertionError, match="mean instead of the median"):
        checks.check_combine_bias(mistakes.combine_bias_mean)
    checks.check_combine_bias(solutions.combine_bias)


def test_every_diagnosis_has_a_check_function_findable_by_name():
    for item in checks.DIAGNOSES:
        assert callable(getattr(checks, f"check_{item}")), item


# ---------------------------------------------------------------------------
# Sound methods other than the reference's pass, judged against the simulator's truth


def _stack_of(files, dtype=float):
    return np.stack([fits.getdata(f).astype(dtype) for f in files])


def _clipped(stack):
    from astropy.stats import mad_std, sigma_clip

    return np.ma.filled(sigma_clip(stack, sigma=3, axis=0, stdfunc=mad_std).mean(axis=0), np.nan)


def bias_clipped_mean(filenames):
    return _clipped(_stack_of(filenames))


def bias_ccdproc(filenames):
    import ccdproc

    return np.asarray(ccdproc.combine(list(filenames), method="median", unit="adu", mem_limit=1e9).data, float)


def bias_float32(filenames):
    return np.median(_stack_of(filenames, np.float32), axis=0)


def darks_clipped_mean(filenames, master_bias):
    return _clipped(_stack_of(filenames) - master_bias)


def flats_scaled_clipped_mean(filenames, master_bias, master_dark, dark_exptime):
    stack = _stack_of(filenames) - master_bias
    times = np.array([fits.getheader(f)["EXPTIME"] for f in filenames])
    stack -= master_dark * (times / dark_exptime)[:, None, None]
    stack /= np.median(stack, axis=(1, 2))[:, None, None]
    combined = _clipped(stack)
    return combined / np.median(combined)


def flats_ccdproc(filenames, master_bias, master_dark, dark_exptime):
    import ccdproc
    from astropy.nddata import CCDData

    frames = []
    for name in filenames:
        raw = CCDData(fits.getdata(name).astype(float), unit="adu")
        exptime = fits.getheader(name)["EXPTIME"]
        frames.append(CCDData(raw.data - master_bias - master_dark * exptime / dark_exptime, unit="adu"))
    combined = ccdproc.combine(frames, method="median", scale=lambda a: 1 / np.median(a), mem_limit=1e9)
    return np.asarray(combined.data / np.median(combined.data), float)


def process_float32(filename, new_filename, bias_file, dark_file, flat_file):
    raw = fits.getdata(filename).astype(np.float32)
    ratio = np.float32(fits.getheader(filename)["EXPTIME"] / fits.getheader(dark_file)["EXPTIME"])
    result = (raw - fits.getdata(bias_file).astype(np.float32) - fits.getdata(dark_file).astype(np.float32) * ratio
              ) / fits.getdata(flat_file).astype(np.float32)
    header = fits.getheader(filename)
    for key in ("BZERO", "BSCALE"):
        header.remove(key, ignore_missing=True)
    header["HISTORY"] = "bias, scaled dark and flat applied (float32)"
    header[lab.CALIBRATED_KEYWORD] = True
    fits.PrimaryHDU(result, header).writeto(new_filename, overwrite=True)
    return result


@pytest.mark.parametrize("item, sound", [
    ("combine_bias", bias_clipped_mean), ("combine_bias", bias_ccdproc), ("combine_bias", bias_float32),
    ("combine_darks", darks_clipped_mean), ("combine_flats", flats_scaled_clipped_mean),
    ("combine_flats", flats_ccdproc), ("process_data", process_float32),
], ids=lambda value: getattr(value, "__name__", str(value)))
def test_a_sound_alternative_passes_on_both_nights(item, sound):
    checks.NOTES.clear()
    assert checks.DIAGNOSES[item](sound) == [], sound.__name__


def test_an_accepted_alternative_is_named_in_the_message():
    checks.NOTES.clear()
    assert checks.diagnose_combine_bias(bias_clipped_mean) == []
    assert any("a sigma-clipped mean: accepted" in note for note in checks.NOTES), checks.NOTES


def test_the_bundled_biases_hold_cosmic_rays_so_their_plain_mean_fails():
    from sample_data import simulate

    from astropy.stats import mad_std

    stack = _stack_of(data_path(name) for name in lab.BIAS_FILES)
    truth = simulate.true_components()["bias_adu"]
    median_off = np.median(stack, axis=0) - truth
    sigma = mad_std(median_off)
    kept_by_mean = np.sum(np.abs(stack.mean(axis=0) - truth) > 5 * sigma)
    kept_by_median = np.sum(np.abs(median_off) > 5 * sigma)
    assert kept_by_mean > kept_by_median + 10  # the mean keeps the cosmic rays the median removes
    problems = checks.diagnose_combine_bias(mistakes.combine_bias_mean)
    assert problems and "mean instead of the median" in problems[0]
