"""Keeping the reference solutions out of reach while grading.

Installed first in every grading kernel that runs without the sandbox (as a
``sitecustomize`` on its path) and in the judge process of the checks, so
that neither a student's notebook nor the function being judged can import
``solutions``; the checks compare with reference answers recorded beforehand.
"""

import importlib.abc
import sys

MESSAGE = "the reference solutions are not available while grading"


def _is_reference(name):
    return name == "solutions" or name.startswith("solutions.")


class NoReferenceSolutions(importlib.abc.MetaPathFinder):
    """An import hook that refuses ``solutions`` and its submodules."""

    def find_spec(self, name, path=None, target=None):
        if _is_reference(name):
            raise ImportError(MESSAGE)
        return None


def forbid_reference_solutions():
    """Forget any imported ``solutions`` module and refuse to import it again."""
    for name in [module for module in sys.modules if _is_reference(module)]:
        del sys.modules[name]
    if not any(isinstance(finder, NoReferenceSolutions) for finder in sys.meta_path):
        sys.meta_path.insert(0, NoReferenceSolutions())
