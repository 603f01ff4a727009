"""Diagnosis of notebook 03, dark current: ``calc_dark_current`` in e-/s/pixel."""

import numpy as np

from convenience_functions import lab

from .compare import _call, _Failed, _isclose, _name_mistake, _returned_nothing, _type_name
from .nights import _exptime, _nights, _read
from .reference import _reference

def diagnose_calc_dark_current(func):
    """Check ``calc_dark_current(dark_filename, bias_filename, gain=lab.GAIN_E_PER_ADU)``."""
    name = "calc_dark_current"
    problems = []
    with _nights() as (nights, _scratch):
        cases = [
            (nights[0].darks[0], nights[0].biases[0], None, nights[0].description),
            (nights[1].darks[0], nights[1].biases[0], 1.5, nights[1].description + " with gain=1.5"),
        ]
        for dark, bias, gain, where in cases:
            kwargs = {} if gain is None else {"gain": gain}
            try:
                result, printed = _call(func, name, dark, bias, **kwargs)
            except _Failed as failure:
                return [str(failure)]
            nothing = _returned_nothing(name, result, printed)
            if nothing:
                return [nothing]
            try:
                value = float(result)
            except (TypeError, ValueError):
                return [f"{name} should return a number (e-/s/pixel), not {_type_name(result)}"]
            expected = _reference("calc_dark_current", dark, bias, **kwargs)
            if _isclose(value, expected, rtol=1e-6):
                continue
            used_gain = lab.GAIN_E_PER_ADU if gain is None else gain
            raw_dark, raw_bias, exptime = _read(dark), _read(bias), _exptime(dark)
            from astropy.io import fits

            wrapped = (fits.getdata(dark) - fits.getdata(bias)).astype(float)
            variants = [
                ("the bias was not removed: subtract the bias frame before taking the mean",
                 lambda: used_gain * raw_dark.mean() / exptime),
                ("uint16 wrap-around: convert the frames to float before subtracting",
                 lambda: used_gain * wrapped.mean() / exptime),
                ("the result is in ADU/s: multiply by the gain (e-/ADU) to get e-/s",
                 lambda: (raw_dark - raw_bias).mean() / exptime),
                ("divided by the gain: electrons = ADU * gain",
                 lambda: (raw_dark - raw_bias).mean() / used_gain / exptime),
                (f"the gain argument is ignored ({lab.GAIN_E_PER_ADU!r} hard-coded): use the `gain` parameter",
                 lambda: lab.GAIN_E_PER_ADU * (raw_dark - raw_bias).mean() / exptime if gain else None),
                (f"the exposure time is hard-coded to {lab.DARK_EXPTIME_S:g} s: read EXPTIME from the header",
                 lambda: used_gain * (raw_dark - raw_bias).mean() / lab.DARK_EXPTIME_S
                 if exptime != lab.DARK_EXPTIME_S else None),
                ("the result is not divided by the exposure time (e-/pixel, not e-/s/pixel)",
                 lambda: used_gain * (raw_dark - raw_bias).mean()),
            ]
            mistake = _name_mistake(value, variants, expected, rtol=1e-6, atol=1e-9)
            if mistake:
                problems.append(f"{name} on {where}: {mistake}")
            else:
                off = (value - expected) / expected if expected else np.inf
                problems.append(f"{name} on {where} gave {value:.5g} e-/s/pixel, {off:+.1%} off the right value")
            break
    return problems
