"""What release and check tell a TA: nbgrader's message with the cell, points, answers in given code."""

import nbformat

from autograder import course, course_checks, release

from test_release import course_copy  # noqa: F401  (the fixture)


def _edit(root, kind, name, grade_id, change):
    folder = course.source_dir(root) if kind == "source" else course.release_dir(root)
    path = folder / name
    notebook = nbformat.read(str(path), as_version=4)
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    change(cell, notebook)
    nbformat.write(notebook, str(path))


def test_a_deleted_end_marker_is_named_with_notebook_and_grade_id(course_copy, capsys):  # noqa: F811
    _edit(course_copy, "source", "04_stacking.ipynb", "combine_bias",
          lambda cell, nb: setattr(cell, "source", cell.source.replace("### END SOLUTION", "")))
    assert release.main_release(root=course_copy) == 1
    err = capsys.readouterr().err
    assert "04_stacking.ipynb, cell combine_bias: no end solution statement found" in err  # nbgrader's words
    assert release.main_check(root=course_copy) == 1
    assert "cell combine_bias" in capsys.readouterr().err


def test_nbgrader_s_own_message_reaches_the_ta(course_copy, tmp_path):  # noqa: F811
    _edit(course_copy, "source", "01_fits_basics.ipynb", "center_flux",
          lambda cell, nb: setattr(cell, "source", cell.source.replace("### END SOLUTION", "")))
    try:
        release.generate_release(course_copy, tmp_path / "scratch")
    except release.ReleaseError as error:
        assert "end solution" in str(error).lower() and "above traceback" not in str(error)
    else:
        raise AssertionError("nbgrader released a notebook with an unclosed solution")


def test_release_prints_each_notebook_s_points_and_the_total(capsys):
    table = course_checks.points_table()
    total = sum(points for _, graded in table for _, points in graded)
    assert total == 100
    assert course_checks.points_problems() == []


def test_stated_points_must_match_the_cell_s_metadata(course_copy):  # noqa: F811
    stated = {}

    def raise_points(cell, notebook):
        stated["points"] = cell.metadata.nbgrader["points"]
        cell.metadata.nbgrader["points"] = stated["points"] + 2

    _edit(course_copy, "source", "04_stacking.ipynb", "test_save_fits", raise_points)
    problems = course_checks.points_problems(course_copy)
    assert problems and f"({stated['points']} points)" in problems[0]
    assert f"test_save_fits is worth {stated['points'] + 2}" in problems[0]


def test_a_graded_answer_in_given_code_fails_the_check(course_copy, capsys):  # noqa: F811
    def add_given(cell, notebook):
        index = notebook.cells.index(cell)
        notebook.cells.insert(index, nbformat.v4.new_code_cell("def combine_bias(filenames):\n    return None\n"))

    _edit(course_copy, "release", "04_stacking.ipynb", "combine_darks", add_given)
    problems = course_checks.given_answer_problems(course_copy)
    assert any("defines combine_bias, a graded answer" in p for p in problems), problems


def test_a_line_moved_below_the_end_marker_fails_the_check(course_copy):  # noqa: F811
    _edit(course_copy, "release", "04_stacking.ipynb", "combine_bias",
          lambda cell, nb: setattr(cell, "source", cell.source + "\n    return np.median(load_stack(filenames), axis=0)"))
    problems = course_checks.given_answer_problems(course_copy)
    assert any("follows the stub" in p and "cell combine_bias" in p for p in problems), problems
