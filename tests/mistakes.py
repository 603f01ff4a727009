"""Known-wrong answers, each written the way a student might get it wrong.

Every function has the student-facing signature and exactly one mistake, so
tests can prove that the checks in ``autograder.checks`` fail it and name
that mistake.  ``WRONG_ANSWERS`` maps each graded item to its mistakes and
the phrase the check's message must contain.
"""

import matplotlib.pyplot as plt
import numpy as np
from astropy.io import fits

import solutions
from convenience_functions import lab

# ---------------------------------------------------------------------------
# calc_dark_current


def _night_gain(gain):
    """The ``gain`` given, else the night's: the notebook's signature is ``gain=lab.GAIN_E_PER_ADU``."""
    return lab.GAIN_E_PER_ADU if gain is None else gain


def dark_current_without_bias(dark_filename, bias_filename, gain=None):
    dark = fits.getdata(dark_filename).astype(float)
    return _night_gain(gain) * dark.mean() / fits.getheader(dark_filename)["EXPTIME"]


def dark_current_uint16(dark_filename, bias_filename, gain=None):
    difference = fits.getdata(dark_filename) - fits.getdata(bias_filename)
    return _night_gain(gain) * difference.mean() / fits.getheader(dark_filename)["EXPTIME"]


def dark_current_printed(dark_filename, bias_filename, gain=None):
    print("Average dark current:", solutions.calc_dark_current(dark_filename, bias_filename, _night_gain(gain)))


def dark_current_fixed_gain(dark_filename, bias_filename, gain=None):
    # The night's gain typed in as a number (read at the call, as a student reads it off the page).
    return solutions.calc_dark_current(dark_filename, bias_filename, float(lab.GAIN_E_PER_ADU))


def dark_current_fixed_exptime(dark_filename, bias_filename, gain=None):
    difference = fits.getdata(dark_filename).astype(float) - fits.getdata(bias_filename)
    return _night_gain(gain) * difference.mean() / float(lab.DARK_EXPTIME_S)  # the darks' time typed in


# ---------------------------------------------------------------------------
# load_stack


def load_stack_fixed_shape(filenames):
    stack = np.zeros((len(filenames), 200, 200))
    for index, name in enumerate(filenames):
        stack[index] = fits.getdata(name)
    return stack


def load_stack_uint16(filenames):
    return np.array([fits.getdata(name) for name in filenames])


# ---------------------------------------------------------------------------
# combine_bias, combine_darks, combine_flats


def combine_bias_mean(filenames):
    return solutions.load_stack(filenames).mean(axis=0)


def combine_bias_wrong_axis(filenames):
    return np.median(solutions.load_stack(filenames), axis=1)


def combine_bias_fixed_shape(filenames):
    stack = np.zeros((len(filenames), 1024, 1024))
    for index, name in enumerate(filenames):
        stack[index] = fits.getdata(name)
    return np.median(stack, axis=0)


def combine_darks_with_bias(filenames, master_bias):
    return np.median(solutions.load_stack(filenames), axis=0)


def combine_darks_mean(filenames, master_bias):
    return (solutions.load_stack(filenames) - master_bias).mean(axis=0)


def combine_darks_wrong_axis(filenames, master_bias):
    return np.median(solutions.load_stack(filenames) - master_bias, axis=2)


def _flat_stack(filenames, master_bias, master_dark, dark_exptime, scale_dark=True, remove_bias=True,
                scale_flats=True):
    frames = []
    for name in filenames:
        flat = fits.getdata(name).astype(float)
        if remove_bias:
            flat = flat - master_bias
        ratio = fits.getheader(name)["EXPTIME"] / dark_exptime if scale_dark else 1.0
        flat = flat - master_dark * ratio
        frames.append(flat / np.median(flat) if scale_flats else flat)
    return np.median(np.array(frames), axis=0)


def combine_flats_unscaled(filenames, master_bias, master_dark, dark_exptime):
    combined = _flat_stack(filenames, master_bias, master_dark, dark_exptime, scale_flats=False)
    return combined / np.median(combined)


def combine_flats_mean_normalized(filenames, master_bias, master_dark, dark_exptime):
    combined = _flat_stack(filenames, master_bias, master_dark, dark_exptime)
    return combined / combined.mean()


def combine_flats_unscaled_dark(filenames, master_bias, master_dark, dark_exptime):
    combined = _flat_stack(filenames, master_bias, master_dark, dark_exptime, scale_dark=False)
    return combined / np.median(combined)


def combine_flats_with_bias(filenames, master_bias, master_dark, dark_exptime):
    combined = _flat_stack(filenames, master_bias, master_dark, dark_exptime, remove_bias=False)
    return combined / np.median(combined)


# ---------------------------------------------------------------------------
# save_fits


def save_fits_without_header(data, template_filename, history, out_filename):
    header = fits.Header()
    header["HISTORY"] = history
    fits.PrimaryHDU(np.asarray(data, dtype=np.float32), header).writeto(out_filename, overwrite=True)


def save_fits_without_history(data, template_filename, history, out_filename):
    header = fits.getheader(template_filename)
    fits.PrimaryHDU(np.asarray(data, dtype=np.float32), header).writeto(out_filename, overwrite=True)


# ---------------------------------------------------------------------------
# process_data


def _masters(bias_file, dark_file, flat_file):
    return fits.getdata(bias_file), fits.getdata(dark_file), fits.getdata(flat_file)


def _write_calibrated(data, filename, new_filename):
    header = fits.getheader(filename)
    header["HISTORY"] = "bias, dark and flat corrected"
    header["CALIBRAT"] = True
    fits.PrimaryHDU(np.asarray(data, dtype=np.float32), header).writeto(new_filename, overwrite=True)


def process_data_unscaled_dark(filename, new_filename, bias_file, dark_file, flat_file):
    bias, dark, flat = _masters(bias_file, dark_file, flat_file)
    calibrated = (fits.getdata(filename).astype(float) - bias - dark) / flat
    _write_calibrated(calibrated, filename, new_filename)
    return calibrated


def process_data_flat_multiplied(filename, new_filename, bias_file, dark_file, flat_file):
    bias, dark, flat = _masters(bias_file, dark_file, flat_file)
    ratio = fits.getheader(filename)["EXPTIME"] / fits.getheader(dark_file)["EXPTIME"]
    calibrated = (fits.getdata(filename).astype(float) - bias - dark * ratio) * flat
    _write_calibrated(calibrated, filename, new_filename)
    return calibrated


def process_data_printed(filename, new_filename, bias_file, dark_file, flat_file):
    print(solutions.process_data(filename, new_filename, bias_file, dark_file, flat_file))


def process_data_unmarked(filename, new_filename, bias_file, dark_file, flat_file):
    bias, dark, flat = _masters(bias_file, dark_file, flat_file)
    ratio = fits.getheader(filename)["EXPTIME"] / fits.getheader(dark_file)["EXPTIME"]
    calibrated = (fits.getdata(filename).astype(float) - bias - dark * ratio) / flat
    fits.PrimaryHDU(calibrated.astype(np.float32), fits.getheader(filename)).writeto(new_filename, overwrite=True)
    return calibrated


# ---------------------------------------------------------------------------
# plot_bias_histogram


def _histogram(data, ax, title="Distribution of Bias Counts", flatten=True):
    if ax is None:
        ax = plt.gca()
    values = np.asarray(data).flatten() if flatten else data
    ax.hist(values, bins=500, histtype="step")
    ax.set_xlim(*lab.BIAS_HISTOGRAM_RANGE_ADU)
    ax.set_xlabel("Counts")
    ax.set_ylabel("Number of pixels")
    ax.set_title(title)
    return ax


def histogram_wrong_title(data, ax=None):
    return _histogram(data, ax, title="Bias histogram")


def histogram_not_flattened(data, ax=None):
    return _histogram(data, ax, flatten=False)


def histogram_not_returned(data, ax=None):
    _histogram(data, ax)


# ---------------------------------------------------------------------------
# What each check must say about each mistake

WRONG_ANSWERS = {
    "calc_dark_current": [
        (dark_current_without_bias, "bias was not removed"),
        (dark_current_uint16, "uint16 wrap-around"),
        (dark_current_printed, "prints its result instead of returning"),
        (dark_current_fixed_gain, "gain argument is ignored"),
        (dark_current_fixed_exptime, "exposure time is hard-coded"),
    ],
    "load_stack": [
        (load_stack_fixed_shape, "shape"),
        (load_stack_uint16, "uint16"),
    ],
    "combine_bias": [
        (combine_bias_mean, "mean instead of the median"),
        (combine_bias_wrong_axis, "wrong axis"),
        (combine_bias_fixed_shape, "hard-coded"),
    ],
    "combine_darks": [
        (combine_darks_with_bias, "bias was not removed"),
        (combine_darks_mean, "mean instead of the median"),
        (combine_darks_wrong_axis, "wrong axis"),
    ],
    "combine_flats": [
        (combine_flats_mean_normalized, "normalized by its mean"),
        (combine_flats_unscaled, "not scaled to a common level before combining"),
        (combine_flats_unscaled_dark, "dark was not scaled"),
        (combine_flats_with_bias, "bias was not removed"),
    ],
    "save_fits": [
        (save_fits_without_header, "header was not copied"),
        (save_fits_without_history, "HISTORY"),
    ],
    "process_data": [
        (process_data_unscaled_dark, "dark was not scaled"),
        (process_data_flat_multiplied, "flat was multiplied"),
        (process_data_printed, "prints its result instead of returning"),
        (process_data_unmarked, "calibrated"),
    ],
    "plot_bias_histogram": [
        (histogram_wrong_title, "title"),
        (histogram_not_flattened, "flatten"),
        (histogram_not_returned, "return"),
    ],
}


# ---------------------------------------------------------------------------
# Notebook 06: measuring the camera (judged against the simulator's truth)


def _frame(name):
    return fits.getdata(name).astype(float)


def _clipped_std(values):
    from astropy.stats import sigma_clipped_stats

    return sigma_clipped_stats(values, sigma=5, maxiters=10)[2]


def read_noise_one_bias(bias_file_1, bias_file_2, gain):
    return np.std(_frame(bias_file_1)) * gain


def read_noise_no_sqrt2(bias_file_1, bias_file_2, gain):
    return _clipped_std(_frame(bias_file_1) - _frame(bias_file_2)) * gain


def read_noise_in_adu(bias_file_1, bias_file_2, gain):
    return _clipped_std(_frame(bias_file_1) - _frame(bias_file_2)) / np.sqrt(2)


def read_noise_plain_std(bias_file_1, bias_file_2, gain):
    return np.std(_frame(bias_file_1) - _frame(bias_file_2)) / np.sqrt(2) * gain


def _gain_parts(flat_file_1, flat_file_2, bias_file_1, bias_file_2):
    f1, f2, b1, b2 = (_frame(name) for name in (flat_file_1, flat_file_2, bias_file_1, bias_file_2))
    signal = f1.mean() + f2.mean() - b1.mean() - b2.mean()
    return f1, f2, b1, b2, signal, _clipped_std(f1 - f2) ** 2 - _clipped_std(b1 - b2) ** 2


def gain_inverted(flat_file_1, flat_file_2, bias_file_1, bias_file_2):
    *_, signal, variance = _gain_parts(flat_file_1, flat_file_2, bias_file_1, bias_file_2)
    return variance / signal


def gain_one_flat_variance(flat_file_1, flat_file_2, bias_file_1, bias_file_2):
    f1, f2, b1, b2, signal, variance = _gain_parts(flat_file_1, flat_file_2, bias_file_1, bias_file_2)
    return (f1.mean() - b1.mean()) / (np.var(f1) - np.var(b1))


def gain_missing_factor_2(flat_file_1, flat_file_2, bias_file_1, bias_file_2):
    f1, f2, b1, b2, signal, variance = _gain_parts(flat_file_1, flat_file_2, bias_file_1, bias_file_2)
    return (f1.mean() - b1.mean()) / variance


def gain_without_bias(flat_file_1, flat_file_2, bias_file_1, bias_file_2):
    f1, f2, b1, b2, signal, variance = _gain_parts(flat_file_1, flat_file_2, bias_file_1, bias_file_2)
    return (f1.mean() + f2.mean()) / variance


def _ptc(flat_pairs, bias_file_1, bias_file_2, variance_of, subtract_bias=True):
    bias = (_frame(bias_file_1).mean() + _frame(bias_file_2).mean()) / 2 if subtract_bias else 0.0
    signal, variance = [], []
    for name_a, name_b in flat_pairs:
        a, b = _frame(name_a), _frame(name_b)
        signal.append((a.mean() + b.mean()) / 2 - bias)
        variance.append(variance_of(a, b))
    return np.array(signal), np.array(variance)


def ptc_one_flat_variance(flat_pairs, bias_file_1, bias_file_2):
    return _ptc(flat_pairs, bias_file_1, bias_file_2, lambda a, b: np.var(a))


def ptc_not_halved(flat_pairs, bias_file_1, bias_file_2):
    return _ptc(flat_pairs, bias_file_1, bias_file_2, lambda a, b: _clipped_std(a - b) ** 2)


def ptc_without_bias(flat_pairs, bias_file_1, bias_file_2):
    return _ptc(flat_pairs, bias_file_1, bias_file_2, lambda a, b: _clipped_std(a - b) ** 2 / 2, subtract_bias=False)


def ptc_stacked(flat_pairs, bias_file_1, bias_file_2):
    return np.array(solutions.photon_transfer(flat_pairs, bias_file_1, bias_file_2))


def _dark_means(dark_files, master_bias):
    times = np.array([fits.getheader(name)["EXPTIME"] for name in dark_files], dtype=float)
    means = np.array([(_frame(name) - master_bias).mean() for name in dark_files])
    return times, means


def dark_fit_intercept(dark_files, master_bias, gain):
    times, means = _dark_means(dark_files, master_bias)
    return np.polyfit(times, means, 1)[1] * gain


def dark_not_divided_by_time(dark_files, master_bias, gain):
    times, means = _dark_means(dark_files, master_bias)
    return means[np.argmax(times)] * gain


def dark_in_adu(dark_files, master_bias, gain):
    times, means = _dark_means(dark_files, master_bias)
    return np.polyfit(times, means, 1)[0]


def dark_without_bias(dark_files, master_bias, gain):
    times, means = _dark_means(dark_files, np.zeros_like(master_bias))
    return np.mean(means / times) * gain


def _slopes(dark_files, master_bias, gain):
    times = np.array([fits.getheader(name)["EXPTIME"] for name in dark_files], dtype=float)
    stack = np.stack([(_frame(name) - master_bias) * gain for name in dark_files])
    return times, stack, np.polyfit(times, stack.reshape(len(times), -1), 1)[0].reshape(stack.shape[1:])


def mask_one_dark_not_divided(dark_files, master_bias, gain, max_dark_current):
    times, stack, slopes = _slopes(dark_files, master_bias, gain)
    return stack[np.argmax(times)] > max_dark_current


def mask_without_nonlinear(dark_files, master_bias, gain, max_dark_current):
    times, stack, slopes = _slopes(dark_files, master_bias, gain)
    return slopes > max_dark_current


def mask_inverted(dark_files, master_bias, gain, max_dark_current):
    return ~solutions.bad_pixel_mask(dark_files, master_bias, gain, max_dark_current)


def mask_as_int(dark_files, master_bias, gain, max_dark_current):
    return solutions.bad_pixel_mask(dark_files, master_bias, gain, max_dark_current).astype(int)


def ptc_plot_linear(signal_adu, variance_adu2, ax=None):
    ax = ax or plt.gca()
    ax.plot(signal_adu, variance_adu2, "o")
    ax.set_xlabel("Signal (ADU)")
    ax.set_ylabel("Variance (ADU^2)")
    return ax


def ptc_plot_unlabelled(signal_adu, variance_adu2, ax=None):
    ax = ax or plt.gca()
    ax.loglog(signal_adu, variance_adu2, "o")
    return ax


def ptc_plot_swapped(signal_adu, variance_adu2, ax=None):
    ax = ax or plt.gca()
    ax.loglog(variance_adu2, signal_adu, "o")
    ax.set_xlabel("Signal (ADU)")
    ax.set_ylabel("Variance (ADU^2)")
    return ax


def ptc_plot_noise_called_variance(signal_adu, variance_adu2, ax=None):
    ax = ax or plt.gca()
    ax.loglog(signal_adu, np.sqrt(variance_adu2), "o")
    ax.set_xlabel("Signal (ADU)")
    ax.set_ylabel("Variance (ADU^2)")
    return ax


#: Notebook 06's items -> (wrong function, phrase its check's message must contain).
CAMERA_WRONG_ANSWERS = {
    "measure_read_noise": [
        (read_noise_one_bias, "standard deviation of one bias"),
        (read_noise_no_sqrt2, "not divided by sqrt(2)"),
        (read_noise_in_adu, "in ADU"),
        (read_noise_plain_std, "cosmic rays"),
    ],
    "measure_gain": [
        (gain_inverted, "inverted"),
        (gain_one_flat_variance, "variance of one flat"),
        (gain_missing_factor_2, "factor 2"),
        (gain_without_bias, "bias was not subtracted"),
    ],
    "photon_transfer": [
        (ptc_one_flat_variance, "variance of one flat"),
        (ptc_not_halved, "not divided by 2"),
        (ptc_without_bias, "bias was not subtracted"),
        (ptc_stacked, "two arrays"),
    ],
    "fit_dark_current": [
        (dark_fit_intercept, "intercept"),
        (dark_not_divided_by_time, "not divided by the exposure time"),
        (dark_in_adu, "ADU/s"),
        (dark_without_bias, "bias was not subtracted"),
    ],
    "bad_pixel_mask": [
        (mask_one_dark_not_divided, "without dividing by its exposure time"),
        (mask_without_nonlinear, "non-linear"),
        (mask_inverted, "inverted"),
        (mask_as_int, "bool"),
    ],
    "plot_photon_transfer": [
        (ptc_plot_linear, "log-log"),
        (ptc_plot_unlabelled, "label"),
        (ptc_plot_swapped, "swapped"),
        (ptc_plot_noise_called_variance, "the noise (the square root of the variance) is in ADU"),
    ],
}
