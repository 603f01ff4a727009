"""Reference solution of the CCD data reduction lab.

The notebooks' solution cells, the autograder's checks and the tests all
call these functions; they live in :mod:`solutions.reduction` (notebooks
01-05: the reduction) and :mod:`solutions.camera` (notebook 06: measuring the
camera).  Each module's ``__all__`` names its public functions; this package
exports both lists, the reduction's first.
"""

from . import camera, reduction
from .camera import *  # noqa: F403 - the names in camera.__all__
from .reduction import *  # noqa: F403 - the names in reduction.__all__

__all__ = reduction.__all__ + camera.__all__
