"""Facts about the lab: file names, exposure times, gain and plot ranges.

Every notebook and helper of the lab reads these values from here, so each
fact is written exactly once.
"""

#: The kind of camera that took the frames.  Its sensor is cooled by a
#: Peltier element to the CCD-TEMP of the headers (-20 C); ordinary pixels of
#: such a camera have a dark current of a few hundredths of an electron per
#: second, in the range below.
CAMERA_CLASS = "thermoelectrically cooled CCD"
TYPICAL_DARK_CURRENT_E_PER_S = (0.01, 0.1)

#: Detector gain in electrons per ADU.
GAIN_E_PER_ADU = 2.0

#: Exposure time of every dark frame, in seconds.
DARK_EXPTIME_S = 60.0

#: Exposure time of the R-band science frame, in seconds.
SCIENCE_EXPTIME_S = 180.0

#: Exposure times of the five R-band twilight flats, in seconds.  They grow
#: as the sky darkens, so the flats reach similar counts.
FLAT_EXPTIMES_S = (2.0, 2.5, 3.0, 4.0, 5.0)

#: Counts range (ADU) that the bias histogram is zoomed to.
BIAS_HISTOGRAM_RANGE_ADU = (1300, 1700)

#: Raw frames are unsigned 16-bit integers: this is the largest value the
#: camera's converter can write (where the converter saturates), ADU.  A
#: pixel stops measuring light earlier, when its well is full: the SATURATE
#: keyword of a raw frame's header gives that level (the smaller of this and
#: the full well seen through the gain above the bias), and for this camera
#: it is the full well, well below this number.
SATURATION_ADU = 65535

#: The photon-transfer series (notebook 06): pairs of R-band flats lit by a
#: lamp of constant brightness, faint to bright, two frames per exposure time
#: so that their difference holds only noise.  The level grows with the
#: exposure time: the faintest pair sits on the read-noise floor, the middle
#: ones in the shot-noise regime, the next two where the response bends, and
#: the brightest is past the full well (saturated).
PTC_FLAT_PAIRS = tuple((f"LampR-{i:02d}a.fit", f"LampR-{i:02d}b.fit") for i in range(1, 9))
#: Exposure time of each pair of PTC_FLAT_PAIRS, in seconds.
PTC_EXPTIMES_S = (0.05, 0.4, 3.0, 12.0, 40.0, 80.0, 100.0, 200.0)

#: The dark series (notebook 06): darks of several exposure times, in
#: seconds, two per time, for the dark current as the slope of the dark
#: signal against time and for the pixels whose dark signal is not linear.
DARK_SERIES_EXPTIMES_S = (30.0, 60.0, 180.0, 300.0)
#: Names of the dark series, ordered by exposure time (each file's EXPTIME
#: gives its time): ``Dark-030s-1.fit``, ``Dark-030s-2.fit``, ...
DARK_SERIES_FILES = tuple(f"Dark-{t:03.0f}s-{i}.fit" for t in DARK_SERIES_EXPTIMES_S for i in (1, 2))

#: Names of the raw frames, as the observatory's camera software wrote them.
BIAS_FILES = tuple(
    [f"CalR-{i:04d}Bias.fit" for i in range(1, 11)]
    + [f"CalV-{i:04d}Bias.fit" for i in range(1, 11)]
)
DARK_FILES = tuple(
    [f"CalR-{i:04d}Dark.fit" for i in range(1, 6)]
    + [f"CalV-{i:04d}Dark.fit" for i in range(1, 6)]
)
FLAT_FILES = tuple(f"CalR-{i:04d}R.fit" for i in range(1, 6))
SCIENCE_FILE = "M101_MartiC_180-0001.fit"

#: Frames the first notebooks look at one at a time.
FIRST_BIAS_FILE = BIAS_FILES[0]
FIRST_DARK_FILE = DARK_FILES[0]
FIRST_FLAT_FILE = FLAT_FILES[0]

#: Master frames that come with the raw frames, in the same folder, so that
#: the stacking notebook's tests and the last notebook do not depend on your
#: own master frames: bias (ADU), dark (ADU collected in the darks' EXPTIME)
#: and flat (dimensionless, median 1).
GIVEN_MASTER_FILES = {
    "bias": "given_master_bias.fits",
    "dark": "given_master_dark.fits",
    "flat": "given_master_flat.fits",
}

#: Products the students write into their scratch folder.
REDUCED_DIRNAME = "Reduced_data"
MASTER_BIAS_FILE = "combined_bias.fits"
MASTER_DARK_FILE = "combined_dark.fits"
MASTER_FLAT_FILE = "combined_flat.fits"
CALIBRATED_SCIENCE_FILE = "M101_MartiC_180-0001_proc.fits"

#: Header keyword that process_data sets on a calibrated frame.
CALIBRATED_KEYWORD = "CALIBRAT"
