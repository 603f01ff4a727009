"""Simulated CCD frames for the lab.

``sample_data/frames/`` holds the bundled night (bias, dark, flat and M101
frames, and the three given master frames made from them), which students
receive; ``sample_data/frames_truth.json``, beside it, holds the values a
correct reduction should recover and stays with the course.
:mod:`sample_data.simulate` makes both and can make larger or differently
seeded nights (``ccdlab data --help``); :mod:`sample_data.given_masters`
makes the given masters.
"""
