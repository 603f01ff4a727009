"""Reference solution of the CCD data reduction lab.

The notebooks' solution cells, the autograder's checks and the tests all
call these functions; they live in :mod:`solutions.reduction` (notebooks
01-05: the reduction) and :mod:`solutions.camera` (notebook 06: measuring the
camera).
"""

from .camera import (
    bad_pixel_mask,
    fit_dark_current,
    measure_gain,
    measure_read_noise,
    photon_transfer,
    plot_photon_transfer,
)

from .reduction import (
    calc_dark_current,
    combine_bias,
    combine_darks,
    combine_flats,
    load_stack,
    process_data,
    save_fits,
)

__all__ = [
    "calc_dark_current",
    "load_stack",
    "combine_bias",
    "combine_darks",
    "combine_flats",
    "save_fits",
    "process_data",
    "measure_read_noise",
    "measure_gain",
    "photon_transfer",
    "plot_photon_transfer",
    "fit_dark_current",
    "bad_pixel_mask",
]
