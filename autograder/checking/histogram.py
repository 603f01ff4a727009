"""Diagnosis of notebook 02, histogram: ``plot_bias_histogram`` judged by what it drew."""

import numpy as np

from convenience_functions import lab

from ..candidates import NEW_AXES, AxesRecord
from .compare import _allclose, _call, _Failed, _isclose, _returned_nothing, _type_name
from .nights import DEFAULT_SECOND_SEED, _first_bias, _nights

def _step_histogram(ax):
    """Return (edges, counts) of the step histogram drawn on ``ax`` (an AxesRecord)."""
    if len(ax.polygons) != 1:
        return None, len(ax.polygons)
    xy = ax.polygons[0]
    if xy.ndim != 2 or xy.shape[1] != 2:
        return None, 1
    left, right, height = [], [], []
    for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:]):
        if y0 == y1 and x1 > x0:
            left.append(x0)
            right.append(x1)
            height.append(y0)
    if not left:
        return None, 1
    edges = np.append(left, right[-1])
    return (edges, np.asarray(height)), 1


def _diagnose_histogram_axes(name, ax, data, where):
    problems = []
    if not isinstance(ax, AxesRecord):
        return [f"{name} should return the matplotlib Axes it drew on, not {_type_name(ax)}"]
    if ax.xlabel != "Counts":
        problems.append(f"the x label is {ax.xlabel!r}; it should be 'Counts'")
    if not ax.ylabel.strip():
        problems.append("the y axis has no label (say what is counted, e.g. 'Number of pixels')")
    if ax.title != "Distribution of Bias Counts":
        problems.append(f"the title is {ax.title!r}; it should be 'Distribution of Bias Counts'")
    low, high = lab.BIAS_HISTOGRAM_RANGE_ADU
    if not (_isclose(ax.xlim[0], low) and _isclose(ax.xlim[1], high)):
        problems.append(f"the x range is {tuple(round(v, 1) for v in ax.xlim)}; zoom to ({low}, {high})")
    found, polygons = _step_histogram(ax)
    if found is None:
        if polygons > 1:
            problems.append(
                f"{polygons} histograms were drawn: plt.hist on a 2-D array draws one per column, "
                "flatten the data first (data.flatten())"
            )
        elif ax.rectangles > 1:
            problems.append("the histogram is drawn as bars: use histtype='step'")
        else:
            problems.append("no step histogram found on the Axes (use ax.hist(..., histtype='step'))")
        return problems
    edges, counts = found
    expected, _ = np.histogram(np.asarray(data).ravel(), bins=edges)
    if counts.shape != expected.shape or not _allclose(counts, expected):
        if _isclose(counts.sum(), 1.0 / np.diff(edges).mean(), rtol=0.05) or counts.max() < 1:
            problems.append("the histogram shows a density: plot the number of pixels (density=False)")
        elif counts.sum() < expected.sum():
            problems.append("the histogram counts fewer pixels than the frame has: flatten the whole frame")
        else:
            problems.append(f"the plotted counts do not match np.histogram of the data on {where}")
    return problems


def _test_bias_frame(night):
    """A bias-like uint16 frame of the second night's shape, drawn from its seed."""
    rng = np.random.default_rng([getattr(night, "seed", DEFAULT_SECOND_SEED), 7])
    return np.clip(np.rint(rng.normal(1510.0, 40.0, night.shape)), 0, None).astype(np.uint16)


def diagnose_plot_bias_histogram(func):
    """Check ``plot_bias_histogram(data, ax=None)`` by inspecting what it drew."""
    name = "plot_bias_histogram"
    problems = []
    with _nights() as (nights, _scratch):
        second = _test_bias_frame(nights[1])
        where_second = f"a {second.shape[0]}x{second.shape[1]} test frame"
        try:
            for data, where in ((_first_bias(), "the bundled bias frame"), (second, where_second)):
                result, printed = _call(func, name, data, ax=NEW_AXES)
                nothing = _returned_nothing(name, result, printed)
                if nothing:
                    return [nothing]
                if isinstance(result, AxesRecord) and not result.same_as_given:
                    problems.append(f"{name} did not draw on (and return) the `ax` it was given")
                    continue
                problems += _diagnose_histogram_axes(name, result, data, where)
                if problems:
                    break
            if not problems:
                result, printed = _call(func, name, second)
                nothing = _returned_nothing(name, result, printed)
                if nothing:
                    problems.append(f"called without ax: {nothing}")
                else:
                    problems += [f"called without ax: {p}"
                                 for p in _diagnose_histogram_axes(name, result, second, where_second)]
        except _Failed as failure:
            return [str(failure)]
    return problems
