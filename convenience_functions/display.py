"""Display a CCD frame with a stretch that shows its structure.

Raw frames are 16-bit integers with a few very hot or saturated pixels, so
a plain ``plt.imshow`` scales the colours to those few pixels and the rest
of the frame looks flat.  ``show_image`` picks the display range from the
bulk of the pixel values instead (a percentile or zscale interval from
``astropy.visualization``), shrinks very large frames before drawing them
and adds a colorbar in ADU.
"""

import math
import warnings
from collections import namedtuple
from numbers import Real

import numpy as np
from astropy.visualization import (
    AsinhStretch,
    AsymmetricPercentileInterval,
    ImageNormalize,
    LinearStretch,
    LogStretch,
    PercentileInterval,
    SqrtStretch,
    ZScaleInterval,
)
from matplotlib.ticker import AutoLocator, Locator

#: Percentiles (lower, upper) of the pixel values mapped to black and white.
DEFAULT_PERCENTILE = (1.0, 99.5)

#: Frames larger than this many pixels on a side are block-averaged first.
DEFAULT_MAX_SIZE = 1000

#: Colorbar label used unless ``colorbar_label`` is given.
DEFAULT_COLORBAR_LABEL = "Counts (ADU)"

_STRETCHES = {
    "linear": LinearStretch,
    "sqrt": SqrtStretch,
    "log": LogStretch,
    "asinh": AsinhStretch,
}


class ImageDisplay(namedtuple("ImageDisplay", ["fig", "ax", "im", "cbar"])):
    """What `show_image` drew: figure, axes, image and colorbar (or None).

    It unpacks like a tuple, ``fig, ax, im, cbar = show_image(data)``.
    """

    __slots__ = ()

    def __repr__(self):
        # A short line instead of four object reprs, so a notebook cell that
        # ends with show_image(...) prints something readable.
        shown = self.im.get_array().shape
        vmin, vmax = self.im.get_clim()
        return (
            f"<ImageDisplay: {shown[1]}x{shown[0]} pixels drawn, "
            f"display range {vmin:.6g} to {vmax:.6g}>"
        )


def show_image(
    image,
    ax=None,
    *,
    cmap="gray",
    title=None,
    percentile=None,
    zscale=False,
    stretch="linear",
    vmin=None,
    vmax=None,
    show_colorbar=True,
    colorbar_label=None,
    figsize=None,
    max_size=DEFAULT_MAX_SIZE,
):
    """Display a 2-D image with a robust stretch, a colorbar and pixel axes.

    The display range is found from the pixel values of the full-resolution
    image (NaN and infinite pixels are ignored); the image is then
    block-averaged if it is larger than ``max_size`` pixels on a side, so
    that even a 4096 x 4096 frame draws quickly.  The axes keep the original
    pixel coordinates, with pixel (0, 0) at the lower left.

    Parameters
    ----------
    image : array-like, 2-D
        Pixel values in ADU (any numeric dtype, e.g. the ``uint16`` data of
        a raw frame; it is converted to float and never modified).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into, e.g. one panel of ``plt.subplots(1, 2)``.  By
        default a new figure with one axes is made, so that ``plt.title``
        right after the call titles this image.
    cmap : str or matplotlib.colors.Colormap, optional
        Colour map, ``'gray'`` by default.
    title : str, optional
        Title written above the image.
    percentile : float or (float, float), optional
        Pixel-value percentiles mapped to the ends of the colour map: a pair
        ``(lower, upper)`` with ``0 <= lower < upper <= 100``, or one number
        ``p`` meaning the central ``p`` percent (``99`` is the same as
        ``(0.5, 99.5)``).  Default ``(1, 99.5)``.
    zscale : bool, optional
        Use IRAF's zscale interval (``astropy.visualization.ZScaleInterval``)
        instead of percentiles.  Cannot be combined with ``percentile``.
    stretch : {'linear', 'sqrt', 'log', 'asinh'}, optional
        How values between the limits are mapped to colours.
    vmin, vmax : float, optional
        Display limits in ADU; each one given replaces the limit found from
        the percentile or zscale interval.
    show_colorbar : bool, optional
        Draw a colorbar beside the image (default True).
    colorbar_label : str, optional
        Label of the colorbar, ``'Counts (ADU)'`` by default.
    figsize : (float, float), optional
        Size in inches of the new figure; only when ``ax`` is not given.
    max_size : int or None, optional
        Largest number of pixels drawn along either side (default 1000).
        Larger images are averaged over square blocks of ``k x k`` pixels,
        ``k`` the smallest integer that brings both sides down to
        ``max_size``; rows and columns left over at the top and right edges
        are dropped.  ``None`` draws every pixel.

    Returns
    -------
    ImageDisplay
        Named tuple ``(fig, ax, im, cbar)``: the `~matplotlib.figure.Figure`,
        the `~matplotlib.axes.Axes`, the `~matplotlib.image.AxesImage` (its
        ``get_clim()`` gives the display limits in ADU) and the
        `~matplotlib.colorbar.Colorbar`, or None without a colorbar.

    Raises
    ------
    ValueError
        If ``image`` is not 2-D or has no finite pixel, if ``percentile``,
        ``cmap``, ``stretch``, ``max_size``, ``vmin``/``vmax`` or ``figsize`` is not
        valid, or if arguments that exclude each other are given together
        (``ax`` with ``figsize``, ``zscale`` with ``percentile``).
    TypeError
        If ``ax`` is not a matplotlib Axes.

    Examples
    --------
    >>> show_image(bias_data, cmap='gray')  # doctest: +SKIP
    >>> fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5),
    ...                                   layout='constrained')  # doctest: +SKIP
    >>> show_image(one_bias, ax=left, title='One bias frame')  # doctest: +SKIP
    >>> show_image(combined_bias, ax=right, title='Combined bias')  # doctest: +SKIP
    """
    data = _as_float_image(image)
    _check_layout(ax, figsize)
    interval = _interval(percentile, zscale)
    norm_stretch = _stretch(stretch)
    _check_given_limits(vmin, vmax)
    block = _block_size(data.shape, max_size)
    colormap = _colormap(cmap)

    # Display limits from the full-resolution pixels, then any given limit.
    low, high = _limits(data, interval, vmin, vmax)

    # Shrink large frames; the extent keeps the original pixel coordinates.
    shown = _block_average(data, block)
    extent = (-0.5, shown.shape[1] * block - 0.5, -0.5, shown.shape[0] * block - 0.5)

    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    else:
        fig = ax.figure
    norm = ImageNormalize(vmin=low, vmax=high, stretch=norm_stretch, clip=True)
    im = ax.imshow(shown, cmap=colormap, norm=norm, origin="lower", extent=extent)
    ax.set_xlabel("x (pixel)")
    ax.set_ylabel("y (pixel)")
    if title is not None:
        ax.set_title(title)

    cbar = None
    if show_colorbar:
        # A thin axes glued to the right of the image and exactly as tall.
        cax = ax.inset_axes([1.03, 0.0, 0.05, 1.0])
        cbar = fig.colorbar(im, cax=cax)
        cbar.locator = _ColorbarLocator()
        cbar.set_label(DEFAULT_COLORBAR_LABEL if colorbar_label is None else colorbar_label)
    # Leave the image axes current so that plt.title or plt.xlim act on it.
    try:
        plt.sca(ax)
    except ValueError:  # a figure made without pyplot
        pass
    return ImageDisplay(fig, ax, im, cbar)


class _ColorbarLocator(Locator):
    """Colorbar ticks inside the display range, none closer than a label.

    The stretch clips values outside the display range to its ends, so a
    tick that matplotlib's `~matplotlib.ticker.AutoLocator` puts just
    outside the range (1470 ADU below a range starting at 1477 ADU) would
    be drawn at the end of the bar, on top of its neighbour.  Only ticks
    inside the range are kept; and since a non-linear stretch (log, sqrt,
    asinh) crowds evenly spaced values together at one end, a tick closer
    than one and a half label heights to the last one kept is dropped.
    """

    #: Smallest distance between two ticks, in heights of a tick label.
    MIN_GAP_LABELS = 1.5

    def __init__(self):
        self._base = AutoLocator()

    def set_axis(self, axis):
        super().set_axis(axis)
        self._base.set_axis(axis)

    def __call__(self):
        low, high = sorted(self.axis.get_view_interval())
        ticks = [t for t in self._base() if low <= t <= high]
        return self._spread(ticks)

    def tick_values(self, vmin, vmax):
        return self._base.tick_values(vmin, vmax)

    def _spread(self, ticks):
        """Drop each tick that would sit too close to the one kept below it."""
        if len(ticks) < 2:
            return ticks
        along = 1 if self.axis.axis_name == "y" else 0
        points = np.zeros((len(ticks), 2))
        points[:, along] = ticks
        pixels = self.axis.axes.transData.transform(points)[:, along]
        label_size = self.axis.get_major_ticks(1)[0].label1.get_fontsize()
        min_gap = self.MIN_GAP_LABELS * label_size * self.axis.figure.dpi / 72
        kept = [0]
        for i in range(1, len(ticks)):
            if abs(pixels[i] - pixels[kept[-1]]) >= min_gap:
                kept.append(i)
        return [ticks[i] for i in kept]


def _as_float_image(image):
    """Return ``image`` as a new 2-D float array, masked pixels as NaN."""
    if isinstance(image, np.ma.MaskedArray):
        data = image.astype(float).filled(np.nan)
    else:
        try:
            data = np.array(image, dtype=float)
        except (TypeError, ValueError) as err:
            raise ValueError(f"image must be a 2-D array of numbers ({err})") from None
    if data.ndim != 2:
        raise ValueError(
            f"image must be 2-D (one frame), but it has {data.ndim} dimension(s) "
            f"with shape {data.shape}; pick one frame, e.g. image[0]"
        )
    if data.size == 0:
        raise ValueError(f"image is empty (shape {data.shape})")
    return data


def _check_layout(ax, figsize):
    """Check ``ax`` and ``figsize``, which cannot both be given."""
    if ax is not None:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes, not {type(ax).__name__}")
        if figsize is not None:
            raise ValueError(
                "give either ax (draw into an existing figure) or figsize "
                "(size of a new figure), not both"
            )
    if figsize is not None:
        try:
            width, height = (float(v) for v in figsize)
        except (TypeError, ValueError):
            raise ValueError(f"figsize must be (width, height) in inches, not {figsize!r}") from None
        if not (width > 0 and height > 0):
            raise ValueError(f"figsize must be two positive numbers, not {figsize!r}")


def _interval(percentile, zscale):
    """Return the astropy interval chosen by ``percentile`` and ``zscale``."""
    if zscale:
        if percentile is not None:
            raise ValueError("give either percentile or zscale=True, not both")
        return ZScaleInterval()
    if percentile is None:
        percentile = DEFAULT_PERCENTILE
    if isinstance(percentile, Real) and not isinstance(percentile, bool):
        if not 0 < percentile <= 100:
            raise ValueError(f"percentile must be in (0, 100], not {percentile}")
        return PercentileInterval(float(percentile))
    try:
        lower, upper = (float(p) for p in percentile)
    except (TypeError, ValueError):
        raise ValueError(
            f"percentile must be one number or a pair (lower, upper), not {percentile!r}"
        ) from None
    if not 0 <= lower < upper <= 100:
        raise ValueError(
            f"percentile must satisfy 0 <= lower < upper <= 100, not ({lower}, {upper})"
        )
    return AsymmetricPercentileInterval(lower, upper)


def _colormap(cmap):
    """Return the matplotlib colour map named (or given by) ``cmap``."""
    import matplotlib
    from matplotlib.colors import Colormap

    if isinstance(cmap, Colormap):
        return cmap
    try:
        return matplotlib.colormaps[cmap]
    except (KeyError, TypeError):
        raise ValueError(f"cmap must be a matplotlib colour map name such as 'gray', not {cmap!r}") from None


def _stretch(stretch):
    """Return the astropy stretch object named ``stretch``."""
    try:
        return _STRETCHES[stretch]()
    except (KeyError, TypeError):
        names = ", ".join(repr(name) for name in _STRETCHES)
        raise ValueError(f"stretch must be one of {names}, not {stretch!r}") from None


def _block_size(shape, max_size):
    """Return the block side (pixels) that brings ``shape`` to ``max_size``."""
    if max_size is None:
        return 1
    if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)) or max_size < 1:
        raise ValueError(f"max_size must be a positive whole number of pixels or None, not {max_size!r}")
    return max(1, math.ceil(max(shape) / max_size))


def _check_given_limits(vmin, vmax):
    """Check the display limits given by the caller, if any."""
    for name, value in (("vmin", vmin), ("vmax", vmax)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number of ADU, not {value!r}")
    if vmin is not None and vmax is not None and not vmin < vmax:
        raise ValueError(f"vmin ({vmin}) must be smaller than vmax ({vmax})")


def _limits(data, interval, vmin, vmax):
    """Return the display limits (ADU) of ``data``."""
    finite = np.isfinite(data)
    if not finite.any():
        raise ValueError("image has no finite pixel value (all NaN or infinite)")
    low, high = interval.get_limits(data if finite.all() else data[finite])
    low = float(low if vmin is None else vmin)
    high = float(high if vmax is None else vmax)
    if low < high:
        return low, high
    if vmin is None and vmax is None:
        # A flat image: open the range so that the colour map stays defined.
        return low - 0.5, high + 0.5
    raise ValueError(
        f"display range {low:g} to {high:g} ADU is empty: "
        + ("vmin is not below" if vmin is not None else "vmax is not above")
        + " the limit found from the image; give both vmin and vmax"
    )


def _block_average(data, block):
    """Average ``data`` over ``block x block`` squares, ignoring NaN."""
    if block == 1:
        return data
    ny, nx = data.shape[0] // block, data.shape[1] // block
    blocks = data[: ny * block, : nx * block].reshape(ny, block, nx, block)
    with warnings.catch_warnings():
        # A block that is entirely NaN stays NaN (drawn as the 'bad' colour).
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(blocks, axis=(1, 3))
