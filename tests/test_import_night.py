"""Tests of importing a real night (sample_data/import_night.py, ``ccdlab data --from``).

The nights are written here in real cameras' conventions: IMAGETYP as
CCDSoft/MaxIm DL ('Bias Frame'), NINA ('BIAS', 'FLAT') and IRAF ('zero',
'object') write it, EXPOSURE without EXPTIME, a flat labelled 'Light Frame',
BITPIX -32 darks, a ``BIAS = 100`` pedestal card, a text file, an unreadable
``.fits`` and a binned frame; and ccdproc's own real raw frame (SAAO 1.0 m).
"""

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import ccdproc
from autograder import cli
import solutions
from convenience_functions import lab, night as night_file
from sample_data import import_night, simulate

#: Small and not square, so a swapped axis shows up.
SHAPE = (50, 64)
#: The window the tests keep: rows 15..34, columns 22..41.
SIZE = 20
ROW0, COL0 = (SHAPE[0] - SIZE) // 2, (SHAPE[1] - SIZE) // 2
EGAIN = 2.06
#: The sensor temperature the frames' CCD-TEMP says, C.
CCD_TEMP_C = -15.0

#: A real raw frame shipped with ccdproc (IRAF 'object', BZERO 32768, GAIN 1.9).
CCDPROC_RAW = Path(ccdproc.__file__).parent / "tests" / "data" / "a8280271.fits"


def run(argv):
    """Run ``ccdlab argv`` in-process; return the exit status."""
    try:
        return cli.main(argv)
    except SystemExit as stop:
        return stop.code


def write_frame(folder, name, imagetyp, shape=SHAPE, dtype=np.uint16, seed=0, level=0.0, **cards):
    """Write a raw frame as a camera would: ``dtype`` counts about 1000 ADU (+ ``level``), IMAGETYP and ``cards``.

    Unsigned 16-bit counts are stored the FITS way, as signed integers with BZERO = 32768.
    """
    header = fits.Header()
    if imagetyp is not None:
        header["IMAGETYP"] = (imagetyp, "type of image")
    for key, value in cards.items():
        header[key.replace("_", "-")] = value
    header["COMMENT"] = "written by the test in a camera's conventions"
    data = 1000.0 + level + np.random.default_rng(seed).normal(0.0, 10.0, shape) + np.arange(shape[1])
    data = np.rint(data).astype(dtype)
    fits.PrimaryHDU(data, header).writeto(Path(folder) / name)
    return Path(folder) / name


def real_night(folder):
    """Write a night in several cameras' conventions into ``folder``; return what should be chosen.

    Returns
    -------
    dict
        ``bias``, ``dark``, ``flat``: sets of the file names to take;
        ``science``: its name; ``left_out``: file name -> words of its reason.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ccdsoft = dict(INSTRUME="SBIG STL-1001E", EGAIN=EGAIN, XBINNING=1, YBINNING=1, SWCREATE="CCDSoft",
                   CCD_TEMP=CCD_TEMP_C)
    write_frame(folder, "Bias-001.fit", "Bias Frame", seed=1, EXPTIME=0.0, BIAS=100, **ccdsoft)
    write_frame(folder, "Bias-002.fit", "BIAS", seed=2, EXPOSURE=0.0, **ccdsoft)
    write_frame(folder, "zero003.fits", "zero", seed=3, EXPTIME=0.0, **ccdsoft)
    write_frame(folder, "Dark-60s-001.fit", "Dark Frame", seed=4, EXPTIME=60.0, BIAS=100, **ccdsoft)
    write_frame(folder, "Dark-60s-002.fit", "DARK", seed=5, EXPOSURE=60.0, **ccdsoft)  # NINA-like, no EXPTIME
    write_frame(folder, "Dark-60s-003.fit", "dark", seed=6, dtype=np.float32, EXPTIME=60.0, **ccdsoft)
    write_frame(folder, "Dark-10s-001.fit", "Dark Frame", seed=7, EXPTIME=10.0, **ccdsoft)
    write_frame(folder, "FlatR-001.fit", "Flat Field", seed=8, level=20000.0, EXPTIME=23.0, FILTER="R", **ccdsoft)
    write_frame(folder, "FlatR-002.fit", "FLAT", seed=9, level=20000.0, EXPTIME=20.0, FILTER="R", **ccdsoft)
    write_frame(folder, "flat_R_003.fit", "Light Frame", seed=10, level=20000.0, EXPTIME=23.0, FILTER="R", **ccdsoft)
    write_frame(folder, "lamp_004.fit", "Light Frame", seed=11, level=20000.0, EXPTIME=25.0, FILTER="R", OBJECT="Dome flat",
                **ccdsoft)
    write_frame(folder, "FlatV-001.fit", "Flat Field", seed=12, level=20000.0, EXPTIME=15.0, FILTER="V", **ccdsoft)
    write_frame(folder, "FlatR-sub.fit", "Flat Field", shape=(40, SHAPE[1]), seed=17, level=20000.0, EXPTIME=23.0, FILTER="R",
                **ccdsoft)
    write_frame(folder, "M51-R-001.fit", "Light Frame", seed=13, EXPTIME=120.0, FILTER="R", OBJECT="M51",
                CRPIX1=32.5, CRPIX2=25.5, **ccdsoft)
    write_frame(folder, "M51-R-002.fit", "object", seed=14, EXPTIME=120.0, FILTER="R", OBJECT="M51", **ccdsoft)
    write_frame(folder, "Bias-bin2.fit", "Bias Frame", shape=(SHAPE[0] // 2, SHAPE[1] // 2), seed=15,
                EXPTIME=0.0, **{**ccdsoft, "XBINNING": 2, "YBINNING": 2})
    write_frame(folder, "Focus-001.fit", "Focus", seed=16, EXPTIME=1.0, **ccdsoft)
    (folder / "observing_log.txt").write_text("clear night, seeing 2 arcsec\n")
    (folder / "corrupt.fits").write_bytes(b"\x00\x01garbage" * 500)
    return {
        "bias": {"Bias-001.fit", "Bias-002.fit", "zero003.fits"},
        "dark": {"Dark-60s-001.fit", "Dark-60s-002.fit", "Dark-60s-003.fit"},
        "flat": {"FlatR-001.fit", "FlatR-002.fit", "flat_R_003.fit", "lamp_004.fit"},
        "science": "M51-R-001.fit",
        "left_out": {
            "Dark-10s-001.fit": "another exposure time",
            "FlatV-001.fit": "another filter",
            "FlatR-sub.fit": "another shape (40x64; the science frame is 50x64)",
            "M51-R-002.fit": "another light frame",
            "Bias-bin2.fit": "another binning",
            "Focus-001.fit": "not a bias, dark, flat or light frame",
            "observing_log.txt": "not FITS",
            "corrupt.fits": "unreadable",
        },
    }


def listing(folder):
    """Every path under ``folder`` (names and bytes), for 'nothing written' checks."""
    return {str(path): path.read_bytes() if path.is_file() else None for path in sorted(Path(folder).rglob("*"))}


def table_lines(text):
    """Map each file name of the printed table to the rest of its line."""
    lines = {}
    for line in text.splitlines():
        name, _, rest = line.partition("  ")
        lines[name.strip()] = rest.strip()
    return lines


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path, monkeypatch):
    """Run every command from an empty folder, as a user would."""
    monkeypatch.chdir(tmp_path)


# =============================================================================
# Finding the frames
# =============================================================================

@pytest.mark.parametrize("imagetyp, kind", [
    ("Bias Frame", "bias"), ("BIAS", "bias"), ("zero", "bias"), ("ZERO", "bias"),
    ("Dark Frame", "dark"), ("DARK", "dark"), ("dark", "dark"), ("DARKFLAT", "dark"),
    ("Flat Field", "flat"), ("FLAT", "flat"), ("flat", "flat"), ("Flat Frame", "flat"), ("SKYFLAT", "flat"),
    ("Light Frame", "light"), ("LIGHT", "light"), ("object", "light"), ("light_frame", "light"),
    ("Master Bias", None), ("Focus", None), ("", None), (None, None),
])
def test_kind_of_imagetyp(imagetyp, kind):
    assert import_night.kind_of_imagetyp(imagetyp) == kind


def test_imports_a_night_in_real_cameras_conventions(tmp_path, capsys):
    folder, expected = (tmp_path / "raw"), real_night(tmp_path / "raw")
    out = tmp_path / "night"
    assert run(["data", "--from", str(folder), "--out", str(out), "--size", str(SIZE)]) == 0
    night = json.loads((out / import_night.NIGHT_FILE).read_text())
    assert set(night["bias_files"]) == expected["bias"]
    assert set(night["dark_files"]) == expected["dark"]
    assert set(night["flat_files"]) == expected["flat"]
    assert night["science_file"] == expected["science"]
    assert night["dark_exptime_s"] == 60.0  # EXPOSURE read where EXPTIME is missing
    assert night["science_exptime_s"] == 120.0
    assert dict(zip(night["flat_files"], night["flat_exptimes_s"])) == {
        "FlatR-001.fit": 23.0, "FlatR-002.fit": 20.0, "flat_R_003.fit": 23.0, "lamp_004.fit": 25.0}
    assert night["band"] == "R"
    assert night["camera"] == {"name": "SBIG STL-1001E", "gain_e_per_adu": EGAIN, "gain_from": "EGAIN",
                               "ccd_temp_c": CCD_TEMP_C}
    assert night["shape"] == [SIZE, SIZE] and night["binning"] == [1, 1]
    assert night["source"] == {"folder": str(folder.resolve()), "shape": list(SHAPE), "window": [ROW0, COL0]}
    assert night["format"] == "ccdlab night" and night["version"] == night_file.FORMAT_VERSION
    # The simulator's words: every field but the import's own is a NightDescription's or its Camera's, and
    # the simulator's own description of a night has the same fields.
    fields = {field.name for field in dataclasses.fields(simulate.NightDescription)}
    assert set(night) - {"format", "version", "binning", "source", "camera", "simulated_camera"} <= fields
    assert "gain_e_per_adu" in {field.name for field in dataclasses.fields(simulate.Camera)}
    assert set(night) - {"binning", "simulated_camera"} == set(night_file.read(simulate.BUNDLED_DIR))
    assert night_file.read(out) == {**night, "binning": [1, 1]}  # the lab reads it
    # No dark series: only the 60 s darks come two or more to a time.
    assert night["dark_series_files"] == [] and night["ptc_pairs"] == []
    # 02's histogram range from the night's own first bias: its median inside, most pixels too.
    bias = fits.getdata(out / night["bias_files"][0]).astype(float)
    low, high = night["bias_histogram_range_adu"]
    assert low < np.median(bias) < high and np.mean((bias >= low) & (bias <= high)) > 0.99
    taken = expected["bias"] | expected["dark"] | expected["flat"] | {expected["science"]}
    masters = set(lab.GIVEN_MASTER_FILES.values())
    assert {path.name for path in out.iterdir()} == taken | {import_night.NIGHT_FILE, "simulated_camera"} | masters
    # The given masters are the reference module's, from the imported frames.
    master_bias = solutions.combine_bias([out / name for name in night["bias_files"]])
    np.testing.assert_allclose(fits.getdata(out / lab.GIVEN_MASTER_FILES["bias"]), master_bias, rtol=1e-6)
    assert fits.getheader(out / lab.GIVEN_MASTER_FILES["dark"])["EXPTIME"] == 60.0
    # A frame with EXPOSURE alone now also says EXPTIME, as the lab's functions read it.
    assert fits.getheader(out / "Dark-60s-002.fit")["EXPTIME"] == 60.0
    assert fits.getheader(out / "Bias-002.fit")["EXPTIME"] == 0.0
    assert not [path for path in tmp_path.iterdir() if ".ccdlab-import-" in path.name]  # no staging left
    assert "imported 3 biases, 3 darks of 60 s, 4 flats (R)" in capsys.readouterr().out


def test_table_says_what_each_file_was_taken_as(tmp_path, capsys):
    folder, expected = (tmp_path / "raw"), real_night(tmp_path / "raw")
    assert run(["data", "--from", str(folder), "--out", str(tmp_path / "night"), "--size", str(SIZE)]) == 0
    lines = table_lines(capsys.readouterr().out)
    assert len([name for name in lines if (folder / name).exists()]) == len(list(folder.iterdir()))
    for name, reason in expected["left_out"].items():
        assert lines[name].startswith("left out"), lines[name]
        assert reason in lines[name], (name, lines[name])
    for kind in ("bias", "dark", "flat"):
        for name in expected[kind]:
            assert lines[name].startswith(kind), lines[name]
    assert lines[expected["science"]].startswith("science")
    assert "file name says flat" in lines["flat_R_003.fit"]
    assert "OBJECT says flat" in lines["lamp_004.fit"]
    assert "the darks of 60 s are nearest the science frame's 120 s" in lines["Dark-10s-001.fit"]


def test_crop_keeps_raw_integers_bzero_and_every_card(tmp_path):
    folder, expected = (tmp_path / "raw"), real_night(tmp_path / "raw")
    out = tmp_path / "night"
    assert run(["data", "--from", str(folder), "--out", str(out), "--size", str(SIZE)]) == 0
    window = (slice(ROW0, ROW0 + SIZE), slice(COL0, COL0 + SIZE))
    for name in json.loads((out / import_night.NIGHT_FILE).read_text())["bias_files"] + ["Dark-60s-003.fit",
                                                                                      expected["science"]]:
        with fits.open(folder / name, do_not_scale_image_data=True) as raw, \
                fits.open(out / name, do_not_scale_image_data=True) as new:
            assert new[0].data.dtype == raw[0].data.dtype  # int16 stored numbers, or float32
            np.testing.assert_array_equal(new[0].data, raw[0].data[window])
            old_cards = [(card.keyword, card.value) for card in raw[0].header.cards
                         if card.keyword not in ("NAXIS1", "NAXIS2", "CRPIX1", "CRPIX2")]
            new_cards = [(card.keyword, card.value) for card in new[0].header.cards]
            assert [card for card in new_cards if card in old_cards] == old_cards  # all kept, in order
            assert (new[0].header["NAXIS1"], new[0].header["NAXIS2"]) == (SIZE, SIZE)
            history = [str(text) for text in new[0].header["HISTORY"]]
            copied = [f"{import_night.HISTORY_IMPORT} EXPTIME copied from EXPOSURE"] if "EXPTIME" not in raw[0].header \
                else []
            assert history == [f"{import_night.HISTORY_PREFIX} section [{COL0 + 1}:{COL0 + SIZE},"
                               f"{ROW0 + 1}:{ROW0 + SIZE}] of a {SHAPE[0]}x{SHAPE[1]} frame"] + copied
        np.testing.assert_array_equal(fits.getdata(out / name), fits.getdata(folder / name)[window])
    science = fits.getheader(out / expected["science"])
    assert (science["CRPIX1"], science["CRPIX2"]) == (32.5 - COL0, 25.5 - ROW0)  # the same sky pixel
    assert fits.getheader(out / "Bias-001.fit")["BZERO"] == 32768
    assert fits.getheader(out / "Bias-001.fit")["BIAS"] == 100  # the pedestal card stays
    assert fits.getheader(out / "Dark-60s-003.fit")["BITPIX"] == -32
    assert "BZERO" not in fits.getheader(out / "Dark-60s-003.fit")


def test_size_zero_keeps_whole_frames(tmp_path):
    folder, _ = (tmp_path / "raw"), real_night(tmp_path / "raw")
    out = tmp_path / "night"
    assert run(["data", "--from", str(folder), "--out", str(out), "--size", "0"]) == 0
    assert json.loads((out / import_night.NIGHT_FILE).read_text())["shape"] == list(SHAPE)
    assert (out / "Bias-001.fit").read_bytes()[:2880] != (folder / "Bias-001.fit").read_bytes()[:2880]  # HISTORY
    np.testing.assert_array_equal(fits.getdata(out / "M51-R-001.fit"), fits.getdata(folder / "M51-R-001.fit"))


def test_options_override_headers(tmp_path, capsys):
    folder, _ = (tmp_path / "raw"), real_night(tmp_path / "raw")
    out = tmp_path / "night"
    argv = ["data", "--from", str(folder), "--out", str(out), "--size", str(SIZE), "--science", "M51-R-002.fit",
            "--bias", "Bias-00*.fit", "--darks", "Dark-*", "--flats", "FlatR-*", "--gain", "1.5"]
    assert run(argv) == 0
    night = json.loads((out / import_night.NIGHT_FILE).read_text())
    assert night["science_file"] == "M51-R-002.fit"
    assert night["bias_files"] == ["Bias-001.fit", "Bias-002.fit"]
    assert night["dark_files"] == ["Dark-60s-001.fit", "Dark-60s-002.fit", "Dark-60s-003.fit"]
    assert night["flat_files"] == ["FlatR-001.fit", "FlatR-002.fit"]
    assert night["camera"]["gain_e_per_adu"] == 1.5 and night["camera"]["gain_from"] == "--gain"
    lines = table_lines(capsys.readouterr().out)
    assert "not matched by --bias 'Bias-00*.fit'" in lines["zero003.fits"]
    assert "not matched by --flats 'FlatR-*'" in lines["flat_R_003.fit"]
    assert lines["M51-R-001.fit"].startswith("left out") and "another light frame" in lines["M51-R-001.fit"]


# =============================================================================
# Bad folders and bad calls: a clear error, nothing written
# =============================================================================

def _remove(names):
    def change(folder):
        for name in names:
            (folder / name).unlink()
    return change


def _strip_gain(folder):
    for path in folder.glob("*.fit*"):
        try:
            with fits.open(path, mode="update") as hdus:
                hdus[0].header.remove("EGAIN", ignore_missing=True)
        except OSError:
            pass  # the unreadable one


@pytest.mark.parametrize("change, message", [
    (_remove(["Dark-60s-001.fit", "Dark-60s-002.fit", "Dark-60s-003.fit", "Dark-10s-001.fit"]), "no darks"),
    (_remove(["Bias-001.fit", "Bias-002.fit", "zero003.fits"]), "no biases"),
    (_remove(["Bias-001.fit", "Bias-002.fit"]), "only one bias (zero003.fits) to import: the lab needs two or more"),
    (_remove(["FlatR-001.fit", "FlatR-002.fit", "flat_R_003.fit", "lamp_004.fit"]), "no flats"),
    (_remove(["M51-R-001.fit", "M51-R-002.fit"]), "no science frame"),
    (_remove(["Bias-001.fit", "Bias-002.fit", "zero003.fits", "Bias-bin2.fit", "M51-R-001.fit", "M51-R-002.fit"]),
     "no biases and no science frame"),
    (_strip_gain, "give the camera's gain with --gain"),
])
def test_bad_folder_fails_and_writes_nothing(tmp_path, capsys, change, message):
    folder = tmp_path / "raw"
    real_night(folder)
    change(folder)
    before = listing(tmp_path)
    assert run(["data", "--from", str(folder), "--out", str(tmp_path / "night"), "--size", str(SIZE)]) == 1
    captured = capsys.readouterr()
    assert message in captured.err and "nothing written" in captured.err, captured.err
    assert "taken as" in captured.out  # the table still says what each file was taken as
    assert listing(tmp_path) == before


def test_binned_only_darks_are_left_out_as_another_binning(tmp_path, capsys):
    folder = tmp_path / "raw"
    real_night(folder)
    for path in folder.glob("Dark-*"):
        path.unlink()
    write_frame(folder, "Dark-bin2.fit", "Dark Frame", shape=(SHAPE[0] // 2, SHAPE[1] // 2), EXPTIME=60.0,
                XBINNING=2, YBINNING=2, EGAIN=EGAIN)
    assert run(["data", "--from", str(folder), "--out", str(tmp_path / "night")]) == 1
    captured = capsys.readouterr()
    assert "no darks" in captured.err
    assert "another binning (2x2; the science frame's is 1x1)" in table_lines(captured.out)["Dark-bin2.fit"]
    assert not (tmp_path / "night").exists()


def test_headers_that_disagree_on_the_gain_fail(tmp_path, capsys):
    folder = tmp_path / "raw"
    real_night(folder)
    with fits.open(folder / "FlatR-002.fit", mode="update") as hdus:
        hdus[0].header["EGAIN"] = 1.2
    assert run(["data", "--from", str(folder), "--out", str(tmp_path / "night"), "--size", str(SIZE)]) == 1
    err = capsys.readouterr().err
    assert "headers disagree on the gain" in err and "FlatR-002.fit" in err and "--gain" in err
    assert not (tmp_path / "night").exists()


@pytest.mark.parametrize("extra, status, message", [
    (["--size", "100"], 1, "--size 100 is larger than the frames (50x64 pixels)"),
    (["--size", "-3"], 2, "--size with --from is one whole number"),
    (["--size", "20x20"], 2, "--size with --from is one whole number"),
    (["--science", "nothere.fit"], 1, "no file nothere.fit in the source folder"),
    (["--science", "observing_log.txt"], 1, "observing_log.txt is not FITS"),
    (["--bias", "*.cr2"], 1, "--bias '*.cr2' matches no file"),
    (["--darks", "Dark-*", "--flats", "*-001.fit"], 1, "matched by both --darks and --flats"),
    (["--gain", "-2"], 1, "--gain must be a positive number"),
    (["--seed", "3"], 2, "--seed is for simulated nights"),
])
def test_import_fails(tmp_path, capsys, extra, status, message):
    folder = tmp_path / "raw"
    real_night(folder)
    before = listing(tmp_path)
    assert run(["data", "--from", str(folder), "--out", str(tmp_path / "night"), *extra]) == status
    assert message in capsys.readouterr().err
    assert listing(tmp_path) == before


@pytest.mark.parametrize("argv, message", [
    (["data", "--from", "raw"], "--from needs --out DIR"),
    (["data", "--out", "x", "--science", "M51.fit"], "--science needs --from SRC"),
    (["data", "--from", "raw", "--out", "raw"], "is the source folder"),
    (["data", "--from", "nowhere", "--out", "x"], "--from nowhere is not a folder"),
])
def test_cli_import_fails(tmp_path, capsys, argv, message):
    real_night(tmp_path / "raw")
    before = listing(tmp_path)
    assert run(argv) in (1, 2)
    assert message in capsys.readouterr().err
    assert listing(tmp_path) == before


def test_existing_folder_is_not_overwritten_without_force(tmp_path, capsys):
    folder = tmp_path / "raw"
    real_night(folder)
    out = tmp_path / "night"
    argv = ["data", "--from", str(folder), "--out", str(out), "--size", str(SIZE)]
    assert run(argv) == 0
    first = listing(out)
    assert run(argv) == 0  # the same files again: nothing to refuse
    assert listing(out) == first
    capsys.readouterr()
    other = ["data", "--from", str(folder), "--out", str(out), "--size", "30"]
    assert run(other) == 1
    err = capsys.readouterr().err
    assert "refusing to overwrite" in err and "--force" in err
    assert listing(out) == first
    assert not [path for path in tmp_path.iterdir() if ".ccdlab-import-" in path.name]
    assert run([*other, "--force"]) == 0
    assert json.loads((out / import_night.NIGHT_FILE).read_text())["shape"] == [30, 30]


# =============================================================================
# Real and simulated nights imported as real
# =============================================================================

def test_bundled_night_imports_as_its_centred_crop(tmp_path):
    out = tmp_path / "night"
    size = 64
    assert run(["data", "--from", str(simulate.BUNDLED_DIR), "--out", str(out), "--size", str(size),
                "--darks", "CalR-*Dark.fit", "--flats", "CalR-*R.fit"]) == 0
    night = json.loads((out / import_night.NIGHT_FILE).read_text())
    from convenience_functions import lab

    assert night["bias_files"] == sorted(lab.BIAS_FILES)
    assert night["dark_files"] == [name for name in lab.DARK_FILES if name.startswith("CalR")]
    assert night["flat_files"] == list(lab.FLAT_FILES)
    assert night["science_file"] == lab.SCIENCE_FILE
    assert night["dark_exptime_s"] == lab.DARK_EXPTIME_S
    assert night["science_exptime_s"] == lab.SCIENCE_EXPTIME_S
    assert tuple(night["flat_exptimes_s"]) == lab.FLAT_EXPTIMES_S
    assert night["camera"]["gain_e_per_adu"] == lab.GAIN_E_PER_ADU
    ny, nx = simulate.DEFAULT_SHAPE
    row0, col0 = (ny - size) // 2, (nx - size) // 2
    for name in night["bias_files"] + night["dark_files"] + night["flat_files"] + [night["science_file"]]:
        original = fits.getdata(simulate.BUNDLED_DIR / name)
        imported = fits.getdata(out / name)
        assert imported.dtype == original.dtype == np.uint16
        np.testing.assert_array_equal(imported, original[row0:row0 + size, col0:col0 + size])


def test_bundled_night_by_headers_alone(tmp_path, capsys):
    out = tmp_path / "night"
    assert run(["data", "--from", str(simulate.BUNDLED_DIR), "--out", str(out), "--size", "16"]) == 0
    night = json.loads((out / import_night.NIGHT_FILE).read_text())
    assert night["dark_files"] == ["Dark-180s-1.fit", "Dark-180s-2.fit"]  # nearest the science frame's 180 s
    assert len(night["flat_files"]) == 5 and len(night["ptc_pairs"]) == 8  # twilight flats; the lamp's series
    lines = table_lines(capsys.readouterr().out)
    assert "a master frame" in lines["given_master_bias.fits"]


def test_ccdproc_real_raw_frame(tmp_path):
    """ccdproc's SAAO 1.0 m raw frame (IRAF 'object', BZERO, GAIN 1.9, no FILTER) as the science frame."""
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / CCDPROC_RAW.name).write_bytes(CCDPROC_RAW.read_bytes())
    shape = fits.getdata(CCDPROC_RAW).shape
    write_frame(folder, "zero01.fits", "zero", shape=shape, EXPTIME=0.0, GAIN=1.9)
    write_frame(folder, "zero02.fits", "zero", shape=shape, seed=1, EXPTIME=0.0, GAIN=1.9)
    write_frame(folder, "dark01.fits", "dark", shape=shape, EXPTIME=150.0, GAIN=1.9)
    write_frame(folder, "flat01.fits", "flat", shape=shape, level=20000.0, EXPTIME=5.0, GAIN=1.9)
    out = tmp_path / "night"
    assert run(["data", "--from", str(folder), "--out", str(out), "--size", "100"]) == 0
    night = json.loads((out / import_night.NIGHT_FILE).read_text())
    assert night["science_file"] == CCDPROC_RAW.name and night["science_exptime_s"] == 150.04
    assert night["camera"] == {"name": "STE3 CCD", "gain_e_per_adu": 1.9, "gain_from": "GAIN",
                               "ccd_temp_c": fits.getheader(CCDPROC_RAW)["CCD-TEMP"]}
    assert night["band"] is None
    row0, col0 = (shape[0] - 100) // 2, (shape[1] - 100) // 2
    with fits.open(CCDPROC_RAW, do_not_scale_image_data=True) as raw, \
            fits.open(out / CCDPROC_RAW.name, do_not_scale_image_data=True) as new:
        np.testing.assert_array_equal(new[0].data, raw[0].data[row0:row0 + 100, col0:col0 + 100])
        assert new[0].header["BZERO"] == 32768
        # Its TRIMSEC names the trimmed region's pixels inside the window; its overscan (BIASSEC) is outside.
        trimmed = _section_mask(raw[0].header["TRIMSEC"], shape)[row0:row0 + 100, col0:col0 + 100]
        np.testing.assert_array_equal(_section_mask(new[0].header["TRIMSEC"], (100, 100)), trimmed)
        assert "BIASSEC" in raw[0].header and "BIASSEC" not in new[0].header


def _section_mask(section, shape):
    """The pixels of a frame of ``shape`` a FITS section names, as ccdproc reads it."""
    from ccdproc.utils.slices import slice_from_string

    mask = np.zeros(shape, bool)
    mask[slice_from_string(section, fits_convention=True)] = True
    return mask


def test_checksum_cards_are_recomputed_for_the_window(tmp_path):
    folder = tmp_path / "raw"
    real_night(folder)
    with fits.open(folder / "Bias-001.fit") as hdus:
        hdus.writeto(folder / "Bias-001.fit", overwrite=True, checksum=True)
    out = tmp_path / "night"
    assert run(["data", "--from", str(folder), "--out", str(out), "--size", str(SIZE)]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a wrong checksum is a warning
        with fits.open(out / "Bias-001.fit", checksum=True) as hdus:
            assert hdus[0].verify_checksum() == 1 and hdus[0].verify_datasum() == 1


def test_dark_series_is_found(tmp_path, capsys):
    """Darks at three exposure times or more, two or more at each, become notebook 06's dark series."""
    folder, expected = (tmp_path / "raw"), real_night(tmp_path / "raw")
    camera = dict(INSTRUME="SBIG STL-1001E", EGAIN=EGAIN, XBINNING=1, YBINNING=1)
    write_frame(folder, "Dark-10s-002.fit", "Dark Frame", seed=20, EXPTIME=10.0, **camera)
    write_frame(folder, "Dark-30s-001.fit", "DARK", seed=21, EXPOSURE=30.0, **camera)
    write_frame(folder, "Dark-30s-002.fit", "Dark Frame", seed=22, EXPTIME=30.0, **camera)
    write_frame(folder, "Dark-30s-003.fit", "Dark Frame", seed=23, EXPTIME=30.0, **camera)
    out = tmp_path / "night"
    assert run(["data", "--from", str(folder), "--out", str(out), "--size", str(SIZE)]) == 0
    night = night_file.read(out)
    # Two per time (the fewest any time has), ordered by time; the calibration darks stay the 60 s ones.
    assert night["dark_series_exptimes_s"] == [10.0, 30.0, 60.0]
    assert night["dark_series_files"] == ["Dark-10s-001.fit", "Dark-10s-002.fit", "Dark-30s-001.fit",
                                          "Dark-30s-002.fit", "Dark-60s-001.fit", "Dark-60s-002.fit"]
    assert set(night["dark_files"]) == expected["dark"]
    assert all((out / name).is_file() for name in night["dark_series_files"])
    assert not (out / "Dark-30s-003.fit").exists()
    text = capsys.readouterr().out
    assert table_lines(text)["Dark-10s-001.fit"] == "dark      the dark series (10 s)"
    assert "a dark series of 6 darks (10, 30, 60 s)" in text


def test_the_bundled_night_imported_from_its_headers_keeps_its_series(tmp_path, capsys):
    """The simulator's own night read as an observatory's folder: the lamp pairs are found as notebook 06's
    photon-transfer series (a twilight flat of the same exposure time as a lamp pair is not taken for one of
    it), and only the twilight flats make the master flat; the darks of several times are the dark series."""
    out = tmp_path / "night"
    assert run(["data", "--from", str(simulate.BUNDLED_DIR), "--out", str(out)]) == 0
    night = night_file.read(out)
    bundled = night_file.read(simulate.BUNDLED_DIR)
    assert night["ptc_pairs"] == bundled["ptc_pairs"] and night["ptc_exptimes_s"] == bundled["ptc_exptimes_s"]
    assert night["flat_files"] == bundled["flat_files"]
    assert night["dark_series_exptimes_s"] == bundled["dark_series_exptimes_s"]
    assert "simulated_camera" not in night and not (out / "simulated_camera").exists()
    lines = table_lines(capsys.readouterr().out)
    assert lines["LampR-03a.fit"].endswith("the photon-transfer series (3 s)")
    assert lines["given_master_bias.fits"].startswith("left out") and lines["night.json"] == "left out  not FITS"


def test_crop_gives_section_cards_in_the_window_s_pixels(tmp_path):
    """DATASEC/TRIMSEC/BIASSEC of the whole frame become the part inside the window; one outside it goes."""
    data = np.arange(60 * 80, dtype=np.uint16).reshape(60, 80)  # 60 rows, 80 columns: overscan in columns 71-80
    header = fits.Header({"DATASEC": "[1:70,1:60]", "TRIMSEC": "[2:70,3:60]", "BIASSEC": "[71:80,1:60]"})
    fits.PrimaryHDU(data, header).writeto(tmp_path / "frame.fit")
    window = import_night.crop_window(data.shape, 40)  # rows 11-50, columns 21-60
    header = import_night.crop_hdu(tmp_path / "frame.fit", window).header
    row0, col0, ny, nx = window
    assert (header["DATASEC"], header["TRIMSEC"]) == ("[1:40,1:40]", "[1:40,1:40]")
    assert "BIASSEC" not in header  # the overscan lies outside the window
    history = " ".join(str(text) for text in header["HISTORY"])
    assert "BIASSEC [71:80,1:60] removed" in history and "TRIMSEC was [2:70,3:60]" in history
    # A section reaching into the window names exactly its pixels there (sections read by ccdproc).
    for section in ("[15:30,45:70]", "[1:80,1:60]", "[25:26,12:12]"):
        np.testing.assert_array_equal(_section_mask(import_night.crop_section(section, window), (ny, nx)),
                                      _section_mask(section, data.shape)[row0:row0 + ny, col0:col0 + nx],
                                      err_msg=section)
    assert import_night.crop_section("[30:15,1:60]", window) is None  # a flipped section is not guessed at
