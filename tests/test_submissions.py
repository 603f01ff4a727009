"""Reading hand-ins: names as course sites give them, links never followed (fast, no grading)."""

import json

import classbatch
from autograder import submissions


def test_renamed_notebooks_are_matched_by_their_cell_ids(tmp_path):
    notebooks = {name: classbatch.load("release", name) for name in classbatch.notebook_names()}
    notebooks["01_fits_basics (2).ipynb"] = notebooks.pop("01_fits_basics.ipynb")
    classbatch.write_student(tmp_path, "s1", notebooks)
    (found,) = submissions.find_submissions(tmp_path)
    assert sorted(found.notebooks) == classbatch.notebook_names()
    assert found.notes == ["01_fits_basics (2).ipynb graded as 01_fits_basics.ipynb"] and not found.flags


def test_two_hand_ins_for_one_notebook_are_flagged_naming_both(tmp_path):
    notebooks = {name: classbatch.load("release", name) for name in classbatch.notebook_names()}
    notebooks["03_dark_current-1.ipynb"] = notebooks["03_dark_current.ipynb"]
    classbatch.write_student(tmp_path, "s1", notebooks)
    (found,) = submissions.find_submissions(tmp_path)
    assert found.flags == ["two hand-ins for 03_dark_current.ipynb: 03_dark_current.ipynb (graded) and "
                           "03_dark_current-1.ipynb"]


def test_an_unrelated_notebook_is_not_taken(tmp_path):
    notebooks = {name: classbatch.load("release", name) for name in classbatch.notebook_names()}
    notebooks["scratch.ipynb"] = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    classbatch.write_student(tmp_path, "s1", notebooks)
    (found,) = submissions.find_submissions(tmp_path)
    assert found.extra_files == ["scratch.ipynb"] and not found.notes


def test_a_linked_notebook_is_not_read(tmp_path):
    secret = tmp_path / "secret.ipynb"
    secret.write_text(json.dumps(classbatch.load("source", "01_fits_basics.ipynb")))
    notebooks = {name: classbatch.load("release", name) for name in classbatch.notebook_names()}
    del notebooks["01_fits_basics.ipynb"]
    where = classbatch.write_student(tmp_path / "subs", "s1", notebooks)
    (where / "01_fits_basics.ipynb").symlink_to(secret)
    (found,) = submissions.find_submissions(tmp_path / "subs")
    assert "01_fits_basics.ipynb" not in found.notebooks
    assert any("symbolic link" in problem for problem in found.problems)
