# nbgrader reads this file when run from the repository root (the formgrader,
# `nbgrader generate_assignment ccd_reduction`, ...).  Every setting lives in
# autograder/course.py so that ccdlab and nbgrader agree.
from autograder.course import nbgrader_config

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
c.merge(nbgrader_config())
