"""Grading that students cannot game: the hardening of ccdlab grade.

These tests read the class graded once in conftest.py (``graded_class``),
where the students of ``classbatch.HACKERS`` and ``hack_escape`` share the
batch with honest ones.
"""

import html.parser
import json
from pathlib import Path

import nbformat
import pytest

import classbatch
from autograder import course, release, report

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def _rows(out):
    return {row["student_id"]: row for row in report.read_csv(out / report.CSV_FILE)}


class _Text(html.parser.HTMLParser):
    """The visible text of an HTML page (code is split into spans by the highlighter)."""

    def __init__(self):
        super().__init__()
        self.parts = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _visible_text(path):
    parser = _Text()
    parser.feed(Path(path).read_text())
    return "".join(parser.parts)


def _hidden_test_lines():
    lines = set()
    for path in course.source_dir().glob("*.ipynb"):
        notebook = nbformat.read(str(path), as_version=4)
        for cell in notebook.cells:
            inside = False
            for line in cell.source.splitlines():
                if "BEGIN HIDDEN TESTS" in line:
                    inside = True
                elif "END HIDDEN TESTS" in line:
                    inside = False
                elif inside and line.strip():
                    lines.add(line.strip())
    return lines


def test_no_hidden_test_line_in_any_feedback(graded_class):
    hidden = _hidden_test_lines()
    assert hidden
    files = sorted((graded_class.out / "feedback").rglob("*.html"))
    assert len(files) > 50
    for path in files:
        text = _visible_text(path)
        leaked = [line for line in hidden if line in text]
        assert not leaked, (path, leaked)


def test_no_solution_line_in_the_feedback_of_a_student_who_did_not_write_it(graded_class):
    secrets = set()
    for path in course.source_dir().glob("*.ipynb"):
        secrets |= release.secret_lines(nbformat.read(str(path), as_version=4))
    released = "\n".join(
        cell.source for path in course.release_dir().glob("*.ipynb")
        for cell in nbformat.read(str(path), as_version=4).cells
    )
    # A line the student was given (a hint, an example) is no leak.
    secrets = {line for line in secrets if len(line) > 12 and line not in released}
    assert secrets
    for path in sorted((graded_class.out / "feedback" / "blank").rglob("*.html")):
        text = _visible_text(path)
        leaked = [line for line in secrets if line in text]
        assert not leaked, (path, leaked)


def test_feedback_shows_each_graded_cell_with_its_score_and_message(graded_class):
    text = _visible_text(graded_class.out / "feedback" / "mistake_bias_mean" / "ccd_reduction" / "04_stacking.html")
    assert "mean instead of the median" in text
    assert "test_combine_bias" in text or "Points" in text or "points" in text
    assert "the grader's tests found" in text.lower()


@pytest.mark.parametrize("student", ["hack_skip_tag", "hack_deleted_cell", "hack_side_files", "hack_exit_last",
                                     "hack_flood", "hack_escape"])
def test_no_hacker_gains_a_point(graded_class, student):
    row = _rows(graded_class.out)[student]
    expected = classbatch.expected_scores(student, classbatch.grade_cells())
    assert {k: float(row[k] or 0) for k in expected} == {k: float(v) for k, v in expected.items()}, row["reason"]
    assert row["status"] == classbatch.expected_status(student, graded_class.sandboxed), row["reason"]


def test_tampering_is_named_in_the_reason(graded_class):
    rows = _rows(graded_class.out)
    assert "skip-execution" in rows["hack_skip_tag"]["reason"]
    assert "test_combine_darks deleted" in rows["hack_deleted_cell"]["reason"]
    for name in ("numpy.py", "autograder.py", "conftest.py", "sitecustomize.py"):
        assert name in rows["hack_side_files"]["reason"]
    assert "output capped" in rows["hack_flood"]["reason"]


def test_a_kernel_that_dies_in_the_last_cell_keeps_the_earlier_scores(graded_class):
    row = _rows(graded_class.out)["hack_exit_last"]
    (worth,) = [points for _, grade_id, points, _ in classbatch.grade_cells() if grade_id == "test_process_data"]
    assert float(row["test_process_data"]) == worth
    assert "kernel died" in row["reason"]


def test_sandbox_stops_every_escape_inside_the_kernel(graded_class):
    if not graded_class.sandboxed:
        pytest.skip("bubblewrap cannot run here, so the class was graded without a sandbox")
    path = graded_class.out / "autograded" / "hack_escape" / "ccd_reduction" / "01_fits_basics.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    printed = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
        if output.output_type == "stream"
    )
    line = next(line for line in printed.splitlines() if line.startswith(classbatch.ESCAPE_MARKER))
    attempts = json.loads(line[len(classbatch.ESCAPE_MARKER):])
    assert attempts == {"read_solutions": False, "write_data": False, "list_others": False, "socket": False,
                        "answers_in_env": False, "grader_code": False, "other_scratch": []}


# ---------------------------------------------------------------------------
# The integrity issue: students who read the grader's code


def test_kernel_cheats_win_nothing(graded_class):
    row = _rows(graded_class.out)["cheat_kernel"]
    expected = classbatch.expected_scores("cheat_kernel", classbatch.grade_cells())
    assert sum(expected.values()) == 0
    assert float(row["total"]) == 0, row


def test_links_made_by_a_kernel_change_nothing_outside(graded_class):
    for path in (graded_class.out / "autograded" / "cheat_files").rglob("*"):
        assert not path.is_symlink(), path
    row = _rows(graded_class.out)["cheat_files"]
    assert row["status"] == classbatch.expected_status("cheat_files", graded_class.sandboxed), row["reason"]
    if not graded_class.sandboxed:
        pytest.skip("without bubblewrap the kernel runs beside the autograded notebooks: nbgrader writes them "
                    "through its links")
    canary = graded_class.canary
    assert canary.read_text() == "a file of the instructor's, outside every sandbox\n"
    assert oct(canary.stat().st_mode & 0o777) == oct(0o640)


def test_a_linked_hand_in_is_not_read(graded_class):
    row = _rows(graded_class.out)["cheat_linked_handin"]
    assert "symbolic link" in row["reason"]
    assert float(row["test_calc_dark_current"] or 0) == 0


def test_feedback_runs_no_script_of_the_student(graded_class):
    page = (graded_class.out / "feedback" / "cheat_html" / "ccd_reduction" / "01_fits_basics.html").read_text()
    assert "PWNED-IMG" in page
    # The cell's source is shown escaped (&lt;script&gt;); no tag of the output survives to run.
    assert '<script>document.title = "PWNED-SCRIPT"' not in page
    assert "<img src=x onerror" not in page and '<img src="x" onerror' not in page


def test_gradebook_and_grades_csv_agree_for_every_student(graded_class):
    import subprocess
    import sys

    out = graded_class.out
    exported = out / "agree.csv"
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", str(exported)], cwd=out,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = _rows(out)
    with open(exported) as handle:
        import csv

        for entry in csv.DictReader(handle):
            student = entry["student_id"]
            if student in rows and rows[student]["status"] != "error":
                assert float(entry["raw_score"]) == float(rows[student]["total"]), student


# ---------------------------------------------------------------------------
# The instructor's loop: a feedback page a student can read, offline


def test_a_feedback_page_reads_well_offline_in_a_real_browser(graded_class, tmp_path):
    import labbrowser

    why = labbrowser.why_no_browser()
    if why:
        pytest.skip(why)
    page_path = graded_class.out / "feedback" / "mistake_unscaled_dark" / "ccd_reduction" / "05_process_data.html"
    html_text = page_path.read_text()
    assert "/tmp/ccdlab-" not in html_text and "(grader)" not in html_text.split("<body")[0]
    with labbrowser.chromium_page(tmp_path / "profile") as page:
        requested = []
        page.context.route("**/*", lambda route: (requested.append(route.request.url),
                                                   route.continue_() if route.request.url.startswith("file:")
                                                   else route.abort()))
        page.goto(page_path.as_uri())
        page.wait_for_load_state("load")
        labbrowser.screenshot(page, "feedback_05_process_data", course.REPO_ROOT)
        sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert sideways <= 0, f"the page scrolls sideways by {sideways} px"
        maths = page.locator("math")
        assert maths.count() > 0, "no MathML in the page: LaTeX left for MathJax, which needs the network"
        box = maths.first.bounding_box()
        assert box and box["height"] > 5 and box["width"] > 5
        text = page.inner_text("body")
        assert "visible tests passed; the grader's tests found" in text
        assert "not scaled" in text
