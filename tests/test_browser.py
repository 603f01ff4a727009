"""JupyterLab as students and instructors meet it, in a headless chromium.

Each test serves a temporary folder holding COPIES of the notebooks with
``autograder.labserver.running_lab`` (a free localhost port, a token), opens
it in Debian's chromium through Playwright and does what a person would: run
a solved notebook, work through a release notebook, press nbgrader's
Validate button, open the formgrader.  Each saves a screenshot as
``test-artifacts/browser/<test name>.png`` and checks afterwards that no
process is left and that the repository did not change.

The tests are skipped, with the reason, where Playwright or chromium is
missing (``./ccdlab.sh test`` installs chromium with apt when it can).
"""

import contextlib
import json
import os
import re

import pytest
from astropy.io import fits

import classbatch
import labbrowser
from autograder import course, grading, labserver
from convenience_functions import data_path, lab

psutil = pytest.importorskip("psutil")

#: Each browser test takes 20-30 s; a stuck page fails it long before pytest's 600 s.
BROWSER_TEST_TIMEOUT_S = 150

REPO = labserver.REPO_ROOT
NOTEBOOK = "01_fits_basics.ipynb"

#: The message notebook 01's first visible test gives before center_flux exists.
CENTER_FLUX_MESSAGE = "center_flux is not defined yet"


# --- set-up and clean-up ----------------------------------------------------


def artifact_name(request):
    """``test_validate[solved]`` -> ``test_validate_solved``."""
    return re.sub(r"[^\w-]+", "_", request.node.name).strip("_")


@pytest.fixture
def leaves_nothing(tmp_path):
    """Skip without a browser; afterwards, no process left and the repository unchanged."""
    reason = labbrowser.why_no_browser()
    if reason:
        pytest.skip(reason)
    baseline = {child.pid for child in psutil.Process().children(recursive=True)}
    before = labbrowser.repo_state(REPO)
    yield baseline
    strays = labbrowser.wait_for_no_strays(baseline, str(tmp_path))
    for pid in (int(line.split()[0]) for line in strays):
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()
    assert strays == [], "processes left behind by the lab or the browser"
    if before is not None:
        changes = labbrowser.repo_changes(before, labbrowser.repo_state(REPO), strict=bool(os.environ.get("CI")))
        assert changes == [], "the repository changed"


@contextlib.contextmanager
def lab_in_browser(root, tmp_path, name, start=None):
    """JupyterLab serving ``root`` and a chromium page; a failure screenshot on error."""
    (REPO / labbrowser.ARTIFACTS / f"{name}-failed.png").unlink(missing_ok=True)
    with labserver.running_lab(root, start=start) as server:
        labbrowser.quiet_lab(server)
        with labbrowser.chromium_page(tmp_path / "chromium-profile") as page:
            try:
                yield server, page
            except BaseException:
                with contextlib.suppress(Exception):
                    labbrowser.screenshot(page, f"{name}-failed", REPO)
                raise


def student_folder(tmp_path, notebooks):
    """A folder laid out like the repository's, holding ``{name: notebook dict}``."""
    root = tmp_path / "lab"
    folder = course.release_dir(root)
    folder.mkdir(parents=True)
    for name, notebook in notebooks.items():
        (folder / name).write_text(json.dumps(notebook, indent=1))
    return root, folder


def grade_ids(notebook, kind):
    """Indexes of the code cells that are answer cells (``"solution"``) or tests (``"grade"``)."""
    found = []
    for index, content in enumerate(notebook["cells"]):
        meta = content.get("metadata", {}).get("nbgrader", {})
        if content["cell_type"] == "code" and meta.get(kind) and not (kind == "grade" and meta.get("solution")):
            found.append(index)
    return found


def index_of(notebook, predicate):
    matches = [i for i, content in enumerate(notebook["cells"]) if predicate(content)]
    assert len(matches) == 1, f"expected one matching cell, found {matches}"
    return matches[0]


def source(content):
    return "".join(content["source"]) if isinstance(content["source"], list) else content["source"]


def show_image_cell(notebook):
    return index_of(notebook, lambda c: c["cell_type"] == "code" and "show_image(" in source(c))


def grade_id_cell(notebook, grade_id):
    return index_of(notebook, lambda c: c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def assert_figure(cell):
    """The cell's output holds one rendered, loaded image of a real size."""
    image = cell.locator(".jp-OutputArea-output img")
    labbrowser.wait_for_count(image, 1)
    cell.scroll_into_view_if_needed()
    width, height = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert width > 200 and height > 150, f"the figure is {width}x{height} pixels"
    assert image.is_visible()


def first_bias():
    with fits.open(data_path(lab.FIRST_BIAS_FILE)) as hdul:
        return hdul[0].data.astype(float)


# --- the clean-up check itself (fast) --------------------------------------


@pytest.mark.timeout(30)
def test_repo_changes_counts_what_a_server_or_kernel_writes():
    before = {"?? labs/ccd_reduction/04_stacking.ipynb", "!! ccdlab.egg-info/"}
    written = {
        "!! labs/ccd_reduction/.ipynb_checkpoints/",
        "!! labs/ccd_reduction/Reduced_data/",
        "!! gradebook.db",
        " M labs/ccd_reduction/01_fits_basics.ipynb",
        "?? labs/ccd_reduction/05_process_data.ipynb",
    }
    after = (before | written) - {"?? labs/ccd_reduction/04_stacking.ipynb"}
    assert labbrowser.repo_changes(before, before, strict=True) == []
    assert labbrowser.repo_changes(before, after, strict=True) == sorted(before ^ after)
    # In a shared checkout, notebooks and modules edited by other work are not counted.
    assert labbrowser.repo_changes(before, after, strict=False) == [
        "!! gradebook.db", "!! labs/ccd_reduction/.ipynb_checkpoints/", "!! labs/ccd_reduction/Reduced_data/",
    ]


# --- students ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(BROWSER_TEST_TIMEOUT_S)
def test_solved_notebook_runs_and_shows_the_figure(tmp_path, leaves_nothing, request):
    notebook = classbatch.solved(NOTEBOOK)
    root, folder = student_folder(tmp_path, {NOTEBOOK: notebook})
    cells = notebook["cells"]
    code_cells = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]

    with lab_in_browser(root, tmp_path, artifact_name(request)) as (server, page):
        panel = labbrowser.open_notebook(page, server, folder / NOTEBOOK, len(cells))
        labbrowser.run_all_from_menu(page)
        for index in code_cells:
            labbrowser.wait_until_run(labbrowser.cell(panel, index))

        errors = {i: labbrowser.error_text(labbrowser.cell(panel, i)) for i in code_cells}
        assert {i: text for i, text in errors.items() if text} == {}, "error output in a solved notebook"

        # The printed answers are the bias frame's own pixels, read here with astropy.
        bias = first_bias()
        ny, nx = bias.shape
        stdout = "application/vnd.jupyter.stdout"
        flux = labbrowser.outputs(labbrowser.cell(panel, grade_id_cell(notebook, "center_flux")))
        assert [(mime, text.strip()) for mime, text in flux] == [
            (stdout, f"Flux in the central pixel: {int(bias[ny // 2, nx // 2])} ADU")
        ]
        column = labbrowser.outputs(labbrowser.cell(panel, grade_id_cell(notebook, "fifth_column_mean")))
        assert [(mime, text.strip()) for mime, text in column] == [
            (stdout, f"Mean of the fifth column: {bias[:, 4].mean():.2f} ADU")
        ]

        figure = labbrowser.cell(panel, show_image_cell(notebook))
        assert_figure(figure)
        labbrowser.screenshot(page, artifact_name(request), REPO)

        # The clean-up check would see this test's server, kernel and browser.
        running = labbrowser.stray_processes(leaves_nothing, str(tmp_path))
        commands = [" ".join(p.cmdline()) for p in running]
        assert server.process.pid in {p.pid for p in running}
        assert any("ipykernel" in c for c in commands) and any("chromium" in c for c in commands)


@pytest.mark.slow
@pytest.mark.timeout(BROWSER_TEST_TIMEOUT_S)
def test_camera_notebook_draws_its_curve_and_the_masked_frame(tmp_path, leaves_nothing, request):
    """Notebook 06 solved, run from the menu: no error, the photon-transfer curve and the masked frame drawn."""
    name = "06_know_your_camera.ipynb"
    notebook = classbatch.solved(name)
    root, folder = student_folder(tmp_path, {name: notebook})
    cells = notebook["cells"]
    code_cells = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]

    def drawing(call):
        return index_of(notebook, lambda c: c["cell_type"] == "code" and call in source(c)
                        and c.get("metadata", {}).get("nbgrader") is None)

    with lab_in_browser(root, tmp_path, artifact_name(request)) as (server, page):
        panel = labbrowser.open_notebook(page, server, folder / name, len(cells))
        labbrowser.run_all_from_menu(page)
        for index in code_cells:
            labbrowser.wait_until_run(labbrowser.cell(panel, index))
        errors = {i: labbrowser.error_text(labbrowser.cell(panel, i)) for i in code_cells}
        assert {i: text for i, text in errors.items() if text} == {}, "error output in the solved notebook 06"
        assert_figure(labbrowser.cell(panel, drawing("plot_photon_transfer(signal_adu")))
        masked = labbrowser.cell(panel, drawing("show_image(masked"))
        assert_figure(masked)
        printed = " ".join(text for _, text in labbrowser.outputs(masked))
        assert re.search(r"limit \S+ e-/s: \d+ bad pixels", printed), printed
        labbrowser.screenshot(page, artifact_name(request), REPO)


@pytest.mark.slow
@pytest.mark.timeout(BROWSER_TEST_TIMEOUT_S)
def test_release_notebook_stops_only_in_the_stub_cells(tmp_path, leaves_nothing, request):
    notebook = json.loads((course.release_dir(REPO) / NOTEBOOK).read_text())
    root, folder = student_folder(tmp_path, {NOTEBOOK: notebook})
    cells = notebook["cells"]
    stubs = grade_ids(notebook, "solution")
    tests = grade_ids(notebook, "grade")
    assert stubs and tests

    with lab_in_browser(root, tmp_path, artifact_name(request)) as (server, page):
        panel = labbrowser.open_notebook(page, server, folder / NOTEBOOK, len(cells))
        labbrowser.run_one_by_one(page, panel, cells)

        errors = {}
        for index, content in enumerate(cells):
            if content["cell_type"] == "code":
                text = labbrowser.error_text(labbrowser.cell(panel, index))
                if text:
                    errors[index] = text
        not_implemented = sorted(i for i, text in errors.items() if "NotImplementedError" in text)
        assert not_implemented == stubs
        # Every other error is a visible test saying, in words, what is missing.
        for index in sorted(set(errors) - set(stubs)):
            assert index in tests, f"cell {index} fails in the release notebook: {errors[index][-500:]}"
            assert "AssertionError" in errors[index] and "not defined yet" in errors[index]
            assert "NameError" not in errors[index]
        first_test = grade_id_cell(notebook, "test_center_flux")
        assert CENTER_FLUX_MESSAGE in errors.get(first_test, "")

        # What does not depend on the answers still works: the figure is drawn.
        assert_figure(labbrowser.cell(panel, show_image_cell(notebook)))

        labbrowser.cell(panel, first_test).scroll_into_view_if_needed()
        labbrowser.screenshot(page, artifact_name(request), REPO)


@pytest.mark.slow
@pytest.mark.timeout(BROWSER_TEST_TIMEOUT_S)
@pytest.mark.parametrize("version", ["solved", "release"])
def test_validate(tmp_path, leaves_nothing, request, version):
    if version == "solved":
        notebook = classbatch.solved(NOTEBOOK)
    else:
        notebook = json.loads((course.release_dir(REPO) / NOTEBOOK).read_text())
    root, folder = student_folder(tmp_path, {NOTEBOOK: notebook})

    with lab_in_browser(root, tmp_path, artifact_name(request)) as (server, page):
        panel = labbrowser.open_notebook(page, server, folder / NOTEBOOK, len(notebook["cells"]))
        panel.locator(".jp-Toolbar .validate-button").click()
        # nbgrader runs the whole notebook in a fresh kernel before it answers.
        message = page.locator(".jp-Dialog #validation-message")
        message.wait_for(timeout=2 * labbrowser.WAIT_MS)
        title = page.locator(".jp-Dialog .jp-Dialog-header").inner_text()
        text = message.inner_text()
        classes = message.get_attribute("class").split()
        labbrowser.screenshot(page, artifact_name(request), REPO)
        page.locator(".jp-Dialog .jp-mod-accept").click()

    assert "Validation Results" in title
    if version == "solved":
        assert "validation-success" in classes
        assert text.strip() == "Success! Your notebook passes all the tests."
    else:
        assert "validation-failed" in classes
        # Every visible test fails, each shown with its message.
        assert text.count("The following cell failed:") == len(grade_ids(notebook, "grade"))
        assert CENTER_FLUX_MESSAGE in text
        assert "Success" not in text


# --- instructors ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(BROWSER_TEST_TIMEOUT_S)
def test_formgrader_lists_the_assignment_and_its_notebooks(tmp_path, leaves_nothing, request):
    root = tmp_path / "course"
    root.mkdir()
    grading.prepare_course(root)
    (root / "nbgrader_config.py").write_text(
        "from autograder.course import nbgrader_config\n"
        "c = get_config()  # noqa: F821\n"
        f"c.merge(nbgrader_config(root={str(root)!r}))\n"
    )
    # Each notebook with its points: what the gradebook must have learnt.
    expected = {}
    for path in sorted(course.source_dir(REPO).glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        expected[path.stem] = sum(c["metadata"].get("nbgrader", {}).get("points", 0) for c in cells
                                  if c["metadata"].get("nbgrader", {}).get("grade"))

    with lab_in_browser(root, tmp_path, artifact_name(request), start=root) as (server, page):
        page.goto(server.lab_url)
        labbrowser.menu_command(page, "Nbgrader", "Formgrader")
        formgrader = page.frame_locator("#formgrader iframe")

        # Manage Assignments: one row, ccd_reduction, no submissions yet.
        rows = formgrader.locator("table tbody tr")
        row = rows.filter(has=formgrader.locator("td a", has_text=re.compile(rf"^{course.ASSIGNMENT_ID}$")))
        labbrowser.wait_for_count(row, 1)
        labbrowser.wait_for_count(rows, 1)
        labbrowser.screenshot(page, f"{artifact_name(request)}-assignments", REPO)

        # Manual Grading > ccd_reduction: the assignment's notebooks.
        formgrader.locator("a", has_text="Manual Grading").click()
        formgrader.locator("td a", has_text=re.compile(rf"^{course.ASSIGNMENT_ID}$")).click()
        formgrader.locator(".breadcrumb", has_text=course.ASSIGNMENT_ID).wait_for()
        notebook_rows = formgrader.locator("table tbody tr")
        labbrowser.wait_for_count(notebook_rows, len(expected))
        listed = {}
        for i in range(len(expected)):
            columns = notebook_rows.nth(i).locator("td")
            listed[columns.nth(0).inner_text().strip()] = columns.nth(1).inner_text().strip()
        labbrowser.screenshot(page, artifact_name(request), REPO)

    assert listed == {name: f"0 / {points}" for name, points in expected.items()}
