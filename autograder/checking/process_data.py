"""Diagnosis of notebook 05, process_data: the calibrated science frame and the file it writes."""

from pathlib import Path

import numpy as np

from convenience_functions import lab

from ..candidates import OutputPath
from .compare import _as_image, _call, _close, _compare, _Failed
from .nights import _nights, _read
from .reference import _gain, _reference, _truth
from .stacking import _header_problems

def _write_master(image, template, history, out_path):
    """Write a master frame as float32 with the template's header (no BZERO)."""
    from astropy.io import fits

    header = fits.getheader(template)
    for key in ("BZERO", "BSCALE", "BLANK"):
        header.remove(key, ignore_missing=True)
    header["HISTORY"] = history
    fits.PrimaryHDU(np.asarray(image, dtype=np.float32), header).writeto(out_path, overwrite=True)


def diagnose_process_data(func):
    """Check ``process_data(filename, new_filename, bias_file, dark_file, flat_file)``."""
    import hashlib

    from astropy.io import fits
    from astropy.stats import mad_std

    name = "process_data"
    with _nights() as (nights, scratch):
        for index, night in enumerate(nights):
            folder = scratch / f"masters{index}"
            folder.mkdir()
            bias = _reference("combine_bias", night.biases)
            dark = _reference("combine_darks", night.darks, bias)
            flat = _reference("combine_flats", night.flats, bias, dark, night.dark_exptime)
            paths = {}
            for label, image, template in (("bias", bias, night.biases[0]), ("dark", dark, night.darks[0]),
                                           ("flat", flat, night.flats[0])):
                paths[label] = str(folder / f"master_{label}.fits")
                _write_master(image, template, f"master {label} for the check", paths[label])
            expected = _reference("process_data", night.science, str(folder / "expected.fits"),
                                  paths["bias"], paths["dark"], paths["flat"])
            out = folder / "calibrated.fits"
            before = hashlib.sha256(Path(night.science).read_bytes()).hexdigest()
            try:
                result, printed = _call(func, name, night.science, OutputPath(out), paths["bias"], paths["dark"],
                                        paths["flat"])
            except _Failed as failure:
                return [f"{failure} (on {night.description})"]
            if hashlib.sha256(Path(night.science).read_bytes()).hexdigest() != before:
                return [f"{name} changed the raw science file: raw data must never be overwritten"]
            problem = _as_image(name, result, printed, night.shape)
            if problem:
                return [f"{problem} (on {night.description})"]
            raw = _read(night.science)
            ratio = night.science_exptime / night.dark_exptime
            variants = [
                ("the dark was not scaled to the science exposure time "
                 "(multiply by EXPTIME_science / EXPTIME_dark)", lambda: (raw - bias - dark) / flat),
                ("the dark was not subtracted", lambda: (raw - bias) / flat),
                ("the bias was not subtracted", lambda: (raw - dark * ratio) / flat),
                ("the flat was multiplied instead of divided", lambda: (raw - bias - dark * ratio) * flat),
                ("the flat field was not applied", lambda: raw - bias - dark * ratio),
                (f"the exposure times are hard-coded ({lab.SCIENCE_EXPTIME_S:g} s / {lab.DARK_EXPTIME_S:g} s): "
                 "read EXPTIME from the headers",
                 lambda: (raw - bias - dark * lab.SCIENCE_EXPTIME_S / lab.DARK_EXPTIME_S) / flat
                 if ratio != lab.SCIENCE_EXPTIME_S / lab.DARK_EXPTIME_S else None),
                ("uint16 wrap-around: convert the raw frame to float before subtracting",
                 lambda: ((fits.getdata(night.science) - np.rint(bias).astype(np.uint16)).astype(float)
                          - dark * ratio) / flat),
            ]
            components = _truth(night)
            truth = valid = None
            if components is not None:
                truth = components["sky_e_per_s"] * night.science_exptime / _gain(night)
                valid = fits.getdata(night.science) < night.simulation.camera.saturation_adu
            # Without truth: the noise of the calibrated frame, from the science frame's own pixel-to-pixel
            # scatter (neighbours along a row differ by sqrt 2 times a pixel's noise; stars add few pairs).
            noise = None if truth is not None else float(
                mad_std(np.diff(expected, axis=1), ignore_nan=True) / np.sqrt(2.0))
            problem = _compare(name, result, expected, variants, night.description, truth=truth, valid=valid,
                               noise=noise)
            if problem:
                return [problem]
            if not out.exists():
                return [f"{name} did not write the calibrated frame to new_filename"]
            with fits.open(out, memmap=False) as written:
                header, saved = written[0].header, written[0].data
            if saved is None or not _close(saved, result, rtol=1e-5, atol=1e-2):
                return [f"{name}: the file written to new_filename does not hold the returned array"]
            problems = _header_problems(name, header, fits.getheader(night.science))
            if lab.CALIBRATED_KEYWORD not in header:
                problems.append(
                    f"{name}: the header has no keyword marking the frame calibrated "
                    f"(add {lab.CALIBRATED_KEYWORD} = True)"
                )
            if "HISTORY" not in header:
                problems.append(f"{name}: the header has no HISTORY card saying what was done")
            if problems:
                return [f"{p} (on {night.description})" for p in problems]
    return []
