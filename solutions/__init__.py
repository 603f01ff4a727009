"""Reference solution of the CCD data reduction lab.

The notebooks' solution cells, the autograder's checks and the tests all
call these functions; they live in :mod:`solutions.reduction`.
"""

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
]
