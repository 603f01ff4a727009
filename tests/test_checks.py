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


@pytest.fixture
def by_value():
    """Send the known-wrong answers by value, as a notebook's functions travel."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(mistakes)
    yield
    cloudpickle.unregister_pickle_by_value(mistakes)


def test_check_runs_in_a_fresh_interpreter_and_raises_named_mistake(by_value):
    with pytest.raises(AssertionError, match="mean instead of the median"):
        checks.check_combine_bias(mistakes.combine_bias_mean)
    checks.check_combine_bias(solutions.combine_bias)


def test_fresh_interpreter_ignores_a_patched_numpy_in_the_kernel(monkeypatch, by_value):
    # A notebook that makes every comparison succeed must still fail a wrong function.
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    monkeypatch.setattr(np, "isclose", lambda *args, **kwargs: True)
    with pytest.raises(AssertionError, match="mean instead of the median"):
        checks.check_combine_bias(mistakes.combine_bias_mean)


def _notebook_functions(source):
    """Functions defined as in a notebook (module ``__main__``): they travel to the judge by value."""
    namespace = {"__name__": "__main__"}
    exec(source, namespace)
    return namespace


HOSTILE_CANDIDATES = '''
import os

def exits(file_list):
    os._exit(3)

def loops(file_list):
    while True:
        pass

def kills_the_judge(file_list):
    os.kill(os.getppid(), 9)

def patches_numpy_then_fails(file_list):
    import numpy
    numpy.allclose = lambda *args, **kwargs: True
    numpy.isclose = lambda *args, **kwargs: True
    return None
'''


@pytest.fixture
def hostile():
    return _notebook_functions(HOSTILE_CANDIDATES)


def test_a_candidate_that_exits_is_reported_and_the_next_one_judged(hostile):
    with pytest.raises(AssertionError, match="load_stack could not be checked: .*exit status 3"):
        checks.check_load_stack(hostile["exits"])
    checks.check_load_stack(solutions.load_stack)


def test_a_candidate_that_never_returns_is_stopped_at_the_timeout(hostile, monkeypatch):
    monkeypatch.setattr(checks, "CHECK_TIMEOUT_S", 2.0)
    with pytest.raises(AssertionError, match="longer than 2 s to check: is there an endless loop"):
        checks.check_load_stack(hostile["loops"])
    checks.check_load_stack(solutions.load_stack)


def test_a_candidate_that_kills_the_judge_fails_and_a_new_judge_takes_over(hostile):
    with pytest.raises(AssertionError, match="load_stack could not be checked"):
        checks.check_load_stack(hostile["kills_the_judge"])
    checks.check_load_stack(solutions.load_stack)


def test_each_judgement_starts_clean(hostile, by_value):
    # A candidate that patches numpy inside the judge must not help the next one.
    with pytest.raises(AssertionError, match="returns None"):
        checks.check_load_stack(hostile["patches_numpy_then_fails"])
    with pytest.raises(AssertionError, match="mean instead of the median"):
        checks.check_combine_bias(mistakes.combine_bias_mean)


def test_the_judge_removes_each_judgement_s_temporary_files(tmp_path, monkeypatch, hostile):
    # A fresh judge whose temporary folder is tmp_path: checks that write files or die leave nothing.
    import sys

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.delattr(sys, checks._JUDGE_SLOT, raising=False)
    checks.check_process_data(solutions.process_data)
    with pytest.raises(AssertionError):
        checks.check_load_stack(hostile["exits"])
    assert [p.name for p in tmp_path.iterdir()] == []
