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


def total(entry, grade_ids):
    """Sum of a student's scores so far (manual grades count once given)."""
    return sum(_score(entry, grade_id) for grade_id, _ in grade_ids)


def write_csv(path, rows, grade_ids):
    """Write one row per student: id, a column per grade_id, totals, status.

    Parameters
    ----------
    path : pathlib.Path
    rows : dict
        Student id -> state entry (``scores``, ``status``, ``reason``).
    grade_ids : list of (str, float)
    """
    max_total = sum(points for _, points in grade_ids)
    columns = ["student_id"] + [grade_id for grade_id, _ in grade_ids] + ["total", "max_total", "status", "reason"]
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
                                                  entry.get("status", ""), entry.get("reason", "")])
    temporary.replace(path)


def read_csv(path):
    """Read ``grades.csv`` back as a list of dicts (for tests and tools)."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write_summary_plot(path, rows, grade_ids):
    """Histogram of totals and mean score per question, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    totals = [total(entry, grade_ids) for entry in rows.values()]
    max_total = sum(points for _, points in grade_ids) or 1
    fractions = [
        np.mean([_score(entry, grade_id) / points for entry in rows.values()]) if points and rows else 0.0
        for grade_id, points in grade_ids
    ]
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1, 1.6]})
    left.hist(totals, bins=np.linspace(0, max_total, 21), color="tab:blue", edgecolor="white")
    left.set_xlabel(f"Total score (out of {max_total:g})")
    left.set_ylabel("Number of students")
    left.set_title(f"Totals of {len(totals)} students")
    positions = np.arange(len(grade_ids))
    right.barh(positions, [100 * f for f in fractions], color="tab:green")
    right.set_yticks(positions, [grade_id for grade_id, _ in grade_ids], fontsize=8)
    right.invert_yaxis()
    right.set_xlim(0, 100)
    right.set_xlabel("Mean score (% of the question's points)")
    right.set_title("Mean score per question")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
