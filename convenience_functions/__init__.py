"""Helpers that students import in the CCD data reduction lab."""

from . import lab
from .paths import data_dir, data_path, data_paths, given_masters, reduced_dir, series_dir, series_note

__all__ = ["lab", "show_image", "data_dir", "data_path", "data_paths", "given_masters", "reduced_dir", "series_dir",
           "series_note"]


def __getattr__(name):
    # show_image pulls in matplotlib; load it only when asked for, so tools
    # that need the file names alone (the grader's checks) start quickly.
    if name == "show_image":
        from .display import show_image

        return show_image
    raise AttributeError(f"module 'convenience_functions' has no attribute {name!r}")
