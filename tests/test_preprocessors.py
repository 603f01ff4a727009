"""The course's nbgrader preprocessors on small notebooks built here (as nbgrader's own tests do)."""

import nbformat
import pytest

from autograder.preprocessors import GuardedExecute, HideHiddenTests


def _run(cells, timeout):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A notebook")]
                                        + [nbformat.v4.new_code_cell(source) for source in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    step = GuardedExecute(timeout=timeout, interrupt_on_timeout=True, allow_errors=True)
    step.shutdown_kernel = "immediate"
    notebook, _ = step.preprocess(notebook, {"metadata": {"path": "."}})
    return notebook


@pytest.mark.timeout(120)
def test_after_a_timeout_the_rest_of_the_notebook_is_not_run_and_the_function_is_named():
    notebook = _run(["def hang():\n    while True:\n        pass\n", "x = 1\nhang()\n", "y = 2\n", "print('never')\n"],
                    timeout=3)
    enames = [[output.get("ename") for output in cell.get("outputs", []) if output.output_type == "error"]
              for cell in notebook.cells]
    assert "CellTimeoutError" in enames[2]
    assert enames[3] == ["NotRun"] and enames[4] == ["NotRun"]
    message = notebook.cells[3].outputs[0].evalue
    assert "cell 3 ('x = 1') ran longer than 3 s" in message and "in hang" in message


def test_hidden_tests_are_hidden_and_tracebacks_cut():
    cell = nbformat.v4.new_code_cell("assert True\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS\n")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_x", "points": 1}
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="no",
                                           traceback=["File <cell>, line 3", "secret()", "AssertionError: no"])]
    cell, _ = HideHiddenTests().preprocess_cell(cell, {}, 0)
    assert "secret()" not in cell.source and cell.outputs[0].traceback == ["AssertionError: no"]


def test_hidden_tests_are_found_by_nbgrader_s_own_parser():
    cell = nbformat.v4.new_code_cell("assert True\n### BEGIN HIDDEN TESTS\nsecret()\n")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_x", "points": 1}
    with pytest.raises(RuntimeError, match="No end hidden tests statement found"):
        HideHiddenTests().preprocess_cell(cell, {}, 0)
    cell.source = "a = 1\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS\nb = 2\n"
    cell, _ = HideHiddenTests().preprocess_cell(cell, {}, 0)
    assert cell.source == f"a = 1\n{HideHiddenTests().placeholder}\nb = 2\n"
