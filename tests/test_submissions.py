"""Reading hand-ins: folders and zips, names as course sites give them, links never followed (fast, no grading)."""

import io
import json
import zipfile

import pytest

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


# ---------------------------------------------------------------------------
# <student_id>.zip hand-ins, as a course site exports them

FIRST = "01_fits_basics.ipynb"


def _released(name):
    return json.dumps(classbatch.load("release", name), indent=1).encode()


def _zip(path, members, compression=zipfile.ZIP_DEFLATED):
    """Write ``{member name: bytes}`` into the zip at ``path``, in that order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("prefix", ["", "ccd_reduction/", "s1/ccd_reduction/", "Lab hand-in/work/"])
def test_a_zip_s_notebooks_are_read_wherever_they_lie_in_it(tmp_path, prefix):
    notebooks = {name: _released(name) for name in classbatch.notebook_names()}
    _zip(tmp_path / "s1.zip", {prefix + name: data for name, data in notebooks.items()}
         | {prefix + "notes.txt": b"my notes", "__MACOSX/._" + FIRST: b"\0\0", prefix + ".DS_Store": b"\0"})
    (found,) = submissions.find_submissions(tmp_path)
    assert found.student_id == "s1" and found.notebooks == notebooks
    assert found.extra_files == [prefix + "notes.txt"]
    assert not found.problems and not found.flags and not found.notes


def test_zips_and_folders_mix_and_one_student_twice_is_refused(tmp_path):
    _zip(tmp_path / "s2.zip", {FIRST: _released(FIRST)})
    classbatch.write_student(tmp_path, "s1", {FIRST: classbatch.load("release", FIRST)})
    assert [found.student_id for found in submissions.find_submissions(tmp_path)] == ["s1", "s2"]
    _zip(tmp_path / "s1.zip", {FIRST: _released(FIRST)})
    with pytest.raises(submissions.SubmissionsError, match="two submissions for student 's1'"):
        submissions.find_submissions(tmp_path)


def test_a_zip_named_as_no_student_id_can_be_is_refused(tmp_path):
    _zip(tmp_path / "-rf.zip", {FIRST: _released(FIRST)})
    with pytest.raises(submissions.SubmissionsError, match="'-rf' is not a usable student id"):
        submissions.find_submissions(tmp_path)


def test_two_copies_of_a_notebook_in_a_zip_grade_the_first_and_are_flagged(tmp_path):
    first, second = _released(FIRST), _released(FIRST) + b"\n"
    _zip(tmp_path / "s1.zip", {"draft/" + FIRST: first, "final/" + FIRST: second})
    (found,) = submissions.find_submissions(tmp_path)
    assert found.notebooks == {FIRST: first}
    assert found.flags == [f"two hand-ins for {FIRST}: {FIRST} (graded) and final/{FIRST}"]


def test_members_named_outside_the_zip_are_read_by_file_name_and_nothing_is_written(tmp_path):
    """The zip is read in memory, never unpacked: '../' or '/' in a member's name reaches no folder."""
    subs = tmp_path / "a" / "subs"
    _zip(subs / "s1.zip", {"../../" + FIRST: _released(FIRST), "/tmp/evil.py": b"print('hi')\n",
                           "../escaped.txt": b"x"})
    before = sorted(tmp_path.rglob("*"))
    (found,) = submissions.find_submissions(subs)
    assert sorted(tmp_path.rglob("*")) == before
    assert list(found.notebooks) == [FIRST]  # the key is the plain expected name, never the member's path
    assert sorted(found.extra_files) == ["../escaped.txt", "/tmp/evil.py"]


def test_a_zip_that_unpacks_too_large_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_UNPACKED_BYTES", 10_000)
    notebook = _released(FIRST)
    assert len(notebook) > 10_000  # so one notebook alone is over the (lowered) limit
    _zip(tmp_path / "big.zip", {FIRST: notebook})
    _zip(tmp_path / "split.zip", {"a.bin": b"\0" * 6_000, "b.bin": b"\0" * 6_000})  # over only in sum
    _zip(tmp_path / "fits.zip", {"a.bin": b"\0" * 5_000, "b.bin": b"\0" * 5_000})  # exactly the limit
    big, fits, split = submissions.find_submissions(tmp_path)
    assert big.notebooks == {} and big.problems == ["big.zip unpacks to more than 10000 bytes"]
    assert split.problems == ["split.zip unpacks to more than 10000 bytes"] and split.extra_files == []
    assert not fits.problems and sorted(fits.extra_files) == ["a.bin", "b.bin"]


def test_a_file_that_is_not_a_zip_is_a_problem_of_its_student_only(tmp_path):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    _zip(tmp_path / "fine.zip", {FIRST: _released(FIRST)})
    broken, fine = submissions.find_submissions(tmp_path)
    assert broken.notebooks == {} and len(broken.problems) == 1
    assert broken.problems[0].startswith("broken.zip is not a readable zip file (")
    assert list(fine.notebooks) == [FIRST] and not fine.problems


def test_a_corrupt_member_is_a_problem_and_the_other_notebooks_are_still_read(tmp_path):
    second = classbatch.notebook_names()[1]
    good = _released(second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(FIRST, _released(FIRST))
        archive.writestr(second, good)
    data = bytearray(buffer.getvalue())
    where = data.index(b'"cells"')  # inside the first member's stored bytes: its CRC no longer matches
    data[where + 1] ^= 0x20
    (tmp_path / "s1.zip").write_bytes(bytes(data))
    (found,) = submissions.find_submissions(tmp_path)
    assert found.notebooks == {second: good}
    assert len(found.problems) == 1 and found.problems[0].startswith(f"{FIRST} in s1.zip cannot be read (")
