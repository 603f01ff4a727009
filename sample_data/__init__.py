"""Simulated CCD frames for the lab.

``sample_data/frames/`` holds the bundled night (bias, dark, flat and M101
frames plus ``truth.json``); :mod:`sample_data.simulate` makes it and can
make larger or differently seeded nights (``ccdlab data --help``).
"""
