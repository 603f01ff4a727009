"""The runner's encoder: whatever a student's code returned, described as plain data.

Loaded by :mod:`autograder.runner` from the file beside it (the runner is
copied into the sandbox with this file and runs with ``python -I``, so it
cannot import it by name).  JSON for numbers, text, tuples and lists,
``.npy`` bytes for arrays (never pickled), and what a matplotlib Axes drew;
:mod:`autograder.plaindata` reads it back on the grader's side.
"""

import io
import sys

#: Largest array or file returned (bytes): more is reported, not sent.
MAX_BLOB_BYTES = 256 * 1024 * 1024
#: Largest printed text returned with an answer (characters).
MAX_PRINTED = 4000
#: Items of a returned tuple or list, and how deep they may nest.
MAX_ITEMS = 64
MAX_DEPTH = 2
#: Lines and collections of a returned Axes that are described.
MAX_DRAWN = 32



def _npy(array):
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _axes_record(ax, given, blobs):
    import numpy as np
    from matplotlib.patches import Polygon, Rectangle

    polygons = []
    for patch in ax.patches:
        if isinstance(patch, Polygon):
            blobs.append(_npy(patch.get_xy().astype(float)))
            polygons.append(len(blobs) - 1)
    # What the lines and scatter collections hold (x, y columns), at most MAX_DRAWN of each.
    lines = []
    for line in ax.get_lines()[:MAX_DRAWN]:
        try:
            xy = np.column_stack([np.asarray(line.get_xdata(), dtype=float).ravel(),
                                  np.asarray(line.get_ydata(), dtype=float).ravel()])
        except (TypeError, ValueError):
            continue
        blobs.append(_npy(xy))
        lines.append(len(blobs) - 1)
    points = []
    for collection in ax.collections[:MAX_DRAWN]:
        try:
            xy = np.asarray(collection.get_offsets(), dtype=float).reshape(-1, 2)
        except (TypeError, ValueError, AttributeError):
            continue
        blobs.append(_npy(xy))
        points.append(len(blobs) - 1)
    return {
        "kind": "axes",
        "same_as_given": ax is given,
        "xlabel": str(ax.get_xlabel()),
        "ylabel": str(ax.get_ylabel()),
        "title": str(ax.get_title()),
        "xlim": [float(v) for v in ax.get_xlim()],
        "ylim": [float(v) for v in ax.get_ylim()],
        "xscale": str(ax.get_xscale()),
        "yscale": str(ax.get_yscale()),
        "lines": lines,
        "points": points,
        "polygons": polygons,
        "rectangles": sum(isinstance(patch, Rectangle) for patch in ax.patches),
    }


def encode(value, blobs, given_axes=None, depth=0):
    """Describe ``value`` as JSON (and blobs); never pickles.

    A tuple or list (of at most ``MAX_ITEMS`` items, nested at most
    ``MAX_DEPTH`` deep) is described item by item.
    """
    import numpy as np

    if type(value) in (tuple, list) and depth < MAX_DEPTH and len(value) <= MAX_ITEMS:
        return {"kind": type(value).__name__,
                "items": [encode(item, blobs, given_axes, depth + 1) for item in value]}
    if value is None:
        return {"kind": "none"}
    if isinstance(value, np.generic) and not isinstance(value, np.ndarray):
        value = value.item()
    if type(value) in (bool, int, float, str):
        if type(value) is str and len(value) > MAX_PRINTED:
            value = value[:MAX_PRINTED]
        return {"kind": type(value).__name__, "value": value}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            return {"kind": "other", "type": f"numpy array of {value.dtype}"}
        if value.nbytes > MAX_BLOB_BYTES:
            return {"kind": "other", "type": f"numpy array of {value.nbytes} bytes (too large)"}
        blobs.append(_npy(np.ascontiguousarray(value)))
        return {"kind": "ndarray", "blob": len(blobs) - 1}
    if "matplotlib" in sys.modules:
        from matplotlib.axes import Axes

        if isinstance(value, Axes):
            return _axes_record(value, given_axes, blobs)
    return {"kind": "other", "type": type(value).__name__}
