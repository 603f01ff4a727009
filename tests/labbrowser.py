"""Driving JupyterLab in a headless chromium, for tests/test_browser.py.

The browser is Debian's chromium (``/usr/bin/chromium``, or the one named by
``CCDLAB_CHROMIUM``) driven by Playwright; Playwright's own browser builds
are never downloaded.  The helpers here act as a person would: open a
notebook from its address, wait for the kernel, run cells from the menu or
with Shift+Enter, press the toolbar's Validate button, open the formgrader
from the Nbgrader menu.  They read the page through JupyterLab's CSS classes
(``.jp-Cell``, ``.jp-InputPrompt``, ``.jp-OutputArea-output``).
"""

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

#: Where Debian puts its chromium; CCDLAB_CHROMIUM overrides.
DEBIAN_CHROMIUM = "/usr/bin/chromium"

#: Chromium switches: root needs --no-sandbox; the others keep a browser on
#: a closed network from calling out (and flooding refused connections).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

#: Screen size of the headless browser, pixels.
VIEWPORT = {"width": 1400, "height": 900}

#: Milliseconds for one thing to happen in the page (the lab loading, a
#: kernel starting, a cell running) on a busy two-core machine.
WAIT_MS = 45_000

#: Where the screenshots go, relative to the repository root (git-ignored).
ARTIFACTS = Path("test-artifacts") / "browser"

#: Mime type JupyterLab gives to error tracebacks and stderr text.
STDERR_MIME = "application/vnd.jupyter.stderr"

#: The status bar's kernel item once a kernel is connected and idle.
KERNEL_IDLE = re.compile(r"^(?!No Kernel).+ \| Idle$")

#: A finished code cell's prompt, e.g. ``[12]:``.
DONE_PROMPT = re.compile(r"^\[\d+\]:$")


def chromium_path():
    """Return the chromium executable to use, or None if there is none."""
    named = os.environ.get("CCDLAB_CHROMIUM")
    for candidate in (named, DEBIAN_CHROMIUM, shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def why_no_browser():
    """Return why the browser tests cannot run here, or None if they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return (f"no chromium at {DEBIAN_CHROMIUM} (install it with `apt-get install chromium`; "
                "./ccdlab.sh test does so when it can)")
    return None


@contextlib.contextmanager
def chromium_page(profile_dir):
    """A fresh headless chromium page for the duration of a ``with`` block.

    Parameters
    ----------
    profile_dir : pathlib.Path
        Empty folder for the browser's user data (a fresh profile).

    Yields
    ------
    playwright.sync_api.Page
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=chromium_path(),
            headless=True,
            args=list(CHROMIUM_ARGS),
            viewport=VIEWPORT,
        )
        try:
            context.set_default_timeout(WAIT_MS)
            page = context.pages[0] if context.pages else context.new_page()
            yield page
        finally:
            context.close()


def quiet_lab(server):
    """Answer JupyterLab's "get notified about Jupyter news?" question with no.

    The setting goes to the server's (temporary) user-settings folder, so the
    question does not cover the screenshots.
    """
    code, body = server.request(
        "PUT",
        "lab/api/settings/@jupyterlab/apputils-extension:notification",
        {"raw": json.dumps({"fetchNews": "false", "checkForUpdates": False})},
    )
    assert code in (200, 204), f"could not store a lab setting: {code} {body[:300]!r}"


def notebook_address(server, path):
    """Address (with the token) that opens the notebook ``path`` in the lab."""
    relative = Path(path).resolve().relative_to(server.root_dir).as_posix()
    return f"{server.url}lab/tree/{relative}?token={server.token}"


def open_notebook(page, server, path, n_cells):
    """Open the notebook ``path`` and wait for its cells and an idle kernel."""
    page.goto(notebook_address(server, path))
    panel = page.locator(".jp-NotebookPanel:visible")
    wait_for_count(panel.locator(".jp-Notebook .jp-Cell"), n_cells)
    # The status bar says "<kernel name> | Idle" only once a kernel is
    # connected.  (The toolbar's execution indicator already says "idle"
    # while there is no kernel yet; a cell run then is silently skipped.)
    page.locator("#jp-main-statusbar .jp-StatusBar-TextItem", has_text=KERNEL_IDLE).wait_for()
    panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
    return panel


def wait_for_count(locator, count, timeout_ms=WAIT_MS):
    """Wait until ``locator`` matches exactly ``count`` elements."""
    from playwright.sync_api import expect

    expect(locator).to_have_count(count, timeout=timeout_ms)


def cell(panel, index):
    """The ``index``-th cell (0-based, as in the notebook file) of ``panel``."""
    return panel.locator(".jp-Notebook .jp-Cell").nth(index)


def wait_until_run(cell_locator, timeout_ms=WAIT_MS):
    """Wait until a code cell's prompt shows its execution count, ``[n]:``."""
    from playwright.sync_api import expect

    expect(cell_locator.locator(".jp-InputArea .jp-InputPrompt")).to_have_text(DONE_PROMPT, timeout=timeout_ms)


def run_all_from_menu(page):
    """Run > Run All Cells, from the menu bar."""
    menu_command(page, "Run", "Run All Cells")


def menu_command(page, menu, item):
    """Click ``menu`` in the menu bar, then its entry ``item``."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$")).click()


def run_one_by_one(page, panel, cells):
    """Shift+Enter through every cell, waiting for each code cell to finish.

    "Run All" stops at the first error; a student working through a release
    notebook runs the cells one after another and reads each error.

    Parameters
    ----------
    cells : list of dict
        The notebook's cells, as in the file.
    """
    cell(panel, 0).locator(".jp-InputPrompt").first.click()
    for index, content in enumerate(cells):
        if index == len(cells) - 1:
            page.keyboard.press("Control+Enter")  # run the last cell in place
        else:
            page.keyboard.press("Shift+Enter")
        if content["cell_type"] == "code":
            wait_until_run(cell(panel, index))


def outputs(cell_locator):
    """Text of each output of a cell, with its mime type: ``[(mime, text)]``.

    The text is the page's text content, not what is painted: JupyterLab
    skips painting cells far outside the window.
    """
    items = cell_locator.locator(".jp-OutputArea-output")
    return [
        (items.nth(i).get_attribute("data-mime-type"), items.nth(i).text_content())
        for i in range(items.count())
    ]


def error_text(cell_locator):
    """All error (stderr, traceback) output text of a cell, joined."""
    return "\n".join(text for mime, text in outputs(cell_locator) if mime == STDERR_MIME)


def screenshot(page, name, repo_root):
    """Save the page as ``test-artifacts/browser/<name>.png``; return the path."""
    folder = Path(repo_root) / ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# --- leaving nothing behind ---------------------------------------------------

#: Paths of the checkout that tests and tools change on their own.
UNWATCHED = (".venv", ".git", ".pytest_cache", "test-artifacts")

#: File types that other work in the same checkout writes while a test runs.
SOURCE_SUFFIXES = {".py", ".ipynb", ".md", ".fit", ".json", ".txt", ".toml", ".sh", ".cfg"}


def repo_state(repo_root):
    """``git status --porcelain --ignored`` lines of the checkout, as a set.

    Returns None where there is no git checkout.  Python caches and the
    folders in UNWATCHED are left out.
    """
    if shutil.which("git") is None or not (Path(repo_root) / ".git").exists():
        return None
    result = subprocess.run(
        ["git", "--no-optional-locks", "status", "--porcelain", "--ignored"],
        cwd=repo_root, capture_output=True, text=True, check=True,
    )
    lines = set()
    for line in result.stdout.splitlines():
        parts = Path(line[3:].strip('"')).parts
        if not parts or parts[0] in UNWATCHED or "__pycache__" in parts:
            continue
        lines.add(line)
    return lines


def repo_changes(before, after, strict):
    """Entries of ``git status`` that differ between two :func:`repo_state`.

    With ``strict`` false (a working checkout where other work goes on),
    source files outside dot-folders and product folders are taken to be
    that other work; dot-files (checkpoints, logs), products (Reduced_data,
    gradebook.db, FITS files written by notebooks) and everything else
    still count.  With ``strict`` (CI on a clean clone) every change counts.
    """
    changed = sorted(before ^ after)
    if strict:
        return changed

    def others_work(line):
        path = Path(line[3:].strip('"'))
        return (
            path.suffix in SOURCE_SUFFIXES
            and not any(part.startswith(".") for part in path.parts)
            and "Reduced_data" not in path.parts
        )

    return [line for line in changed if not others_work(line)]


def stray_processes(baseline_pids, marker):
    """Processes a test left: new children of this process, or any process
    whose command line or working folder mentions ``marker`` (the test's
    temporary folder: the server's root, the browser's profile, the
    kernels' working folder)."""
    import psutil

    me = psutil.Process()
    found = {}
    for child in me.children(recursive=True):
        if child.pid not in baseline_pids:
            found[child.pid] = child
    for process in psutil.process_iter():
        if process.pid == me.pid:
            continue
        with contextlib.suppress(psutil.Error):
            if marker in " ".join(process.cmdline()) or process.cwd().startswith(marker):
                found[process.pid] = process
    alive = []
    for process in found.values():
        with contextlib.suppress(psutil.Error):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
    return alive


def wait_for_no_strays(baseline_pids, marker, timeout_s=15.0):
    """Poll :func:`stray_processes` until there are none or ``timeout_s`` passes.

    Returns the processes still there (as ``"pid name cmdline"`` strings).
    """
    import psutil

    deadline = time.monotonic() + timeout_s
    while True:
        strays = stray_processes(baseline_pids, marker)
        if not strays or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    described = []
    for process in strays:
        with contextlib.suppress(psutil.Error):
            described.append(f"{process.pid} {process.name()} {' '.join(process.cmdline())[:200]}")
    return described
