"""The parts of the checks; :mod:`autograder.checks` is their one entry (import it, not these)."""
