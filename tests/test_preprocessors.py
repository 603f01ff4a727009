"""The course's nbgrader preprocessors on small notebooks built here (as nbgrader's own tests do)."""

import nbformat
import pytest

import nbcells
from autograder.preprocessors import GuardedExecute, HideHiddenTests, ResetGradeCellTags


def _run(cells, timeout, **traits):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A notebook")]
                                        + [nbformat.v4.new_code_cell(source) for source in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    step = GuardedExecute(timeout=timeout, interrupt_on_timeout=True, allow_errors=True, **traits)
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


def _errors(cell):
    return [output.ename for output in cell.get("outputs", []) if output.output_type == "error"]


def _text(cell, name):
    return "".join(output.text for output in cell.get("outputs", [])
                   if output.output_type == "stream" and output.name == name)


@pytest.mark.timeout(120)
def test_a_cell_s_output_is_capped_with_one_notice_and_the_next_cell_starts_afresh():
    limit = 2000
    line = "x" * 99  # 100 bytes a line with its newline: 50 lines is 5000 bytes, over the cap
    notebook = _run([f"for i in range(50):\n    print({line!r}, flush=True)\n",
                     "print('small')\n", "for i in range(3):\n    print('y' * 99)\n"],
                    timeout=20, max_output_bytes=limit)
    flooding, small, under = notebook.cells[1], notebook.cells[2], notebook.cells[3]
    notice = f"[output capped by the grader at {limit:,} bytes for this cell]"
    kept = _text(flooding, "stdout")
    assert 0 < len(kept) <= limit and set(kept) <= {"x", "\n"}
    assert _text(flooding, "stderr").count(notice) == 1 and _text(flooding, "stderr").strip() == notice
    assert _text(small, "stdout") == "small\n" and not _text(small, "stderr")
    assert _text(under, "stdout") == ("y" * 99 + "\n") * 3 and not _text(under, "stderr")


@pytest.mark.timeout(120)
def test_after_the_kernel_dies_earlier_cells_keep_their_outputs_and_later_code_cells_get_an_error():
    notebook = _run(["print('before')\n", "import os\nos._exit(1)\n", "print('after')\n", "x = 1\n"],
                    timeout=20)
    before, dying, after, last = notebook.cells[1:]
    assert _text(before, "stdout") == "before\n" and _errors(before) == []
    assert _errors(dying) == ["DeadKernelError"]
    assert _errors(after) == ["DeadKernelError"] and _text(after, "stdout") == ""
    assert _errors(last) == ["DeadKernelError"]
    assert notebook.cells[0].cell_type == "markdown" and "outputs" not in notebook.cells[0]


def _tagged(cell, tags):
    cell.metadata["tags"] = list(tags)
    return cell


def test_grade_cells_lose_the_tags_that_change_how_they_run_and_keep_the_others():
    cells = [
        _tagged(nbcells.grade("assert f() == 1\n", "test_f", 2), ["raises-exception", "mine", "skip-execution"]),
        _tagged(nbcells.solution("def f():\n    return 1\n", "f"), ["raises-exception", "skip-execution"]),
        _tagged(nbcells.code("1 / 0\n"), ["raises-exception"]),
        _tagged(nbcells.answer("because", "why", 1), ["skip-execution"]),
        _tagged(nbcells.grade("assert True\n", "test_g", 1), ["mine"]),
    ]
    cells[0].metadata["execution"] = {"iopub.execute_input": "2024-01-01T00:00:00Z"}
    notebook, _ = ResetGradeCellTags().preprocess(nbcells.notebook(cells), {})
    test_f, solution, plain, answer, test_g = notebook.cells
    assert test_f.metadata["tags"] == ["mine"] and "execution" not in test_f.metadata
    assert solution.metadata["tags"] == ["raises-exception", "skip-execution"]  # the student's own cells
    assert plain.metadata["tags"] == ["raises-exception"]
    assert answer.metadata["tags"] == ["skip-execution"]  # grade and solution: an answer, not a test
    assert test_g.metadata["tags"] == ["mine"]


def test_the_tags_dropped_are_configurable():
    cell = _tagged(nbcells.grade("assert True\n", "test_f", 1), ["raises-exception", "skip-execution"])
    step = ResetGradeCellTags(execution_tags=["skip-execution"])
    cell, _ = step.preprocess_cell(cell, {}, 0)
    assert cell.metadata["tags"] == ["raises-exception"]
