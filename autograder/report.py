"""What an instructor reads after grading: ``grades.csv`` and ``summary.png``."""

import csv
import json
from pathlib import Path

from . import course

CSV_FILE = "grades.csv"
SUMMARY_FILE = "summary.png"


def grade_ids_in_order(root=course.REPO_ROOT):
    """Return ``[(grade_id, points)]`` of every graded cell, in notebook order."""
    found = []
    for path in sorted(course.source_dir(root).glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade"):
                found.append((meta["grade_id"], meta.get("points", 0)))
    return found


def _score(entry, grade_id):
    score = entry.get("scores", {}).get(grade_id)
    if score is None:
        return 0.0
    return float(score[0] or 0.0)


def _pending(entry, grade_id):
    """Whether a hand-graded cell still waits for its grade (score None)."""
    score = entry.get("scores", {}).get(grade_id)
    return score is not None and score[0] is None


def total(entry, grade_ids):
    """Sum of a student's scores so far (hand grades count once given)."""
    return sum(_score(entry, grade_id) for grade_id, _ in grade_ids)


def pending(entry, grade_ids):
    """How many of a student's hand-graded cells wait for their grade."""
    return sum(_pending(entry, grade_id) for grade_id, _ in grade_ids)


#: The columns after the per-cell scores.
TAIL_COLUMNS = ["total", "max_total", "pending", "status", "reason"]


def write_csv(path, rows, grade_ids):
    """Write one row per student: id, a column per grade_id, totals, status.

    A hand-graded cell not graded yet is an empty cell, counted in ``pending``;
    ``total`` is the sum of the cells graded so far.

    Parameters
    ----------
    path : pathlib.Path
    rows : dict
        Student id -> entry (``scores``: grade_id -> [score or None, max, ...],
        ``status``, ``reason``).
    grade_ids : list of (str, float)
    """
    max_total = sum(points for _, points in grade_ids)
    columns = ["student_id"] + [grade_id for grade_id, _ in grade_ids] + TAIL_COLUMNS
    temporary = Path(path).with_suffix(".tmp")
    with open(temporary, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for student in sorted(rows):
            entry = rows[student]
            scores = []
            for grade_id, _ in grade_ids:
                score = entry.get("scores", {}).get(grade_id)
                scores.append("" if score is None or score[0] is None else f"{float(score[0]):g}")
            writer.writerow([student] + scores + [f"{total(entry, grade_ids):g}", f"{max_total:g}",
                                                  str(pending(entry, grade_ids)), entry.get("status", ""),
                                                  entry.get("reason", "")])
    temporary.replace(path)


def read_csv(path):
    """Read ``grades.csv`` back as a list of dicts (for tests and tools)."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write_summary_plot(path, rows, grade_ids):
    """Histogram of totals and mean score per question (graded cells only), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    totals = [total(entry, grade_ids) for entry in rows.values()]
    max_total = sum(points for _, points in grade_ids) or 1
    fractions, waiting = [], []
    for grade_id, points in grade_ids:
        graded = [_score(entry, grade_id) / points for entry in rows.values()
                  if points and not _pending(entry, grade_id)]
        fractions.append(float(np.mean(graded)) if graded else 0.0)
        waiting.append(sum(_pending(entry, grade_id) for entry in rows.values()))
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1, 1.6]})
    left.hist(totals, bins=np.linspace(0, max_total, 21), color="tab:blue", edgecolor="white")
    left.yaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel(f"Total score so far (out of {max_total:g})")
    left.set_ylabel("Number of students")
    left.set_title(f"Totals of {len(totals)} students")
    positions = np.arange(len(grade_ids))
    colors = ["tab:gray" if count else "tab:green" for count in waiting]
    right.barh(positions, [100 * f for f in fractions], color=colors)
    for position, count in zip(positions, waiting):
        if count:
            right.text(1, position, f"{count} pending (graded by hand)", va="center", fontsize=8)
    right.set_yticks(positions, [grade_id for grade_id, _ in grade_ids], fontsize=8)
    right.invert_yaxis()
    right.set_xlim(0, 100)
    right.set_xlabel("Mean score of the graded (% of the question's points)")
    right.set_title("Mean score per question (grey: some still to grade by hand)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
