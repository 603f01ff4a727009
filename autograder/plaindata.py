"""What a runner's answer is on the grader's side: plain data, or a failure.

:func:`decode` turns the JSON header and blobs that the runner
(:mod:`autograder.runner`) sends back into plain Python and numpy data:
arrays loaded from ``.npy`` bytes without pickle, exact
``float``/``int``/``bool``/``str``, tuples and lists of these, an
:class:`AxesRecord` for what a plotting function drew, :class:`Unsupported`
for any other type.  Anything else is a :class:`CandidateFailed`.  No object
of the student's ever exists here.
"""

import io

import numpy as np


class CandidateFailed(Exception):
    """The candidate could not answer; the message says why, for the student."""


class AxesRecord:
    """What a plotting function drew, as plain data."""

    def __init__(self, same_as_given, xlabel, ylabel, title, xlim, polygons, rectangles, ylim=(0.0, 1.0),
                 xscale="linear", yscale="linear", lines=(), points=()):
        self.same_as_given = bool(same_as_given)
        self.xlabel, self.ylabel, self.title = str(xlabel), str(ylabel), str(title)
        self.xlim = tuple(float(v) for v in xlim)
        self.ylim = tuple(float(v) for v in ylim)
        self.xscale, self.yscale = str(xscale), str(yscale)
        self.polygons = [np.asarray(p, dtype=float) for p in polygons]
        self.rectangles = int(rectangles)
        #: (x, y) columns of each line drawn, and of each scatter collection
        self.lines = [np.asarray(p, dtype=float).reshape(-1, 2) for p in lines]
        self.points = [np.asarray(p, dtype=float).reshape(-1, 2) for p in points]


def _load_array(data):
    array = np.load(io.BytesIO(data), allow_pickle=False)
    if type(array) is not np.ndarray or array.dtype.kind not in "biuf":
        raise CandidateFailed("the answer is not a numeric array")
    return array


#: Items of a returned tuple or list, and how deep they may nest (as the runner sends them).
MAX_ITEMS = 64
MAX_DEPTH = 2


def decode(result, blobs, depth=0):
    """Turn an encoded answer into plain Python and numpy data.

    Raises
    ------
    CandidateFailed
        For an answer that is not plain data.
    """
    if not isinstance(result, dict):
        raise CandidateFailed("the checker received no answer")
    kind = result.get("kind")

    def blob(index):
        if type(index) is not int or not 0 <= index < len(blobs):
            raise CandidateFailed("the checker received a malformed answer")
        return blobs[index]

    if kind == "none":
        return None
    if kind in ("bool", "int", "float", "str"):
        value = result.get("value")
        wanted = {"bool": bool, "int": int, "float": float, "str": str}[kind]
        if type(value) is not wanted:
            if wanted is float and type(value) is int:
                return float(value)
            raise CandidateFailed("the checker received a malformed answer")
        return value
    if kind == "ndarray":
        return _load_array(blob(result.get("blob")))
    if kind in ("tuple", "list") and depth < MAX_DEPTH:
        items = result.get("items")
        if type(items) is not list or len(items) > MAX_ITEMS:
            raise CandidateFailed("the checker received a malformed answer")
        decoded = [decode(item, blobs, depth + 1) for item in items]
        return tuple(decoded) if kind == "tuple" else decoded
    if kind == "axes":
        def arrays(key):
            indices = result.get(key, [])
            return [_load_array(blob(index)) for index in (indices if type(indices) is list else [])]

        def pair(key, default):
            value = result.get(key, default)
            value = list(value)[:2] if type(value) is list and len(value) >= 2 else default
            return [float(v) if type(v) in (int, float) else 0.0 for v in value]

        def text(key):
            value = result.get(key, "")
            return value[:200] if type(value) is str else ""

        return AxesRecord(result.get("same_as_given") is True, text("xlabel"), text("ylabel"), text("title"),
                          pair("xlim", [0, 0]), arrays("polygons"),
                          result.get("rectangles", 0) if type(result.get("rectangles")) is int else 0,
                          ylim=pair("ylim", [0, 0]), xscale=text("xscale"), yscale=text("yscale"),
                          lines=arrays("lines"), points=arrays("points"))
    if kind == "undefined":
        raise CandidateFailed("is not defined in the notebook (was its cell run, and is the name unchanged?)")
    if kind == "other":
        return Unsupported(str(result.get("type", "object"))[:100])
    raise CandidateFailed("the checker received a malformed answer")


class Unsupported:
    """An answer of a type the checks cannot use (its type name only)."""

    def __init__(self, type_name):
        self.type_name = type_name
