"""Helpers that students import in the CCD data reduction lab."""

from . import lab
from .display import show_image
from .paths import data_dir, data_path, data_paths, reduced_dir

__all__ = ["lab", "show_image", "data_dir", "data_path", "data_paths", "reduced_dir"]
