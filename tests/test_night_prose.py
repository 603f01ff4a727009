"""The notebooks' prose states no fact of one particular night: the numbers are computed.

The lab runs on any night (the bundled simulated one, or an observatory's
frames imported with ``ccdlab data --from``), so a sentence of markdown that
says "the darks take 60 s" or "about 1500 ADU" is false on another night.
Such numbers belong in a code cell that computes them from ``lab`` or the
frames.  This test builds, from the bundled night's own description and
frames, the phrases that would state one of its facts (its file names, exposure
times, gain, frame size, bias level, object, filter, sensor temperature,
numbers of frames, histogram range, read noise) and fails naming the notebook, the cell
and the phrase.  Generic facts (a 16-bit converter's 65535, the original
observatory camera's 1024 x 1024 as an example) are not facts of the night.
"""

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from convenience_functions import night as night_module
from convenience_functions.paths import BUNDLED_DATA_DIR

NOTEBOOKS = Path(__file__).resolve().parent.parent / "solutions" / "ccd_reduction"


def _number(value):
    """A regex for ``value`` as prose writes it: 60, 60.0, 2, 2.0, 1,500 or 1500."""
    value = float(value)
    if value.is_integer():
        whole = f"{int(value):d}"
        grouped = f"{int(value):,d}"
        forms = {whole, grouped, grouped.replace(",", " ")}
        return r"(?<![\d.,])(?:" + "|".join(re.escape(f) for f in sorted(forms)) + r")(?:\.0+)?(?![\d.,])"
    return r"(?<![\d.,])" + re.escape(f"{value:g}") + r"(?![\d])"


@lru_cache(maxsize=None)
def night_phrases():
    """(regex, what it states) for each fact of the bundled night a sentence could hard-code."""
    night = night_module.read(BUNDLED_DATA_DIR)
    phrases = []
    names = [*night["bias_files"], *night["dark_files"], *night["flat_files"], night["science_file"],
             *(name for pair in night["ptc_pairs"] for name in pair), *night["dark_series_files"]]
    phrases += [(re.escape(name), "a file name of the night") for name in names]
    phrases += [(re.escape(Path(night["science_file"]).stem) + r"_proc", "the calibrated frame's file name")]
    seconds = r" ?(?:-?s\b|-?sec|-?seconds?|-second)"
    times = {night["dark_exptime_s"]: "the darks' exposure time", night["science_exptime_s"]:
             "the science frame's exposure time"}
    for value in night["flat_exptimes_s"]:
        times.setdefault(value, "a flat's exposure time")
    for value in night["dark_series_exptimes_s"]:
        times.setdefault(value, "an exposure time of the dark series")
    phrases += [(_number(value) + seconds, what) for value, what in times.items()]
    gain = night["camera"]["gain_e_per_adu"]
    phrases.append((_number(gain) + r" ?(?:e-?|electrons?) ?(?:/|per) ?ADU", "the gain"))
    ny, nx = night["shape"]
    phrases.append((_number(ny) + r" ?(?:x|×|by|\\times) ?" + _number(nx), "the frames' size"))
    phrases.append((_number(ny * nx) + r"(?! ?ADU)", "the number of pixels"))
    level = float(np.median(fits.getdata(BUNDLED_DATA_DIR / night["bias_files"][0])))
    for rounded in {round(level, -2), round(level, -1)}:
        phrases.append((_number(rounded) + r" ?ADU", "the bias level"))
    low, high = night["bias_histogram_range_adu"]
    phrases.append((_number(low) + r" ?(?:-|–|to|and) ?" + _number(high), "the bias histogram's range"))
    read_noise = fits.getheader(BUNDLED_DATA_DIR / night["bias_files"][0])["RDNOISE"]
    phrases.append((_number(read_noise) + r" ?(?:e-|electrons)(?! ?/)", "the read noise"))
    header = fits.getheader(BUNDLED_DATA_DIR / night["science_file"])
    phrases.append((re.escape(str(header["OBJECT"])) + r"\b", "the science frame's object"))
    band = night["band"]
    phrases.append((rf"\b{re.escape(band)}[- ]band\b|\b{re.escape(band)} filter\b|\bthrough the {band}\b",
                    "the filter"))
    temp = night["camera"]["ccd_temp_c"]
    phrases.append((r"(?<![\d.])" + re.escape(f"{temp:g}") + r" ?°? ?C\b", "the sensor temperature"))
    for count, kind in ((len(night["bias_files"]), r"bias"), (len(night["dark_files"]), r"dark"),
                        (len(night["flat_files"]), r"(?:\w+ )?(?:\w+ )?flat")):
        words = {10: "ten", 20: "twenty", 5: "five"}.get(count)
        number = _number(count) + (f"|\\b{words}\\b" if words else "")
        phrases.append((rf"(?:{number}) {kind}", f"the number of {kind.split(')')[-1] or 'flat'} frames"))
    return [(re.compile(pattern, re.IGNORECASE if what == "the filter" else 0), what) for pattern, what in phrases]


def stated_facts(notebook):
    """Every (cell index, phrase, what it states) in the markdown of ``notebook``."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    found = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        for pattern, what in night_phrases():
            for match in pattern.finditer(text):
                found.append((index, match.group(0), what))
    return found


@pytest.mark.parametrize("notebook", sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")))
def test_markdown_states_no_fact_of_one_night(notebook):
    found = stated_facts(NOTEBOOKS / notebook)
    assert not found, f"{notebook} states facts of the bundled night in its prose (compute them in a code cell):\n" + \
        "\n".join(f"  cell {index}: {phrase!r} ({what})" for index, phrase, what in found)


def test_the_phrases_find_what_they_should(tmp_path):
    """The scanner is not blind: a sentence of each kind is caught, a generic one is not."""
    night = night_module.read(BUNDLED_DATA_DIR)
    cells = [
        f"The darks take {night['dark_exptime_s']:g} s each.",
        f"Open `{night['bias_files'][0]}` first.",
        f"The gain is {night['camera']['gain_e_per_adu']:g} e-/ADU.",
        f"Each frame has {night['shape'][0]} x {night['shape'][1]} pixels.",
        "Every pixel sits around 1500 ADU.",
        "Taken through the R filter.",
        "A converter of 16 bits writes at most 65535 ADU; the original camera had 1024 x 1024 pixels.",
    ]
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": text} for text in cells]}))
    caught = {index for index, _, _ in stated_facts(notebook)}
    assert caught == set(range(len(cells) - 1))
