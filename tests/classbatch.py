"""Synthetic class submissions built from the instructor and student notebooks.

Each student is a function of the folder to write into; ``EXPECTED`` says
what grading must give them: the status, and which grade cells earn their
points.  Used by ``tests/test_grading.py`` and ``benchmarks/bench_grading.py``.
"""

import json
import shutil
import zipfile
from pathlib import Path

from autograder import course

#: Set to compare the whole class, not a part of it, where a test grades it again
#: (plain nbgrader, --jobs 1, Dask): about ten more minutes per test.
FULL_CLASS_VARIABLE = "CCDLAB_TEST_FULL_CLASS"

FULL = "full"
ZERO = "zero"


def full_class_requested():
    """Whether ``CCDLAB_TEST_FULL_CLASS`` asks the tests to grade the whole class again."""
    import os

    return os.environ.get(FULL_CLASS_VARIABLE, "") not in ("", "0")


def notebook_names():
    return sorted(p.name for p in course.source_dir().glob("*.ipynb"))


def load(kind, name):
    folder = course.source_dir() if kind == "source" else course.release_dir()
    return json.loads((folder / name).read_text())


def _text(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _cell_index(notebook, grade_id):
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return index
    raise KeyError(grade_id)


def set_solution(notebook, grade_id, body):
    """Replace what lies between the solution markers of ``grade_id`` by ``body``."""
    cell = notebook["cells"][_cell_index(notebook, grade_id)]
    lines = _text(cell).splitlines()
    begin = next(i for i, line in enumerate(lines) if "BEGIN SOLUTION" in line)
    end = next(i for i, line in enumerate(lines) if "END SOLUTION" in line)
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    new_body = [indent + line if line else line for line in body.strip("\n").splitlines()]
    cell["source"] = "\n".join(lines[:begin] + new_body + lines[end + 1:]) + "\n"
    return notebook


def insert_cell(notebook, source, before=None, at=None):
    """Insert a plain code cell before the cell of grade_id ``before`` (or at index ``at``)."""
    index = _cell_index(notebook, before) if before is not None else at
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
    notebook["cells"].insert(index, cell)
    return notebook


def write_student(folder, student_id, notebooks):
    """Write ``{name: notebook dict or bytes}`` in nbgrader's submission layout."""
    target = Path(folder) / student_id / course.ASSIGNMENT_ID
    target.mkdir(parents=True)
    for name, notebook in notebooks.items():
        data = notebook if isinstance(notebook, bytes) else json.dumps(notebook, indent=1).encode()
        (target / name).write_bytes(data)
    return target


def solved(name, source=None):
    """The student notebook ``name`` as a perfect student hands it in.

    Every answer cell of the release gets the instructor's solution (without
    nbgrader's markers); every other cell stays as released.
    """
    answers = {}
    for cell in (source or load("source", name))["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            lines = [line for line in _text(cell).splitlines() if "BEGIN SOLUTION" not in line
                     and "END SOLUTION" not in line]
            answers[meta["grade_id"]] = "\n".join(lines) + "\n"
    notebook = load("release", name)
    for cell in notebook["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return notebook


def _sources():
    return {name: solved(name) for name in notebook_names()}


# ---------------------------------------------------------------------------
# The students


def correct(folder, student_id="correct"):
    write_student(folder, student_id, _sources())


def blank(folder):
    write_student(folder, "blank", {name: load("release", name) for name in notebook_names()})


def _with(student_id, name, change, kind="answer", also=()):
    """A perfect student except for ``change``.

    ``kind="answer"`` changes the instructor notebook's answer cells before
    they are copied into the student notebook (a wrong answer);
    ``kind="notebook"`` changes the handed-in notebook itself (added cells,
    edited metadata).  ``also``: further ``(notebook, change)`` answers.
    """
    def build(folder):
        notebooks = _sources()
        if kind == "answer":
            source = load("source", name)
            change(source)
            notebooks[name] = solved(name, source)
        else:
            change(notebooks[name])
        for other, other_change in also:
            source = load("source", other)
            other_change(source)
            notebooks[other] = solved(other, source)
        write_student(folder, student_id, notebooks)
    build.__name__ = student_id
    return build


#: Notebook 06, the camera: the mistakes below come with one of its own each.
CAMERA = "06_know_your_camera.ipynb"

mistake_bias_mean = _with(
    "mistake_bias_mean", "04_stacking.ipynb",
    lambda nb: set_solution(nb, "combine_bias", "return np.mean(load_stack(filenames), axis=0)"),
    # the read noise from one bias: its column pattern counts as noise
    also=[(CAMERA, lambda nb: set_solution(nb, "measure_read_noise", """
return float(gain * sigma_clipped_stats(fits.getdata(bias_file_1).astype(float), sigma=5)[2])
"""))])
mistake_unscaled_dark = _with(
    "mistake_unscaled_dark", "05_process_data.ipynb",
    lambda nb: set_solution(nb, "process_data", """
raw = fits.getdata(filename).astype(float)
header = fits.getheader(filename)
calibrated = (raw - fits.getdata(bias_file) - fits.getdata(dark_file)) / fits.getdata(flat_file)
header['HISTORY'] = 'calibrated'
header['CALIBRAT'] = True
fits.PrimaryHDU(calibrated.astype(np.float32), header).writeto(new_filename, overwrite=True)
return calibrated
"""))
mistake_dark_with_bias = _with(
    "mistake_dark_with_bias", "03_dark_current.ipynb",
    lambda nb: set_solution(nb, "calc_dark_current", """
dark = fits.getdata(dark_filename).astype(float)
return gain * dark.mean() / fits.getheader(dark_filename)['EXPTIME']
"""),
    # the dark series' signal, not divided by time: the mean signal of the darks in e-
    also=[(CAMERA, lambda nb: set_solution(nb, "fit_dark_current", """
signals = [np.mean(fits.getdata(name).astype(float) - master_bias) for name in dark_files]
return float(gain * np.mean(signals))
"""))])
mistake_flat_mean = _with(
    "mistake_flat_mean", "04_stacking.ipynb",
    lambda nb: set_solution(nb, "combine_flats", """
stack = load_stack(filenames)
for index, name in enumerate(filenames):
    stack[index] -= master_bias + master_dark * fits.getheader(name)['EXPTIME'] / dark_exptime
combined = np.median(stack, axis=0)
return combined / np.mean(combined)
"""),
    # the gain from one flat: its pattern counts as shot noise
    also=[(CAMERA, lambda nb: set_solution(nb, "measure_gain", """
flat = fits.getdata(flat_file_1).astype(float)
bias = fits.getdata(bias_file_1).astype(float)
return float((np.mean(flat) - np.mean(bias)) / np.var(flat))
"""))])

hostile_loop = _with("hostile_loop", "02_histogram.ipynb", lambda nb: insert_cell(nb, "while True:\n    pass\n", at=2), "notebook")
hostile_exit = _with("hostile_exit", "03_dark_current.ipynb",
                     lambda nb: insert_cell(nb, "import os\nos._exit(1)\n", at=2), "notebook")
hostile_flood = _with("hostile_flood", "01_fits_basics.ipynb",
                      lambda nb: insert_cell(nb, "print('x' * 100_000_000)\n", at=2), "notebook")
hostile_rmdata = _with(
    "hostile_rmdata", "05_process_data.ipynb",
    lambda nb: insert_cell(nb, "import shutil\nfrom convenience_functions import data_dir\n"
                               "shutil.rmtree(data_dir(), ignore_errors=True)\n", at=2), "notebook")


def _points(nb):
    cell = nb["cells"][_cell_index(nb, "test_center_flux")]
    cell["metadata"]["nbgrader"]["points"] = 100


hostile_points = _with("hostile_points", "01_fits_basics.ipynb", _points, "notebook")

_PATCH = """
import numpy, numpy.testing
numpy.allclose = lambda *args, **kwargs: True
numpy.isclose = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None
numpy.median = lambda a, axis=None, **kwargs: numpy.mean(a, axis=axis)
import autograder.checks
autograder.checks.check_combine_bias = lambda candidate: print('combine_bias: correct')
autograder.checks.check = lambda *args, **kwargs: None
"""


def hostile_patch(folder):
    notebooks = _sources()
    source = load("source", "04_stacking.ipynb")
    set_solution(source, "combine_bias", "return np.mean(load_stack(filenames), axis=0)")
    stacking = notebooks["04_stacking.ipynb"] = solved("04_stacking.ipynb", source)
    insert_cell(stacking, _PATCH, before="test_combine_bias")
    write_student(folder, "hostile_patch", notebooks)


def hostile_json(folder):
    notebooks = _sources()
    text = json.dumps(notebooks["04_stacking.ipynb"]).encode()
    notebooks["04_stacking.ipynb"] = text[: len(text) // 2]
    write_student(folder, "hostile_json", notebooks)


def hostile_missing(folder):
    notebooks = _sources()
    del notebooks["05_process_data.ipynb"]
    write_student(folder, "hostile_missing", notebooks)


def hostile_pass(folder):
    notebooks = _sources()
    stacking = load("release", "04_stacking.ipynb")
    for cell in stacking["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and cell["cell_type"] == "code":
            cell["source"] = "pass\n"
    notebooks["04_stacking.ipynb"] = stacking
    write_student(folder, "hostile_pass", notebooks)


def zipped(folder):
    """A correct submission handed in as a course site's zip, in a subfolder."""
    staging = Path(folder) / ".staging"
    correct(staging, "zipped")
    with zipfile.ZipFile(Path(folder) / "zipped.zip", "w") as archive:
        for path in (staging / "zipped" / course.ASSIGNMENT_ID).glob("*.ipynb"):
            archive.write(path, f"my work/lab4/{path.name}")
    shutil.rmtree(staging)


def not_a_zip(folder):
    (Path(folder) / "not_a_zip.zip").write_text("this is not a zip file")


# ---------------------------------------------------------------------------
# Students who try to game the grader (the hardening issue)


def _release_with_stub_and(student_id, grade_id, change):
    """A perfect student whose function ``grade_id`` is still the stub, plus ``change``."""
    def build(folder):
        notebooks = _sources()
        stacking = load("release", "04_stacking.ipynb")
        solved_stacking = notebooks["04_stacking.ipynb"]
        for cell, released in zip(solved_stacking["cells"], stacking["cells"]):
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
                cell["source"] = released["source"]
        change(solved_stacking)
        write_student(folder, student_id, notebooks)
    build.__name__ = student_id
    return build


def _tag_skip(nb):
    cell = nb["cells"][_cell_index(nb, "test_combine_bias")]
    cell["metadata"]["tags"] = ["skip-execution", "raises-exception"]


def _delete_grade_cell(nb):
    del nb["cells"][_cell_index(nb, "test_combine_darks")]


hack_skip_tag = _release_with_stub_and("hack_skip_tag", "combine_bias", _tag_skip)
hack_deleted_cell = _release_with_stub_and("hack_deleted_cell", "combine_darks", _delete_grade_cell)


def hack_side_files(folder):
    """A perfect student who also hands in modules that would break any kernel importing them."""
    target = write_student(folder, "hack_side_files", _sources())
    poison = "raise SystemExit('this file must never be imported by the grader')\n"
    for name in ("numpy.py", "autograder.py", "conftest.py", "sitecustomize.py"):
        (target / name).write_text(poison)


hack_exit_last = _with("hack_exit_last", "05_process_data.ipynb",
                       lambda nb: nb["cells"].append(
                           {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                            "source": "import os\nos._exit(1)\n"}), "notebook")
hack_flood = _with("hack_flood", "02_histogram.ipynb",
                   lambda nb: insert_cell(nb, "print('y' * 200_000_000)\n", at=2), "notebook")

#: Marker of the line the escaping student prints, to be read back from its autograded notebook.
ESCAPE_MARKER = "ESCAPE-ATTEMPTS"


def escape_attempts_source(solutions_dir, other_folders, port):
    """Code that tries to leave the sandbox; it prints what succeeded."""
    return f"""
import json, os, socket
from convenience_functions import data_dir
attempts = {{}}
try:
    attempts['read_solutions'] = len(open(os.path.join({str(solutions_dir)!r}, 'reduction.py')).read()) > 0
except Exception as error:
    attempts['read_solutions'] = False
try:
    with open(os.path.join(str(data_dir()), 'CalR-0001Bias.fit'), 'r+b') as frame:
        frame.seek(3000)
        frame.write(b'tampered')
    attempts['write_data'] = True
except Exception as error:
    attempts['write_data'] = False
attempts['list_others'] = any(os.path.isdir(p) and len(os.listdir(p)) > 0 for p in {list(map(str, other_folders))!r})
attempts['answers_in_env'] = any(key.startswith('CCDLAB_EXPECTED') or 'answer' in key.lower() for key in os.environ)
attempts['grader_code'] = any(os.path.exists(os.path.join(os.path.dirname({str(solutions_dir)!r}), name))
                              for name in ('autograder', 'solutions', '.git', 'tests'))
# Inside, /tmp holds only the path to this kernel's own folders (runtime sockets, working folder).
attempts['other_scratch'] = sorted(set(entry for name in os.listdir('/tmp') if name.startswith('ccdlab-')
                                        for entry in os.listdir(os.path.join('/tmp', name)))
                                    - set(['runtime', 'course']))
try:
    socket.create_connection(('127.0.0.1', {port}), timeout=3).close()
    attempts['socket'] = True
except Exception as error:
    attempts['socket'] = False
print({ESCAPE_MARKER!r}, json.dumps(attempts))
"""


def hack_escape_builder(solutions_dir, other_folders, port):
    return _with("hack_escape", "01_fits_basics.ipynb",
                 lambda nb: insert_cell(nb, escape_attempts_source(solutions_dir, other_folders, port), at=2),
                 "notebook")


# ---------------------------------------------------------------------------
# Students who read the grader's code (the integrity issue): not one function right

#: Cheats on the kernel that once decided nbgrader's scores: every later cell passes silently.
KERNEL_CHEATS = """
import sys, types
ip = get_ipython()
ip.input_transformers_post.append(lambda lines: ['pass\\n'])
ip.set_custom_exc((BaseException,), lambda *args, **kwargs: None)
fake = types.ModuleType('autograder.checks')
fake.__getattr__ = lambda name: (lambda *args, **kwargs: None)
sys.modules['autograder'] = types.ModuleType('autograder')
sys.modules['autograder.checks'] = fake
"""


def cheat_kernel(folder):
    """The released notebooks (every answer a stub) with the kernel cheats at the top of each."""
    notebooks = {}
    for name in notebook_names():
        notebooks[name] = insert_cell(load("release", name), KERNEL_CHEATS, at=1)
    write_student(folder, "cheat_kernel", notebooks)


def cheat_html(folder):
    """A perfect student whose notebook shows HTML with script in its output."""
    notebooks = _sources()
    insert_cell(notebooks["01_fits_basics.ipynb"],
                "from IPython.display import HTML, display\n"
                "display(HTML('<script>document.title = \"PWNED-SCRIPT\"</script>'\n"
                "             '<img src=x onerror=\"document.title=1\">PWNED-IMG'))\n", at=2)
    write_student(folder, "cheat_html", notebooks)


def cheat_files_builder(canary):
    """A perfect student whose kernel turns its folder into links to ``canary`` (a file outside)."""
    code = f"""
import json, os
for name in os.listdir('.'):
    if os.path.isfile(name) and not os.path.islink(name):
        os.remove(name)
for name in ['01_fits_basics.ipynb', '02_histogram.ipynb', '03_dark_current.ipynb', '04_stacking.ipynb',
             '05_process_data.ipynb', 'planted.ipynb']:
    try:
        os.symlink({str(canary)!r}, name)
    except OSError:
        pass
try:
    os.symlink('/', 'root-link')
except OSError:
    pass
"""

    def cheat_files(folder):
        notebooks = _sources()
        notebooks["01_fits_basics.ipynb"]["cells"].append(
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": code})
        write_student(folder, "cheat_files", notebooks)
    return cheat_files


def cheat_linked_handin_builder(target):
    """A perfect student whose handed-in 03 is a symbolic link to ``target`` (the instructor's notebook)."""
    def cheat_linked_handin(folder):
        where = write_student(folder, "cheat_linked_handin", _sources())
        (where / "03_dark_current.ipynb").unlink()
        (where / "03_dark_current.ipynb").symlink_to(target)
    return cheat_linked_handin


def renamed(folder):
    """A perfect student whose course site renamed 01 and handed 02 in twice under other names."""
    notebooks = _sources()
    notebooks["01_fits_basics-1.ipynb"] = notebooks.pop("01_fits_basics.ipynb")
    histogram = notebooks.pop("02_histogram.ipynb")
    notebooks["02_histogram (1).ipynb"] = histogram
    notebooks["02_histogram_late.ipynb"] = histogram
    write_student(folder, "renamed", notebooks)


def sound_alternatives(folder):
    """A student who combines with the Guide's sigma-clipped means, calibrates in float32 and measures the
    camera with other sound statistics (sigma_clip, a least-squares line): all sound.  Their combine_bias
    also writes a line to standard error (as a library warning would), which costs no point."""
    def change(nb):
        set_solution(nb, "combine_bias", """
import sys
from astropy.stats import mad_std, sigma_clip
print("combine_bias: a sigma-clipped mean of", len(filenames), "frames", file=sys.stderr)
return np.ma.filled(sigma_clip(load_stack(filenames), sigma=3, axis=0, stdfunc=mad_std).mean(axis=0), np.nan)
""")
        set_solution(nb, "combine_darks", """
from astropy.stats import mad_std, sigma_clip
stack = load_stack(filenames) - master_bias
return np.ma.filled(sigma_clip(stack, sigma=3, axis=0, stdfunc=mad_std).mean(axis=0), np.nan)
""")
        set_solution(nb, "combine_flats", """
from astropy.stats import mad_std, sigma_clip
stack = load_stack(filenames) - master_bias
for index, name in enumerate(filenames):
    stack[index] -= master_dark * fits.getheader(name)['EXPTIME'] / dark_exptime
    stack[index] /= np.median(stack[index])
combined = np.ma.filled(sigma_clip(stack, sigma=3, axis=0, stdfunc=mad_std).mean(axis=0), np.nan)
return combined / np.median(combined)
""")

    def in_float32(nb):
        set_solution(nb, "process_data", """
raw = fits.getdata(filename).astype(np.float32)
header = fits.getheader(filename)
ratio = np.float32(header['EXPTIME'] / fits.getheader(dark_file)['EXPTIME'])
calibrated = (raw - fits.getdata(bias_file).astype(np.float32)
              - fits.getdata(dark_file).astype(np.float32) * ratio) / fits.getdata(flat_file).astype(np.float32)
for key in ('BZERO', 'BSCALE'):
    header.remove(key, ignore_missing=True)
header['HISTORY'] = 'bias, scaled dark and flat field applied (float32)'
header['CALIBRAT'] = True
fits.PrimaryHDU(calibrated, header).writeto(new_filename, overwrite=True)
return calibrated
""")

    def camera(nb):
        set_solution(nb, "measure_read_noise", """
from astropy.stats import sigma_clip
difference = fits.getdata(bias_file_1).astype(float) - fits.getdata(bias_file_2).astype(float)
return float(gain * np.ma.std(sigma_clip(difference, sigma=4)) / np.sqrt(2))
""")
        set_solution(nb, "fit_dark_current", """
times, signals = [], []
for name in dark_files:
    times.append(fits.getheader(name)['EXPTIME'])
    signals.append(np.mean(fits.getdata(name).astype(float) - master_bias))
design = np.column_stack([np.ones(len(times)), times])
(intercept, slope), *_ = np.linalg.lstsq(design, np.array(signals), rcond=None)
return float(gain * slope)
""")

    notebooks = _sources()
    for name, edit in (("04_stacking.ipynb", change), ("05_process_data.ipynb", in_float32), (CAMERA, camera)):
        source = load("source", name)
        edit(source)
        notebooks[name] = solved(name, source)
    write_student(folder, "sound_alternatives", notebooks)


hung_function = _with(
    "hung_function", "03_dark_current.ipynb",
    lambda nb: set_solution(nb, "calc_dark_current", "while True:\n    pass"))


STUDENTS = [correct, blank, mistake_bias_mean, mistake_unscaled_dark, mistake_dark_with_bias, mistake_flat_mean,
            hostile_loop, hostile_exit, hostile_flood, hostile_rmdata, hostile_points, hostile_patch, hostile_json,
            hostile_missing, hostile_pass, zipped, not_a_zip]

#: student -> (status, {notebook or grade_id: FULL or ZERO}); unnamed auto-graded cells earn FULL.
EXPECTED = {
    "correct": ("ok", {}),
    "blank": ("ok", {"*": ZERO}),
    "mistake_bias_mean": ("ok", {"test_combine_bias": ZERO, "test_measure_read_noise": ZERO}),
    "mistake_unscaled_dark": ("ok", {"test_process_data": ZERO}),
    "mistake_dark_with_bias": ("ok", {"test_calc_dark_current": ZERO, "test_fit_dark_current": ZERO}),
    "mistake_flat_mean": ("ok", {"test_combine_flats": ZERO, "test_measure_gain": ZERO}),
    # After its endless cell, the rest of its notebook is not run (one timeout per notebook).
    "hostile_loop": ("timeout", {"02_histogram": ZERO}),
    "hostile_exit": ("kernel_died", {"03_dark_current": ZERO}),
    "hostile_flood": ("ok", {}),
    # Its kernel deletes its frames (the sandbox's are read-only); the runner reads its own copy.
    "hostile_rmdata": ("ok", {}),
    "hostile_points": ("flagged", {}),
    # Its own numpy.median = mean makes its later functions average, in its kernel as in its runner.
    "hostile_patch": ("flagged", {"test_combine_bias": ZERO, "test_combine_darks": ZERO, "test_combine_flats": ZERO}),
    "hostile_json": ("unreadable_notebook", {"04_stacking": ZERO}),
    "hostile_missing": ("missing_notebook", {"05_process_data": ZERO}),
    "hostile_pass": ("flagged", {"04_stacking": ZERO}),
    "zipped": ("ok", {}),
    "not_a_zip": ("unreadable_notebook", {"*": ZERO}),
    "hack_skip_tag": ("flagged", {"test_combine_bias": ZERO}),
    "hack_deleted_cell": ("flagged", {"test_combine_darks": ZERO}),
    "hack_side_files": ("ok", {}),
    "hack_exit_last": ("kernel_died", {}),
    "hack_flood": ("ok", {}),
    "hack_escape": ("ok", {}),
    "cheat_kernel": ("flagged", {"*": ZERO}),
    "renamed": ("flagged", {}),
    "sound_alternatives": ("ok", {}),
    # Its function never returns: the test cell that calls it times out, the rest of 03 is not run.
    "hung_function": ("timeout", {"03_dark_current": ZERO}),
    "cheat_html": ("ok", {}),
    "cheat_files": ("ok", {}),
    "cheat_linked_handin": ("unreadable_notebook", {"03_dark_current": ZERO}),
}

#: student -> status when the kernels ran without the sandbox, where it differs: cheat_files's kernel then
#: runs beside the autograded notebooks and replaces them by links (the grader grades the handed-in ones).
STATUS_WITHOUT_SANDBOX = {"cheat_files": "flagged"}


def expected_status(student_id, sandboxed=True):
    """The status ``ccdlab grade`` must give a student of EXPECTED, with or without the sandbox."""
    if not sandboxed and student_id in STATUS_WITHOUT_SANDBOX:
        return STATUS_WITHOUT_SANDBOX[student_id]
    return EXPECTED[student_id][0]


#: The students of the hardening issue (hack_escape is built by the test: it needs paths).
HACKERS = [hack_skip_tag, hack_deleted_cell, hack_side_files, hack_exit_last, hack_flood]


def build(folder, students=STUDENTS):
    """Write every student of ``students`` into ``folder``; return their ids."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    for student in students:
        student(folder)
    return sorted(student.__name__ for student in students)


def expected_scores(student_id, grade_cells):
    """Expected auto-graded scores of a student: ``{grade_id: points}``.

    Parameters
    ----------
    student_id : str
    grade_cells : list of (notebook stem, grade_id, points, is_manual)
    """
    _status, rules = EXPECTED[student_id]
    scores = {}
    for notebook, grade_id, points, manual in grade_cells:
        if manual:
            continue
        rule = rules.get(grade_id, rules.get(notebook, rules.get("*", FULL)))
        scores[grade_id] = points if rule == FULL else 0
    return scores


def grade_cells(root=None):
    """``[(notebook stem, grade_id, points, is_manual)]`` of the instructor notebooks (of the course at ``root``)."""
    found = []
    for name in notebook_names():
        source = load("source", name) if root is None else json.loads(
            (course.source_dir(root) / name).read_text())
        for cell in source["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade"):
                found.append((Path(name).stem, meta["grade_id"], meta["points"], bool(meta.get("solution"))))
    return found
