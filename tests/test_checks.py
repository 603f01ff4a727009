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
