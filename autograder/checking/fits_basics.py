"""Diagnoses of notebook 01, FITS basics: the centre pixel and a column's mean of the first bias."""

from .compare import _isclose, _plain_value, _type_name
from .nights import _first_bias


def _number(name, value, what):
    """``value`` as a float, or the problem (a string) when it is None or not a number."""
    if value is None:
        return f"{name} is None: assign {what} to it"
    try:
        return float(value)
    except (TypeError, ValueError):
        return f"{name} should be a number, not {_type_name(value)}"


def diagnose_center_flux(value):
    """Check ``center_flux``: the central pixel of the first bias frame."""
    value = _plain_value(value)
    data = _first_bias()
    ny, nx = data.shape
    centres = {(ny // 2, nx // 2), ((ny - 1) // 2, (nx - 1) // 2)}
    number = _number("center_flux", value, "the pixel value")
    if isinstance(number, str):
        return [number]
    if any(number == float(data[y, x]) for y, x in centres):
        return []
    if number == float(data[0, 0]):
        return ["center_flux is the corner pixel [0, 0]: the centre is half the shape along each axis"]
    if 512 < ny and number == float(data[512, 512]):
        return []
    return [
        f"center_flux = {number} is not the central pixel: use data[ny // 2, nx // 2] with "
        f"ny, nx = data.shape = {data.shape} (no hard-coded 512)"
    ]


def diagnose_fifth_column_mean(value):
    """Check ``fifth_column_mean``: mean of the fifth column of the first bias."""
    value = _plain_value(value)
    data = _first_bias().astype(float)
    expected = data[:, 4].mean()
    number = _number("fifth_column_mean", value, "the mean")
    if isinstance(number, str):
        return [number]
    if _isclose(number, expected, rtol=1e-9):
        return []
    if _isclose(number, data[4, :].mean(), rtol=1e-9):
        return ["fifth_column_mean is the mean of the fifth ROW: a column is data[:, 4]"]
    if _isclose(number, data[:, 5].mean(), rtol=1e-9):
        return ["fifth_column_mean is the mean of the sixth column: Python counts from 0, the fifth is index 4"]
    if _isclose(number, data[:, 3].mean(), rtol=1e-9):
        return ["fifth_column_mean is the mean of the fourth column: the fifth is index 4"]
    if _isclose(number, data.mean(), rtol=1e-9):
        return ["fifth_column_mean is the mean of the whole frame, not of one column"]
    return [f"fifth_column_mean = {number} is not the mean of data[:, 4]"]
