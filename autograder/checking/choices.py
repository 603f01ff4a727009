"""Diagnoses of the multiple-choice questions (notebooks 01 and 04): the right letter, a hint per wrong one."""

from .compare import _plain_value, _type_name

#: Correct letters of the multiple-choice questions, and a hint per wrong one.
MULTIPLE_CHOICE = {
    "answer_bias_exptime": (
        "b",
        {
            "a": "an exposure time of 0 s is expected for a bias frame, the file is fine",
            "c": "EXPTIME is the exposure time in seconds, not a count of frames",
            "d": "EXPTIME is the exposure time in seconds, not the detector temperature",
        },
    ),
    "answer_center_pixel": (
        "c",
        {
            "a": "the first index picks the image; [512, 512, 1] treats the image axis as the last one",
            "b": "index 1 is the second image: Python counts from 0",
            "d": "the first index picks the image; [512, 512, 0] treats the image axis as the last one",
        },
    ),
    "answer_ninth_image": (
        "a",
        {
            "b": "1:512 leaves out row and column 0 and stops half-way: ':' takes every row and column",
            "c": "1:1024 leaves out row and column 0: ':' takes every row and column",
        },
    ),
}


def _diagnose_choice(name, value):
    right, hints = MULTIPLE_CHOICE[name]
    value = _plain_value(value)
    if type(value) is not str or len(value.strip()) != 1:
        shown = repr(value) if type(value) in (str, int, float, bool) or value is None else _type_name(value)
        return [f"{name} should be a single letter such as 'a', not {shown}"]
    letter = value.strip().lower()
    if letter == right:
        return []
    if letter in hints:
        return [f"{name} = {letter!r} is not right: {hints[letter]}"]
    return [f"{name} = {letter!r} is not one of the offered answers"]


def diagnose_answer_bias_exptime(value):
    """Check the multiple-choice answer on the bias header's EXPTIME."""
    return _diagnose_choice("answer_bias_exptime", value)


def diagnose_answer_center_pixel(value):
    """Check the multiple-choice answer on the centre pixel of the 1st image."""
    return _diagnose_choice("answer_center_pixel", value)


def diagnose_answer_ninth_image(value):
    """Check the multiple-choice answer on selecting the ninth image."""
    return _diagnose_choice("answer_ninth_image", value)
