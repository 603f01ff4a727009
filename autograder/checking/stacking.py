"""Diagnoses of notebook 04, stacking: ``load_stack``, the three master frames and ``save_fits``."""

from pathlib import Path

import numpy as np

from ..candidates import OutputPath
from .compare import _as_image, _call, _close, _compare, _Failed, _returned_nothing, median_noise
from .nights import _exptime, _nights, _read
from .reference import _gain, _reference, _truth

def diagnose_load_stack(func):
    """Check ``load_stack(filenames)``: an (N, ny, nx) float array."""
    name = "load_stack"
    with _nights() as (nights, _scratch):
        for night in nights:
            files = night.biases[:4]
            try:
                result, printed = _call(func, name, list(files))
            except _Failed as failure:
                return [f"{failure} (on {night.description})"]
            shape = (len(files),) + night.shape
            problem = _as_image(name, result, printed, shape)
            if problem:
                return [f"{problem} (on {night.description}, {len(files)} files)"]
            expected = np.stack([_read(f) for f in files])
            if not _close(result, expected, rtol=0, atol=0):
                if _close(result, expected[::-1]):
                    return [f"{name} put the frames in reverse order"]
                return [f"{name} on {night.description}: the stack does not hold the frames' data in order"]
    return []


def _diagnose_master(name, func, make_args, expected_of, variants_of, truth_of=None, alternatives_of=None,
                     noise_of=None):
    """Common part of the combine_* checks over both nights.

    ``truth_of(night, components)`` gives the noiseless master the night's
    frames were made from (judging sound alternatives), ``alternatives_of``
    the sound methods the message may name; on a night without truth,
    ``noise_of(night, args)`` gives the noise of the reference's master per
    pixel, measured from the night's frames (:func:`.compare.median_noise`).
    """
    with _nights() as (nights, scratch):
        for night in nights:
            args = make_args(night)
            try:
                result, printed = _call(func, name, *args)
            except _Failed as failure:
                return [f"{failure} (on {night.description})"]
            nothing = _returned_nothing(name, result, printed)
            if nothing:
                return [nothing]
            if isinstance(result, np.ndarray) and result.ndim == 2 and result.shape != night.shape:
                if result.shape[0] in (len(args[0]),):
                    return [
                        f"{name} returned shape {result.shape} on {night.description}, expected {night.shape}: "
                        "combined along the wrong axis (the frames are axis 0: use axis=0)"
                    ]
            problem = _as_image(name, result, printed, night.shape)
            if problem:
                if isinstance(result, np.ndarray) and result.ndim == 3:
                    problem += ": the frames were not combined (median along axis=0)"
                return [f"{problem} (on {night.description})"]
            components = _truth(night)
            truth = truth_of(night, components) if truth_of and components is not None else None
            noise = noise_of(night, args) if truth is None and noise_of else None
            alternatives = alternatives_of(night, args) if alternatives_of else ()
            problem = _compare(name, result, expected_of(night, args), variants_of(night, args), night.description,
                               truth=truth, alternatives=alternatives, noise=noise)
            if problem:
                return [problem]
    return []


def _clipped_mean(stack):
    """Mean of each pixel's values after a 3-sigma clip (MAD-based width), as astropy does it."""
    from astropy.stats import mad_std, sigma_clip

    return np.ma.filled(sigma_clip(stack, sigma=3, axis=0, stdfunc=mad_std).mean(axis=0), np.nan)


def _stack(files):
    return np.stack([_read(f) for f in files])


def diagnose_combine_bias(func):
    """Check ``combine_bias(filenames)``: median master bias in ADU."""

    def variants(night, args):
        stack = _stack(args[0])
        return [
            ("averaged with the mean instead of the median (a cosmic ray survives a mean)",
             lambda: stack.mean(axis=0)),
            ("only the first frame was used", lambda: stack[0]),
        ]

    return _diagnose_master(
        "combine_bias", func,
        lambda night: (list(night.biases),),
        lambda night, args: _reference("combine_bias", args[0]),
        variants,
        truth_of=lambda night, components: components["bias_adu"],
        alternatives_of=lambda night, args: [("a sigma-clipped mean", lambda: _clipped_mean(_stack(args[0])))],
        noise_of=lambda night, args: median_noise(args[0]),
    )


def diagnose_combine_darks(func):
    """Check ``combine_darks(filenames, master_bias)``: bias-free median dark, ADU."""

    def args_of(night):
        return list(night.darks), _reference("combine_bias", night.biases)

    def variants(night, args):
        stack, master_bias = _stack(args[0]), args[1]
        from astropy.io import fits

        wrapped = np.stack([(fits.getdata(f) - np.rint(master_bias).astype(np.uint16)).astype(float) for f in args[0]])
        return [
            ("the bias was not removed from the darks", lambda: np.median(stack, axis=0)),
            ("uint16 wrap-around: convert the darks to float before subtracting the bias",
             lambda: np.median(wrapped, axis=0)),
            ("averaged with the mean instead of the median", lambda: (stack - master_bias).mean(axis=0)),
            ("divided by the exposure time: keep ADU for the darks' own exposure time",
             lambda: np.median(stack - master_bias, axis=0) / night.dark_exptime),
        ]

    return _diagnose_master(
        "combine_darks", func, args_of,
        lambda night, args: _reference("combine_darks", *args),
        variants,
        truth_of=lambda night, components: components["dark_current_e_per_s"] * night.dark_exptime / _gain(night),
        alternatives_of=lambda night, args: [("a sigma-clipped mean",
                                              lambda: _clipped_mean(_stack(args[0]) - args[1]))],
        noise_of=lambda night, args: median_noise(args[0], charge_adu=_reference("combine_darks", *args),
                                                  gain=_gain(night)),
    )


def diagnose_combine_flats(func):
    """Check ``combine_flats(filenames, master_bias, master_dark, dark_exptime)``."""

    def args_of(night):
        master_bias = _reference("combine_bias", night.biases)
        master_dark = _reference("combine_darks", night.darks, master_bias)
        return list(night.flats), master_bias, master_dark, night.dark_exptime

    def variants(night, args):
        files, master_bias, master_dark, dark_exptime = args
        stack = _stack(files)
        times = np.array([_exptime(f) for f in files])[:, None, None]
        scaled = master_dark * times / dark_exptime

        def normalized(image):
            return image / np.median(image)

        def each_normalized(frames):
            # Every flat over its own median: the flats brought to a common level of 1.
            return frames / np.median(frames, axis=(1, 2), keepdims=True)

        calibrated = stack - master_bias - scaled
        scaled_median = np.median(each_normalized(calibrated), axis=0)
        return [
            ("the flats were not scaled to a common level before combining: divide each by its own median first "
             "(the twilight fades between flats)",
             lambda: normalized(np.median(calibrated, axis=0))),
            ("the flat was normalized by its mean: divide by the median",
             lambda: scaled_median / scaled_median.mean()),
            ("each flat was scaled by its mean: divide each by its own median",
             lambda: normalized(np.median(calibrated / calibrated.mean(axis=(1, 2), keepdims=True), axis=0))),
            ("the flat was not normalized: divide it by its median", lambda: np.median(calibrated, axis=0)),
            ("the combined flat was not normalized: after combining, divide it by its median again",
             lambda: scaled_median),
            ("the dark was not scaled to each flat's exposure time (multiply by EXPTIME_flat / dark_exptime)",
             lambda: normalized(np.median(each_normalized(stack - master_bias - master_dark), axis=0))),
            ("the dark was not subtracted from the flats",
             lambda: normalized(np.median(each_normalized(stack - master_bias), axis=0))),
            ("the bias was not removed from the flats",
             lambda: normalized(np.median(each_normalized(stack - scaled), axis=0))),
            ("one exposure time was used for every flat: read EXPTIME from each flat's header",
             lambda: normalized(np.median(each_normalized(stack - master_bias - master_dark * times[0] / dark_exptime),
                                          axis=0))),
            ("averaged with the mean instead of the median",
             lambda: normalized(each_normalized(calibrated).mean(axis=0))),
        ]

    def scaled_clipped_mean(night, args):
        files, master_bias, master_dark, dark_exptime = args
        stack = _stack(files) - master_bias
        stack -= master_dark * (np.array([_exptime(f) for f in files]) / dark_exptime)[:, None, None]
        stack /= np.median(stack, axis=(1, 2))[:, None, None]
        combined = _clipped_mean(stack)
        return combined / np.nanmedian(combined)

    return _diagnose_master(
        "combine_flats", func, args_of,
        lambda night, args: _reference("combine_flats", *args),
        variants,
        truth_of=lambda night, components: components["flat"] / np.median(components["flat"]),
        alternatives_of=lambda night, args: [("a scaled, sigma-clipped mean",
                                              lambda: scaled_clipped_mean(night, args))],
        noise_of=lambda night, args: median_noise(args[0], _flat_preparation(args)),
    )


def _flat_preparation(args):
    """A flat as combine_flats combines it: less bias and scaled dark, over its own median."""
    _files, master_bias, master_dark, dark_exptime = args

    def prepare(frame, path):
        calibrated = frame - master_bias - master_dark * _exptime(path) / dark_exptime
        return calibrated / np.median(calibrated)

    return prepare


_STRUCTURE_KEYS = {"SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "BZERO", "BSCALE", "HISTORY",
                   "COMMENT", ""}


def _header_problems(name, header, template_header, history=None):
    problems = []
    missing = [
        key for key in template_header
        if key not in _STRUCTURE_KEYS and (key not in header or header[key] != template_header[key])
    ]
    if missing:
        problems.append(
            f"{name}: the header was not copied from the template (missing or changed: {', '.join(missing[:5])})"
        )
    if history is not None:
        cards = [str(card) for card in header.get("HISTORY", [])]
        if not any(history in card for card in cards) and history not in str(header.get("HISTORY", "")):
            problems.append(f"{name}: the HISTORY card {history!r} is missing from the header")
    return problems


def diagnose_save_fits(func):
    """Check ``save_fits(data, template_filename, history, out_filename)``."""
    import hashlib

    from astropy.io import fits

    name = "save_fits"
    problems = []
    with _nights() as (nights, scratch):
        for index, night in enumerate(nights):
            template = night.darks[0]
            before = hashlib.sha256(Path(template).read_bytes()).hexdigest()
            data = np.linspace(-5.5, 1234.25, night.shape[0] * night.shape[1]).reshape(night.shape)
            out = scratch / f"saved{index}.fits"
            history = f"Median combination test {index}"
            try:
                _result, printed = _call(func, name, data, template, history, OutputPath(out))
            except _Failed as failure:
                return [f"{failure} (on {night.description})"]
            if hashlib.sha256(Path(template).read_bytes()).hexdigest() != before:
                return [f"{name} changed the template file {template}: raw data must never be overwritten"]
            if not out.exists():
                return [f"{name} did not write a file at out_filename"]
            with fits.open(out, memmap=False) as written:
                header = written[0].header
                saved = written[0].data
            if saved is None or saved.shape != night.shape:
                return [f"{name} wrote data of shape {None if saved is None else saved.shape}, expected {night.shape}"]
            if not np.issubdtype(saved.dtype, np.floating):
                problems.append(f"{name} wrote {saved.dtype} data: write the image as float (float32)")
            elif not _close(saved, data, rtol=1e-6, atol=1e-3):
                if _close(saved, data + 32768.0, rtol=1e-6, atol=1e-3) or _close(saved, data - 32768.0):
                    problems.append(f"{name}: BZERO from the uint16 template was kept, shifting the data by 32768")
                else:
                    problems.append(f"{name} wrote data that differ from the array it was given")
            problems += _header_problems(name, header, fits.getheader(template), history)
            if problems:
                return [f"{p} (on {night.description})" for p in problems]
    return problems
