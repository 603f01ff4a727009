"""A night of frames written the way real cameras' software writes them, for ``ccdlab data --from``.

The pixels are the simulator's (so the physics holds and the notebooks can
reduce them); the files are rewritten in the conventions of CCDSoft / MaxIm
DL / NINA / IRAF: file names of camera software, IMAGETYP spelled 'Bias
Frame', 'BIAS', 'zero', 'Dark Frame', 'DARK', 'Light Frame'; flats labelled
'Light Frame' whose OBJECT says flat; EXPOSURE instead of EXPTIME on some
frames; BITPIX -32 darks; EGAIN instead of GAIN; a ``BIAS = 100`` pedestal
card; no RDNOISE, SATURATE or FILTER on the calibration frames; and beside
them files a real folder holds: a text log, an unreadable ``.fits``, a
2 x 2 binned bias, a focus frame and a flat in another filter.

The camera is unlike the bundled one: bias level about 100 ADU, gain 2.06
e-/ADU, read noise 7.5 e-, a warmer sensor (-5 C), frames 240 x 260 pixels
(the import crops the centred 200 x 200), a 150 s science frame, 60 s
darks, a dark series 10-60 s, flats all of 23 s (so no photon-transfer
series: notebook 06 measures the simulated camera the import writes).
"""

from pathlib import Path

import numpy as np
from astropy.io import fits

from sample_data import simulate

#: The camera and the night, in the simulator's words.
CAMERA = simulate.Camera(gain_e_per_adu=2.06, read_noise_e=7.5, bias_level_adu=100.0, bias_column_sigma_adu=1.5,
                         ccd_temp_c=-5.0)
SHAPE = (240, 260)
SEED = 777
EGAIN = CAMERA.gain_e_per_adu
CCD_TEMP_C = CAMERA.ccd_temp_c
OBJECT = "NGC 2403"
BIAS_FILES = tuple(f"Bias-{i:03d}.fit" for i in range(1, 9))
DARK_FILES = tuple(f"Dark-060s-{i:03d}.fit" for i in range(1, 6))
DARK_SERIES = (("Dark-010s-001.fit", 10.0), ("Dark-010s-002.fit", 10.0),
               ("Dark-030s-001.fit", 30.0), ("Dark-030s-002.fit", 30.0))
FLAT_FILES = tuple(f"flat_R_{i:03d}.fit" for i in range(1, 7))
SCIENCE_FILE = "NGC2403-R-150s-001.fit"
DARK_EXPTIME_S = 60.0
SCIENCE_EXPTIME_S = 150.0

#: Cards of the simulator that real software does not write.
_SIMULATOR_ONLY = ("SIMSEED", "SIMVERS", "GAIN", "RDNOISE", "SATURATE", "COMMENT", "BUNIT", "TELESCOP")


def description():
    """The simulator's description of the night (the dark series is written separately)."""
    return simulate.NightDescription(
        shape=SHAPE, seed=SEED, camera=CAMERA,
        bias_files=BIAS_FILES, dark_files=DARK_FILES, flat_files=FLAT_FILES, science_file=SCIENCE_FILE,
        dark_exptime_s=DARK_EXPTIME_S, science_exptime_s=SCIENCE_EXPTIME_S, flat_exptimes_s=(23.0,) * len(FLAT_FILES),
        band="R", label="a night of a real camera", ptc_pairs=(), ptc_exptimes_s=(),
        dark_series_files=tuple(name for name, _ in DARK_SERIES), dark_series_exptimes_s=(10.0, 30.0))


def _rewrite(path, out, imagetyp, exposure_keyword="EXPTIME", bitpix=16, object_=None, keep_filter=False,
             pedestal=False):
    """Write ``path``'s pixels into ``out`` with a real camera's header."""
    with fits.open(path) as hdus:
        data = hdus[0].data
        old = hdus[0].header
    header = fits.Header()
    header["IMAGETYP"] = (imagetyp, "type of image")
    header[exposure_keyword] = (old["EXPTIME"], "exposure time in seconds")
    header["DATE-OBS"] = old["DATE-OBS"]
    header["INSTRUME"] = ("SBIG STL-1001E", "camera")
    header["SWCREATE"] = "CCDSoft Version 5.00.210"
    header["EGAIN"] = (EGAIN, "electrons per ADU")
    header["CCD-TEMP"] = (old["CCD-TEMP"], "sensor temperature in C")
    header["XBINNING"], header["YBINNING"] = 1, 1
    if keep_filter:
        header["FILTER"] = old["FILTER"]
    if object_ is not None:
        header["OBJECT"] = object_
    if pedestal:
        header["BIAS"] = (100, "pedestal value")
    if bitpix == -32:
        fits.PrimaryHDU(data.astype(np.float32), header).writeto(out)
    else:
        hdu = fits.PrimaryHDU(data, header)  # uint16 is stored with BZERO = 32768
        hdu.writeto(out)
    assert not set(_SIMULATOR_ONLY) & set(fits.getheader(out))


def write_real_night(folder, scratch):
    """Write the night into ``folder`` (made) in real cameras' conventions; ``scratch`` is an empty folder.

    Returns
    -------
    dict
        What the import should take: ``bias``, ``dark``, ``dark_series``,
        ``flat`` (sets of names), ``science`` (a name).
    """
    folder, scratch = Path(folder), Path(scratch)
    folder.mkdir(parents=True, exist_ok=True)
    simulate.simulate_night(scratch, night=description(), truth_file=False)
    spellings = ("Bias Frame", "BIAS", "zero")
    for i, name in enumerate(BIAS_FILES):
        _rewrite(scratch / name, folder / name, spellings[i % 3], pedestal=i == 0,
                 exposure_keyword="EXPOSURE" if i == 1 else "EXPTIME")
    for i, name in enumerate(DARK_FILES):
        _rewrite(scratch / name, folder / name, "Dark Frame" if i % 2 else "DARK", bitpix=-32 if i == 2 else 16,
                 exposure_keyword="EXPOSURE" if i == 3 else "EXPTIME")
    for name, _ in DARK_SERIES:
        _rewrite(scratch / name, folder / name, "Dark Frame")
    for i, name in enumerate(FLAT_FILES):
        _rewrite(scratch / name, folder / name, "Light Frame", keep_filter=True,
                 object_="Flat field" if i % 2 else None)  # the others' file names say flat
    _rewrite(scratch / SCIENCE_FILE, folder / SCIENCE_FILE, "Light Frame", keep_filter=True, object_=OBJECT)
    # What else a night's folder holds.
    (folder / "observing_log.txt").write_text("clear, seeing 2.5 arcsec, dome flats with the lamp\n")
    (folder / "crashed.fits").write_bytes(b"SIMPLE  =                    T" + b"\x00" * 100)
    binned = fits.getdata(folder / BIAS_FILES[2])[::2, ::2]
    header = fits.getheader(folder / BIAS_FILES[2])
    header["XBINNING"], header["YBINNING"] = 2, 2
    fits.PrimaryHDU(binned, header).writeto(folder / "Bias-bin2-001.fit")
    _rewrite(scratch / FLAT_FILES[0], folder / "Focus-0001.fit", "Focus")
    _rewrite(scratch / FLAT_FILES[1], folder / "flat_V_001.fit", "Light Frame", keep_filter=True)
    with fits.open(folder / "flat_V_001.fit", mode="update") as hdus:
        hdus[0].header["FILTER"] = "V"
    return expected()


def expected():
    """What the import of :func:`write_real_night`'s folder should take (see there)."""
    return {
        "bias": set(BIAS_FILES), "dark": set(DARK_FILES), "flat": set(FLAT_FILES), "science": SCIENCE_FILE,
        "dark_series": {name for name, _ in DARK_SERIES} | set(DARK_FILES[:2]),
    }
