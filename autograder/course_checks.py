"""What ``ccdlab release`` and ``ccdlab check`` prove about the instructor notebooks.

Each function returns a list of problems, one line each, naming the
notebook and the cell by its nbgrader ``grade_id`` (or, for a cell without
one, its number and first line), so a TA can find it:

* :func:`marker_problems` -- a solution or hidden-test region opened and not
  closed (or closed and not opened), found before nbgrader stops on it;
* :func:`points_problems` -- a question whose "(N points)" differs from the
  points of the cell that grades it;
* :func:`given_answer_problems` -- a graded answer (the variable or function
  a grade cell checks) defined in code the student is given, or a line of an
  answer left after the stub (moved out of the solution markers).

:func:`points_table` is what ``ccdlab release`` prints.
"""

import ast
import json
import re
from pathlib import Path

from . import course

_POINTS = re.compile(r"\((\d+(?:\.\d+)?) points?\)")


def _cells(path):
    return json.loads(Path(path).read_text()).get("cells", [])


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def cell_name(cell, index):
    """How a TA finds a cell: its grade_id, or its number and first line."""
    grade_id = _meta(cell).get("grade_id")
    if grade_id:
        return f"cell {grade_id}"
    first = next((line.strip() for line in course.cell_source(cell).splitlines() if line.strip()), "")
    return f"cell {index + 1} ({first[:40]!r})"


def marker_problems(root=course.REPO_ROOT):
    """Solution or hidden-test regions nbgrader cannot parse (unclosed, nested), named by notebook and cell.

    nbgrader's own ``ClearSolutions`` and ``ClearHiddenTests`` parse each cell
    (their messages, such as "No end solution statement found", are kept); a
    stray end marker, which nbgrader passes over, is reported too.
    """
    import copy

    import nbformat

    hide, clear = course.region_parsers()
    problems = []
    for path in sorted(course.source_dir(root).glob("*.ipynb")):
        for index, cell in enumerate(_cells(path)):
            where = f"{path.name}, {cell_name(cell, index)}"
            node = nbformat.from_dict(copy.deepcopy(cell))
            node.source = course.cell_source(cell)
            for parse, (begin, end) in ((lambda: clear._replace_solution_region(node, "python"),
                                         course.SOLUTION_MARKERS),
                                        (lambda: hide._remove_hidden_test_region(node), course.HIDDEN_TEST_MARKERS)):
                try:
                    parse()
                except RuntimeError as error:
                    problems.append(f"{where}: {error}")
                    continue
                if end in node.source:  # what nbgrader left: an end marker it did not pair
                    problems.append(f"{where}: {end} without {begin}")
    return problems


def points_table(root=course.REPO_ROOT):
    """``[(notebook, [(grade_id, points)])]`` of the instructor notebooks."""
    table = []
    for path in sorted(course.source_dir(root).glob("*.ipynb")):
        graded = [(_meta(cell)["grade_id"], float(_meta(cell).get("points", 0)))
                  for cell in _cells(path) if _meta(cell).get("grade")]
        table.append((path.name, graded))
    return table


def points_problems(root=course.REPO_ROOT):
    """Questions whose stated "(N points)" differ from their grade cell's points."""
    problems = []
    for path in sorted(course.source_dir(root).glob("*.ipynb")):
        cells = _cells(path)
        for index, cell in enumerate(cells):
            if cell.get("cell_type") != "markdown" or _meta(cell).get("grade"):
                continue
            stated = _POINTS.search(course.cell_source(cell))
            if not stated:
                continue
            grading = next((c for c in cells[index + 1:] if _meta(c).get("grade")), None)
            if grading is None:
                continue
            points = float(_meta(grading).get("points", 0))
            if float(stated.group(1)) != points:
                problems.append(f"{path.name}, {cell_name(cell, index)}: says {stated.group(0)} but "
                                f"{_meta(grading)['grade_id']} is worth {points:g}")
    return problems


def _graded_answers(path):
    """Names a notebook's grade cells check (``test_X`` -> ``X``), with the answer cells' ids."""
    names = set()
    for cell in _cells(path):
        grade_id = _meta(cell).get("grade_id", "")
        if _meta(cell).get("grade") and not _meta(cell).get("solution") and grade_id.startswith("test_"):
            names.add(grade_id[len("test_"):])
    return names


def _defined(source):
    """Names a piece of code defines at any level (functions, classes, assignments)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names


def given_answer_problems(root=course.REPO_ROOT):
    """Graded answers defined in the student notebooks outside their answer cells."""
    problems = []
    for path in sorted(course.release_dir(root).glob("*.ipynb")):
        answers = _graded_answers(path)
        for index, cell in enumerate(_cells(path)):
            if cell.get("cell_type") != "code":
                continue
            source = course.cell_source(cell)
            if _meta(cell).get("solution"):
                lines = source.splitlines()
                stubs = [i for i, line in enumerate(lines) if "raise NotImplementedError" in line]
                if stubs:
                    stub = lines[stubs[-1]]
                    indent = len(stub) - len(stub.lstrip())
                    after = [line for line in lines[stubs[-1] + 1:] if line.strip()]
                    inside = [line for line in after if indent and len(line) - len(line.lstrip()) >= indent]
                    if inside:
                        problems.append(f"{path.name}, {cell_name(cell, index)}: a line of the answer follows the "
                                        f"stub (moved below ### END SOLUTION?): {inside[0].strip()!r}")
                continue
            if _meta(cell).get("grade"):
                continue
            for name in sorted(_defined(source) & answers):
                problems.append(f"{path.name}, {cell_name(cell, index)}: defines {name}, a graded answer, in code "
                                "the student is given")
    return problems
