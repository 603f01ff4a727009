"""The coordinator's bookkeeping, without grading anyone: fast tests of autograder.classgrade."""

import json

from autograder import classgrade, report, worker
from autograder.submissions import Submission


def test_a_result_that_cannot_be_saved_marks_only_its_student(tmp_path, capsys):
    out = classgrade.check_results_folder(tmp_path / "results")
    classgrade.prepare_results_course(out)
    broken = worker.StudentResult("broken", "f1", autograded={"01_fits_basics.ipynb": "{not json"},
                                  scores={"test_center_flux": [3.0, 3.0, False]})
    fine = worker.StudentResult("fine", "f2", scores={"test_center_flux": [3.0, 3.0, False]})
    entry = classgrade.record_result(out, Submission("broken", {}), broken)
    assert entry["status"] == "error" and "could not be saved" in entry["reason"]
    assert entry["fingerprint"] == ""  # graded again next time
    assert "broken" in capsys.readouterr().err
    good = classgrade.record_result(out, Submission("fine", {}), fine)
    assert good["status"] == "ok" and good["scores"] == fine.scores


def test_the_second_night_seed_is_kept_per_results_folder(tmp_path):
    first = classgrade.run_seed(tmp_path)
    assert classgrade.run_seed(tmp_path) == first
    assert json.loads((tmp_path / classgrade.RUN_FILE).read_text())["seed"] == first
    other = tmp_path / "other"
    other.mkdir()
    assert classgrade.run_seed(other) != first  # 1 chance in 2**31 of a false failure


def test_grades_csv_is_written_from_the_entries(tmp_path):
    grade_ids = report.grade_ids_in_order()
    rows = {"a": {"scores": {grade_ids[0][0]: [1.0, grade_ids[0][1], False]}, "status": "ok", "reason": ""}}
    report.write_csv(tmp_path / "g.csv", rows, grade_ids)
    (row,) = report.read_csv(tmp_path / "g.csv")
    assert float(row["total"]) == 1.0 and float(row["max_total"]) == sum(p for _, p in grade_ids)


def test_the_summary_plot_shows_pending_hand_grades(tmp_path):
    grade_ids = report.grade_ids_in_order()
    manual = grade_ids[4]
    rows = {"a": {"scores": {manual[0]: [None, manual[1], True]}}, "b": {"scores": {manual[0]: [2.0, manual[1], False]}}}
    report.write_summary_plot(tmp_path / "s.png", rows, grade_ids)
    assert (tmp_path / "s.png").stat().st_size > 10_000
    assert report.pending(rows["a"], grade_ids) == 1 and report.total(rows["a"], grade_ids) == 0
