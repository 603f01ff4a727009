"""What reaches students, and the proof that it holds no answers.

Students receive the files of :func:`student_files` (the student notebooks,
the helpers in ``convenience_functions/``, the frames folder with the raw
frames and the given master frames) and, in the bundle, a ``README.txt`` and
a ``requirements.txt``.  :func:`scan` reads every one of them (notebook
cells, lines of text, FITS header cards) and reports, naming the file and
the place:

* a line of a solution or of a hidden test of an instructor notebook;
* an nbgrader marker;
* a reference answer: a number of the truth file, as printed there or
  rounded to 2 to 4 decimals (only values with at least 3 significant
  digits, and renderings that keep 3, so that numbers such as 2, 60 or 0.50
  do not count; facts every student is told, such as the gain, the
  exposure times or the seed, are not answers);
* the name of a file or command students do not have (the simulator, the
  ``ccdlab`` commands, ``solutions``, the autograder, the truth file);
* a Python module that defines a graded function (their names are read
  from the solution cells);
* a truth file, or a file it cannot read;

and, in notebooks, stored outputs and imports of instructor code.
"""

import ast
import io
import json
import re
from pathlib import Path

import nbformat

from . import course

#: Keys of the truth file (dotted for nested ones) that every student is told (headers, lab.py, night.json).
GIVEN_FACTS = frozenset({
    "generator_version", "seed", "shape", "gain_e_per_adu", "saturation_adu", "dark_exptime_s",
    "science_exptime_s", "flat_exptimes_s", "frames", "given_masters", "ptc_exptimes_s", "dark_series_exptimes_s",
    "night.bias_histogram_range_adu",
})

#: Outside notebooks, a solution line counts from this length on: shorter
#: ones (``if ax is None:``, ``return stack``) are common idioms.
MIN_LINE_CHARS_OUTSIDE_NOTEBOOKS = 20

#: A number counts as an answer from this many significant digits on.
MIN_SIGNIFICANT_DIGITS = 3

#: Names of files and commands a student does not have, and what they are.
FOREIGN_NAMES = (
    (re.compile(r"\bsimulate\.py\b|\bsample_data\.simulate\b"), "the simulator"),
    (re.compile(r"\bccdlab(?:\.sh)?\s+(?:data|grade|release|check|lab|test)\b"), "a ccdlab command"),
    (re.compile(r"\bccdlab\.sh\b"), "the course's launcher script"),
    (re.compile(r"\bsolutions(?:/|\.[A-Za-z_])|\b(?:import|from)\s+solutions\b"), "the instructor solutions"),
    (re.compile(r"\bautograder\b"), "the grader's code"),
    (re.compile(r"\w*truth\.json\b"), "the truth file"),
)

_TEXT_SUFFIXES = (".py", ".txt", ".json", ".md", ".cfg", ".toml", ".csv", ".rst")
_FITS_SUFFIXES = (".fit", ".fits", ".fts")
_TRIVIAL = {"", "pass", "else:", "try:", "return", "}", ")", "]"}


# ---------------------------------------------------------------------------
# What students receive


def frames_dir(root):
    """Return the frames folder of the course at ``root`` (what students receive): its night's, or the bundled."""
    from convenience_functions.paths import course_data_dir

    return course_data_dir(root)


def student_files(root):
    """Return every file of ``root`` that reaches students.

    Parameters
    ----------
    root : pathlib.Path
        Course root.

    Returns
    -------
    dict
        Name in the bundle (``01_fits_basics.ipynb``,
        ``convenience_functions/lab.py``, ``sample_data/frames/...``) ->
        path.  Hidden files (a leading dot) are left out, as the bundle
        and the grader leave them out.
    """
    from convenience_functions.paths import BUNDLED_DATA_SUBDIR

    root = Path(root)
    files = {}
    for notebook in sorted(course.release_dir(root).glob("*.ipynb")):
        files[notebook.name] = notebook
    for module in sorted((root / "convenience_functions").glob("*.py")):
        files[f"convenience_functions/{module.name}"] = module
    folder = frames_dir(root)
    if folder.is_dir():  # the course's frames go where the bundle's helpers look for them
        for frame in sorted(folder.rglob("*")):
            relative = frame.relative_to(folder)
            if frame.is_file() and not any(part.startswith(".") for part in relative.parts):
                files[f"{BUNDLED_DATA_SUBDIR.as_posix()}/{relative.as_posix()}"] = frame
    return files


# ---------------------------------------------------------------------------
# What students must not see


def _split(notebook):
    """Return the (secret, public) lines of an instructor notebook, stripped.

    The public part is what nbgrader's own ``ClearHiddenTests`` and
    ``ClearSolutions`` leave of each cell; the secret part is the rest.
    """
    import copy

    hide, clear = course.region_parsers()
    secret, public = set(), set()
    for cell in notebook.cells:
        lines = {line.strip() for line in cell.source.splitlines()}
        shown = copy.deepcopy(cell)
        try:
            hide._remove_hidden_test_region(shown)
            replaced = clear._replace_solution_region(shown, "python")
        except RuntimeError:  # a broken region (ccdlab check names it): all of the cell is secret
            secret |= lines
            continue
        if not replaced and cell.metadata.get("nbgrader", {}).get("solution"):
            secret |= lines  # a solution cell without markers: all of it
            continue
        kept = {line.strip() for line in shown.source.splitlines()}
        secret |= lines - kept
        public |= kept
    return secret, public


def _meaningful(lines):
    return {line for line in lines if line not in _TRIVIAL and not line.startswith("#")}


def secret_lines(source_notebook):
    """Return the lines of an instructor notebook that students must not see.

    These are the lines of solution regions, hidden-test regions and
    whole solution cells, less any line that also appears in the public part
    of the notebook (a ``return`` can be both), blank lines and comments.

    Parameters
    ----------
    source_notebook : nbformat.NotebookNode

    Returns
    -------
    set of str
        Stripped lines.
    """
    secret, public = _split(source_notebook)
    return _meaningful(secret - public)


def graded_functions(source_notebooks):
    """Return the names of the functions that solution cells define."""
    names = set()
    for notebook in source_notebooks:
        for cell in notebook.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                names.update(re.findall(r"^\s*def\s+(\w+)\s*\(", cell.source, flags=re.MULTILINE))
    return names


def _significant(text, strip_trailing_zeros):
    digits = text.lstrip("-+").replace(".", "").lstrip("0")
    return len(digits.rstrip("0") if strip_trailing_zeros else digits)


def _renderings(value):
    """Yield the ways a truth number would be printed, if it is precise enough to be an answer."""
    if isinstance(value, int):
        if _significant(str(value), False) >= MIN_SIGNIFICANT_DIGITS:
            yield str(value)
        return
    printed = repr(float(value))
    if "e" in printed or "n" in printed or _significant(printed, True) < MIN_SIGNIFICANT_DIGITS:
        return
    yield printed
    for decimals in (2, 3, 4):
        rounded = f"{value:.{decimals}f}"
        if _significant(rounded, False) >= MIN_SIGNIFICANT_DIGITS:
            yield rounded


def answer_values(truth):
    """Map every printed form of a reference answer in ``truth`` to its key.

    Parameters
    ----------
    truth : dict
        The truth file of the bundled night.

    Returns
    -------
    dict
        Text such as ``'1500.18'`` -> key such as ``'bias_level_adu'``.
    """
    found = {}

    def walk(value, key):
        if key in GIVEN_FACTS:
            return
        if isinstance(value, dict):
            for name, item in value.items():
                walk(item, f"{key}.{name}" if key else name)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{key}[{index}]")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            for text in _renderings(value):
                found.setdefault(text, key)

    walk(truth, "")
    return found


def _imported(folder):
    """True if the night in ``folder`` was imported from real frames (its night.json names a source folder)."""
    from convenience_functions import night

    try:
        return "folder" in night.read(folder).get("source", {})
    except ValueError:
        return False


class Secrets:
    """Everything :func:`scan` looks for, read once from the course at ``root``.

    Attributes
    ----------
    lines : set of str
        Solution and hidden-test lines of all instructor notebooks.
    graded : set of str
        Names of the graded functions.
    values : dict
        Printed reference answer -> truth key (:func:`answer_values`).
    problems : list of str
        What could not be read (a missing truth file): reported by
        :func:`scan`, so that a check never passes without it.
    """

    def __init__(self, root):
        from sample_data.simulate import truth_path

        sources = [nbformat.read(str(path), as_version=4)
                   for path in sorted(course.source_dir(root).glob("*.ipynb"))]
        secret, public = set(), set()
        for notebook in sources:
            notebook_secret, notebook_public = _split(notebook)
            secret |= notebook_secret
            public |= notebook_public
        self.lines = _meaningful(secret - public)
        self.graded = graded_functions(sources)
        self.problems = [] if sources else [f"no instructor notebooks in {course.source_dir(root)}"]
        self.truth_file = truth_path(frames_dir(root))
        self.values = {}
        if _imported(frames_dir(root)):
            self.truth_file = None  # an observatory's frames: no truth exists, no answer of it can leak
        else:
            try:
                self.values = answer_values(json.loads(self.truth_file.read_text(encoding="utf-8")))
            except (OSError, ValueError) as error:
                self.problems.append(f"cannot check for reference answers: truth file {self.truth_file}: {error}")
        pattern = "|".join(re.escape(text) for text in sorted(self.values, key=len, reverse=True))
        self._values_re = re.compile(rf"(?<![\d.])(?:{pattern})(?!\.?\d)") if pattern else None

    def find_values(self, text):
        """Return the reference answers printed in ``text``, as (text, key) pairs."""
        if self._values_re is None:
            return []
        return [(match.group(0), self.values[match.group(0)]) for match in self._values_re.finditer(text)]


# ---------------------------------------------------------------------------
# Reading a file as places and lines of text


def _notebook_places(data):
    notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    for index, cell in enumerate(notebook.cells):
        yield f"cell {index}", cell.source.splitlines(), cell


def _fits_cards(data):
    from astropy.io import fits

    with fits.open(io.BytesIO(data), lazy_load_hdus=False) as hdulist:
        for hdu_index, hdu in enumerate(hdulist):
            for card_index, card in enumerate(hdu.header.cards):
                yield f"HDU {hdu_index} card {card_index}", str(card).rstrip()


def _places(name, data):
    """Yield (place, lines, cell or None) for every part of a file that a student can read."""
    suffix = Path(name).suffix.lower()
    if suffix == ".ipynb":
        yield from _notebook_places(data)
    elif suffix in _FITS_SUFFIXES:
        for place, text in _fits_cards(data):
            yield place, [text], None
    elif suffix in _TEXT_SUFFIXES:
        for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
            yield f"line {number}", [line], None
    else:
        raise ValueError("not a kind of file the scan can read (notebook, text or FITS)")


# ---------------------------------------------------------------------------
# The scan


def _line_problems(line, secrets, in_notebook):
    stripped = line.strip()
    markers = course.SOLUTION_MARKERS + course.HIDDEN_TEST_MARKERS
    long_enough = in_notebook or len(stripped) >= MIN_LINE_CHARS_OUTSIDE_NOTEBOOKS
    if any(marker.lstrip("# ") in line for marker in markers):
        yield f"nbgrader marker left in: {stripped!r}"
    elif long_enough and stripped in secrets.lines:
        yield f"solution or hidden-test line: {stripped!r}"
    for text, key in secrets.find_values(line):
        yield f"reference answer {key} = {text} (truth file): {stripped[:100]!r}"
    for pattern, what in FOREIGN_NAMES:
        match = pattern.search(line)
        if match:
            yield f"names {what}, which students do not have ({match.group(0)!r}): {stripped[:100]!r}"


def _notebook_cell_problems(cell):
    if cell.cell_type != "code":
        return
    if cell.get("outputs"):
        yield "stored outputs (may show a solution's results)"
    for line in cell.source.splitlines():
        words = line.replace(",", " ").split()
        if words[:1] in (["import"], ["from"]) and any(
            w.split(".")[0] in ("solutions", "autograder") for w in words[1:2]
        ):
            yield f"imports instructor code: {line.strip()!r}"


def _defined_names(source):
    """Names a Python module defines (functions, classes, assigned names)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
    return names


def scan(contents, secrets):
    """Report everything of ``contents`` that students must not receive.

    Parameters
    ----------
    contents : dict
        Name of a file as students receive it -> its bytes.
    secrets : Secrets

    Returns
    -------
    list of str
        One message per problem, each naming the file and the place.
    """
    problems = list(secrets.problems)
    for name, data in contents.items():
        if "truth" in Path(name).name.lower():
            problems.append(f"{name}: a truth file: the reference answers must stay with the course")
        try:
            places = list(_places(name, data))
        except Exception as error:  # unreadable file: fail closed
            problems.append(f"{name}: cannot scan it: {error}")
            continue
        in_notebook = name.endswith(".ipynb")
        for place, lines, cell in places:
            for line in lines:
                problems.extend(f"{name} {place}: {problem}"
                                for problem in _line_problems(line, secrets, in_notebook))
            if cell is not None:
                problems.extend(f"{name} {place}: {problem}" for problem in _notebook_cell_problems(cell))
        if name.endswith(".py"):
            try:
                defined = _defined_names(data.decode("utf-8"))
            except SyntaxError as error:
                problems.append(f"{name}: cannot parse it: {error}")
                continue
            for function in sorted(defined & secrets.graded):
                problems.append(f"{name}: defines {function}, a graded function (students write it)")
    return problems


def scan_course(root, extra=None):
    """Scan every file of ``root`` that reaches students, and ``extra`` ones.

    Parameters
    ----------
    root : pathlib.Path
        Course root.
    extra : dict, optional
        Name -> bytes of generated files (the bundle's README.txt, ...).

    Returns
    -------
    list of str
        As :func:`scan`, plus a line for a missing notebook or frames folder.
    """
    files = student_files(root)
    problems = []
    if not any(name.endswith(".ipynb") for name in files):
        problems.append(f"no student notebooks in {course.release_dir(root)}")
    if not frames_dir(root).is_dir():
        problems.append(f"no frames folder {frames_dir(root)}")
    contents = {name: path.read_bytes() for name, path in files.items()}
    contents.update(extra or {})
    return problems + scan(contents, Secrets(root))
