"""Checks of the students' answers: the comparator, which runs no student code.

Every graded item ``X`` of the lab has a function ``diagnose_X(candidate)``.
It calls the candidate on the bundled frames and on a second, small night
made with another shape and other exposure times, compares what comes back
with the reference solutions, and returns a list of problems, each naming
the likely mistake (uint16 wrap-around, dark not scaled, ...).  Empty means
right.

What the diagnoses receive is plain data.  While grading, the candidate is an
:class:`~autograder.candidates.RemoteFunction`: each call runs in the
student's runner, in the sandbox, and only arrays, numbers, text, an
:class:`~autograder.candidates.AxesRecord` and written files' bytes come
back; the reference answers are computed here, outside the sandbox, and
never reach the runner.  In tests and in the notebooks' own hidden tests
(``check_X``), a plain function is wrapped in a
:class:`~autograder.candidates.LocalFunction`, whose results go through the
same encoding.

This module is the one entry to the checks: the table of diagnoses,
:func:`check` and the hidden grade cells' ``check_X``.  The parts live in
:mod:`autograder.checking`:

* ``compare``: calling the candidate, tolerances, naming a mistake, :data:`NOTES`;
* ``reference``: the reference answers and the simulator's truth, cached;
* ``nights``: the bundled night and the grading run's second night;
* ``fits_basics``, ``histogram``, ``dark_current``, ``stacking``,
  ``process_data``: the diagnoses of notebooks 01 to 05, and ``choices``, the
  multiple-choice questions of 01 and 04;
* notebook 06 (judged against the simulator's camera): ``camera``, what its
  diagnoses share, then ``read_noise_gain``, ``photon_transfer`` and ``dark_series``.
"""

import sys


def _forget_parts():
    """Drop the imported parts of the checks, so that importing this module afresh imports them afresh.

    The hidden grade cells remove this module from ``sys.modules`` before
    importing it (a fresh copy of the checks): a notebook that patched a
    function of the old copy, or left notes or a second night in it, gains
    nothing.  The parts hold the functions and the state, so they go too.
    """
    for name in [name for name in sys.modules if name == f"{__package__}.checking"
                 or name.startswith(f"{__package__}.checking.")]:
        del sys.modules[name]


_forget_parts()

# The diagnoses, and what the worker, the judge and the tests take from here (re-exported).
from .checking.choices import (
    MULTIPLE_CHOICE,
    diagnose_answer_bias_exptime,
    diagnose_answer_center_pixel,
    diagnose_answer_ninth_image,
)
from .checking.compare import NOTES
from .checking.dark_current import diagnose_calc_dark_current
from .checking.dark_series import diagnose_bad_pixel_mask, diagnose_fit_dark_current
from .checking.fits_basics import diagnose_center_flux, diagnose_fifth_column_mean
from .checking.histogram import diagnose_plot_bias_histogram
from .checking.nights import (
    DEFAULT_SECOND_SEED,
    SECOND_DARK_EXPTIME_S,
    SECOND_DARK_SERIES_EXPTIMES_S,
    SECOND_FLAT_EXPTIMES_S,
    SECOND_PTC_EXPTIMES_S,
    SECOND_SCIENCE_EXPTIME_S,
    SECOND_SHAPE,
    Night,
    bundled_night,
    second_night,
    second_shape,
    use_second_night,
)
from .checking.photon_transfer import diagnose_photon_transfer, diagnose_plot_photon_transfer
from .checking.process_data import diagnose_process_data
from .checking.read_noise_gain import diagnose_measure_gain, diagnose_measure_read_noise
from .checking.stacking import (
    diagnose_combine_bias,
    diagnose_combine_darks,
    diagnose_combine_flats,
    diagnose_load_stack,
    diagnose_save_fits,
)

#: Graded item -> its diagnosis.  The grade_id of its cell is ``test_<item>``.
DIAGNOSES = {
    # Notebook 01: FITS basics
    "center_flux": diagnose_center_flux,
    "fifth_column_mean": diagnose_fifth_column_mean,
    "answer_bias_exptime": diagnose_answer_bias_exptime,
    # Notebook 02: histogram
    "plot_bias_histogram": diagnose_plot_bias_histogram,
    # Notebook 03: dark current
    "calc_dark_current": diagnose_calc_dark_current,
    # Notebook 04: stacking
    "load_stack": diagnose_load_stack,
    "answer_center_pixel": diagnose_answer_center_pixel,
    "answer_ninth_image": diagnose_answer_ninth_image,
    "combine_bias": diagnose_combine_bias,
    "combine_darks": diagnose_combine_darks,
    "combine_flats": diagnose_combine_flats,
    "save_fits": diagnose_save_fits,
    # Notebook 05: process_data
    "process_data": diagnose_process_data,
    # Notebook 06: know your camera
    "measure_read_noise": diagnose_measure_read_noise,
    "measure_gain": diagnose_measure_gain,
    "photon_transfer": diagnose_photon_transfer,
    "plot_photon_transfer": diagnose_plot_photon_transfer,
    "fit_dark_current": diagnose_fit_dark_current,
    "bad_pixel_mask": diagnose_bad_pixel_mask,
}

# ---------------------------------------------------------------------------
# The hidden grade cells' entry points (plain ``nbgrader autograde``, the
# instructor notebooks): the candidate is judged in this process, against the
# reference module.  ``ccdlab grade`` does not use them: it strips the hidden
# tests and judges each answer through the student's runner instead.


def check(item, candidate):
    """Judge one graded item here; raise AssertionError naming the mistake.

    Parameters
    ----------
    item : str
        Name of the graded function or variable, e.g. ``'combine_bias'``.
    candidate : object
        The student's function or value.
    """
    NOTES.clear()
    problems = DIAGNOSES[item](candidate)
    if problems:
        raise AssertionError("\n".join(problems))
    print("\n".join(NOTES) or f"{item}: correct")


def check_center_flux(value):
    """Hidden test of ``center_flux`` (notebook 01)."""
    check("center_flux", value)


def check_fifth_column_mean(value):
    """Hidden test of ``fifth_column_mean`` (notebook 01)."""
    check("fifth_column_mean", value)


def check_answer_bias_exptime(value):
    """Hidden test of ``answer_bias_exptime`` (notebook 01)."""
    check("answer_bias_exptime", value)


def check_plot_bias_histogram(function):
    """Hidden test of ``plot_bias_histogram`` (notebook 02)."""
    check("plot_bias_histogram", function)


def check_calc_dark_current(function):
    """Hidden test of ``calc_dark_current`` (notebook 03)."""
    check("calc_dark_current", function)


def check_load_stack(function):
    """Hidden test of ``load_stack`` (notebook 04)."""
    check("load_stack", function)


def check_answer_center_pixel(value):
    """Hidden test of ``answer_center_pixel`` (notebook 04)."""
    check("answer_center_pixel", value)


def check_answer_ninth_image(value):
    """Hidden test of ``answer_ninth_image`` (notebook 04)."""
    check("answer_ninth_image", value)


def check_combine_bias(function):
    """Hidden test of ``combine_bias`` (notebook 04)."""
    check("combine_bias", function)


def check_combine_darks(function):
    """Hidden test of ``combine_darks`` (notebook 04)."""
    check("combine_darks", function)


def check_combine_flats(function):
    """Hidden test of ``combine_flats`` (notebook 04)."""
    check("combine_flats", function)


def check_save_fits(function):
    """Hidden test of ``save_fits`` (notebook 04)."""
    check("save_fits", function)


def check_process_data(function):
    """Hidden test of ``process_data`` (notebook 05)."""
    check("process_data", function)


def check_measure_read_noise(function):
    """Hidden test of ``measure_read_noise`` (notebook 06)."""
    check("measure_read_noise", function)


def check_measure_gain(function):
    """Hidden test of ``measure_gain`` (notebook 06)."""
    check("measure_gain", function)


def check_photon_transfer(function):
    """Hidden test of ``photon_transfer`` (notebook 06)."""
    check("photon_transfer", function)


def check_plot_photon_transfer(function):
    """Hidden test of ``plot_photon_transfer`` (notebook 06)."""
    check("plot_photon_transfer", function)


def check_fit_dark_current(function):
    """Hidden test of ``fit_dark_current`` (notebook 06)."""
    check("fit_dark_current", function)


def check_bad_pixel_mask(function):
    """Hidden test of ``bad_pixel_mask`` (notebook 06)."""
    check("bad_pixel_mask", function)
