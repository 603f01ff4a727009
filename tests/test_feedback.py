"""Feedback pages: sanitized, readable, math without a network (fast: no grading)."""

import nbformat

from autograder import course
from autograder.feedback import ReadableFeedback, offline_math, scrub_paths


def _html(notebook):
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(config=course.nbgrader_config())
    body, _ = exporter.from_notebook_node(notebook)
    return body


def test_the_course_s_feedback_exporter_runs_no_script_of_the_student():
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": "<script>document.title='PWNED'</script><img src=x onerror=alert(1)>visible"})]
    body = _html(nbformat.v4.new_notebook(cells=[cell]))
    assert "visible" in body
    # shown as text (escaped), never as tags that run
    assert "<script>document.title='PWNED'" not in body and "<img src=x onerror" not in body
    assert "&lt;script&gt;document.title='PWNED'" in body


def test_math_becomes_mathml_and_code_is_left_alone():
    page = "<p>Dark current $I = g \\, S / t$ in e-/s.</p><pre>cost = '$5 or $6'</pre><p>$$\\frac{a}{b}$$</p>"
    converted = offline_math(page)
    assert converted.count("<math") == 2 and "<pre>cost = '$5 or $6'</pre>" in converted
    assert offline_math("<p>costs $5 and $6 today</p>") == "<p>costs $5 and $6 today</p>"


def test_long_lines_wrap_in_the_feedback_style():
    notebook, resources = ReadableFeedback().preprocess(nbformat.v4.new_notebook(), {})
    assert any("pre-wrap" in css for css in resources["inlining"]["css"])
    steps = course.nbgrader_config().GenerateFeedback.preprocessors
    assert ReadableFeedback in steps


def test_grader_paths_are_scrubbed_longest_first():
    text = "/tmp/ccdlab-x/course/submitted/s/ccd/Reduced_data/a.fits and /tmp/ccdlab-x/other"
    shown = scrub_paths(text, {"/tmp/ccdlab-x/course/submitted/s/ccd": ".", "/tmp/ccdlab-x": "(grader)"})
    assert shown == "./Reduced_data/a.fits and (grader)/other"
