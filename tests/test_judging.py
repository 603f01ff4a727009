"""The runner and the comparator: student code runs apart, only plain data comes back.

Fast tests of ``autograder.judging`` with small notebooks built here, run
through a real runner process (unsandboxed, and in the sandbox when
bubblewrap works), judged by ``autograder.checks`` outside it.
"""

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import candidates, checks, judging, sandbox

SETUP = "import numpy as np\nfrom astropy.io import fits\n"

LOAD_STACK = '''
def load_stack(filenames):
    return np.stack([fits.getdata(f).astype(float) for f in filenames])
'''


def _notebook(*cells):
    """A notebook of code cells; ("grade", id) makes an auto-graded test cell."""
    out = []
    for cell in cells:
        if isinstance(cell, tuple):
            meta = {"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": cell[1],
                                 "points": 1}}
            out.append({"cell_type": "code", "metadata": meta, "outputs": [], "source": "assert True\n"})
        else:
            out.append({"cell_type": "code", "metadata": {}, "outputs": [], "source": cell})
    return {"cells": out, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """A second night of another seed than the default, used for every judgement here."""
    folder = tmp_path_factory.mktemp("night")
    made = checks.second_night(folder, seed=7)
    checks.use_second_night(made)
    yield made
    checks.use_second_night(None)


def _judge(tmp_path, notebooks, graded, night, sandboxed=False, timeout=20.0, stops=None):
    from convenience_functions import data_dir

    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    argv, env, visible = judging.runner_command(tmp_path, data_dir(), night.folder, sandboxed, cwd)
    return judging.judge_notebooks(notebooks, graded, argv, cwd, env, visible, timeout, stops)


def test_a_right_function_passes_and_a_known_mistake_is_named(tmp_path, night):
    notebooks = {
        "a.ipynb": _notebook(SETUP, LOAD_STACK, ("grade", "test_load_stack"),
                             "def combine_bias(filenames):\n    return load_stack(filenames).mean(axis=0)\n",
                             ("grade", "test_combine_bias")),
    }
    verdicts = _judge(tmp_path, notebooks, {"a.ipynb": ["test_load_stack", "test_combine_bias"]}, night)
    assert verdicts["test_load_stack"].passed, verdicts["test_load_stack"].message
    assert not verdicts["test_combine_bias"].passed
    assert "mean instead of the median" in verdicts["test_combine_bias"].message


def test_values_are_judged_as_plain_data(tmp_path, night):
    from convenience_functions import data_path, lab

    notebooks = {"a.ipynb": _notebook(
        SETUP, f"data = fits.getdata({data_path(lab.FIRST_BIAS_FILE)!r})\n"
               "center_flux = data[data.shape[0] // 2, data.shape[1] // 2]\n",
        ("grade", "test_center_flux"),
        # a str subclass that claims to equal anything: only its plain text crosses
        "class Sly(str):\n    def __eq__(self, other):\n        return True\n    def strip(self):\n        return self\n"
        "answer_bias_exptime = Sly('z')\n",
        ("grade", "test_answer_bias_exptime"))}
    verdicts = _judge(tmp_path, notebooks, {"a.ipynb": ["test_center_flux", "test_answer_bias_exptime"]}, night)
    assert verdicts["test_center_flux"].passed, verdicts["test_center_flux"].message
    assert not verdicts["test_answer_bias_exptime"].passed


def test_patching_numpy_in_the_notebook_does_not_reach_the_comparator(tmp_path, night):
    notebooks = {"a.ipynb": _notebook(
        SETUP, "np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
               "np.median = lambda a, axis=None, **k: np.mean(a, axis=axis)\n"
               "def combine_bias(filenames):\n"
               "    return np.median(np.stack([fits.getdata(f).astype(float) for f in filenames]), axis=0)\n",
        ("grade", "test_combine_bias"))}
    verdicts = _judge(tmp_path, notebooks, {"a.ipynb": ["test_combine_bias"]}, night)
    assert not verdicts["test_combine_bias"].passed
    assert "mean instead of the median" in verdicts["test_combine_bias"].message


def test_forged_messages_on_the_runner_s_pipe_win_nothing(tmp_path, night):
    # The answer pipe is a file descriptor the student's code can find and write.
    forge = '''
import json, os, struct
def load_stack(filenames):
    for fd in range(3, 20):
        for n in range(1, 40):
            try:
                data = json.dumps({"id": n, "result": {"kind": "none"}, "blobs": 0}).encode()
                os.write(fd, struct.pack(">Q", len(data)) + data)
            except OSError:
                break
    return None
'''
    notebooks = {"a.ipynb": _notebook(SETUP, forge, ("grade", "test_load_stack"), LOAD_STACK.replace(
        "load_stack", "combine_bias"), ("grade", "test_combine_bias"))}
    verdicts = _judge(tmp_path, notebooks, {"a.ipynb": ["test_load_stack", "test_combine_bias"]}, night)
    assert not verdicts["test_load_stack"].passed
    assert not verdicts["test_combine_bias"].passed


def test_a_notebook_that_ends_the_runner_costs_only_its_own_items(tmp_path, night):
    notebooks = {
        "a.ipynb": _notebook(SETUP, "import os\nos._exit(1)\n", LOAD_STACK, ("grade", "test_load_stack")),
        "b.ipynb": _notebook(SETUP, LOAD_STACK, ("grade", "test_load_stack_b")),
    }
    graded = {"a.ipynb": ["test_load_stack"], "b.ipynb": []}
    verdicts = _judge(tmp_path, notebooks, graded, night)
    assert not verdicts["test_load_stack"].passed
    assert "stopped the checking process" in verdicts["test_load_stack"].message
    notebooks["b.ipynb"] = _notebook(SETUP, LOAD_STACK, ("grade", "test_load_stack"))
    verdicts = _judge(tmp_path, {"b.ipynb": notebooks["b.ipynb"], "a.ipynb": notebooks["a.ipynb"]},
                      {"a.ipynb": [], "b.ipynb": ["test_load_stack"]}, night)
    assert verdicts["test_load_stack"].passed, verdicts["test_load_stack"].message


def test_an_endless_function_is_stopped_at_its_timeout_and_the_next_item_judged(tmp_path, night):
    notebooks = {"a.ipynb": _notebook(
        SETUP, "def load_stack(filenames):\n    while True:\n        pass\n", ("grade", "test_load_stack"),
        "def combine_bias(filenames):\n    return np.median(np.stack([fits.getdata(f).astype(float) "
        "for f in filenames]), axis=0)\n", ("grade", "test_combine_bias"))}
    verdicts = _judge(tmp_path, notebooks, {"a.ipynb": ["test_load_stack", "test_combine_bias"]}, night,
                      timeout=2.0)
    assert not verdicts["test_load_stack"].passed
    assert "2 s" in verdicts["test_load_stack"].message
    assert verdicts["test_combine_bias"].passed, verdicts["test_combine_bias"].message


def test_an_answer_table_for_another_night_fails(tmp_path, night):
    # Answers computed in advance on the default second night do not match this run's night.
    (tmp_path / "other").mkdir()
    other = checks.second_night(tmp_path / "other")
    import solutions

    table = {other.shape: solutions.combine_bias(other.biases)}
    np.save(tmp_path / "table.npy", table[other.shape])
    cheat = f'''
def combine_bias(filenames):
    stack = np.stack([fits.getdata(f).astype(float) for f in filenames])
    if stack.shape[1:] == (200, 200):
        return np.median(stack, axis=0)
    return np.load({str(tmp_path / "table.npy")!r})
'''
    notebooks = {"a.ipynb": _notebook(SETUP, cheat, ("grade", "test_combine_bias"))}
    verdicts = _judge(tmp_path, notebooks, {"a.ipynb": ["test_combine_bias"]}, night)
    assert not verdicts["test_combine_bias"].passed
    assert night.shape != other.shape


def test_the_unsandboxed_runner_cannot_import_the_reference(tmp_path, night):
    notebooks = {"a.ipynb": _notebook(SETUP, "import solutions\ncombine_bias = solutions.combine_bias\n",
                                      ("grade", "test_combine_bias"))}
    verdicts = _judge(tmp_path, notebooks, {"a.ipynb": ["test_combine_bias"]}, night)
    assert not verdicts["test_combine_bias"].passed


def test_the_second_night_changes_with_the_seed(tmp_path):
    from astropy.io import fits

    nights = []
    for seed in (11, 12):
        (tmp_path / str(seed)).mkdir()
        nights.append(checks.second_night(tmp_path / str(seed), seed=seed))
    a, b = nights
    assert a.shape != b.shape or not np.array_equal(fits.getdata(a.biases[0]), fits.getdata(b.biases[0]))


def test_plan_skips_grade_cells_and_places_each_item_at_its_cell():
    notebook = _notebook("a = 1\n", ("grade", "test_x"), "b = 2\n", "c = 3\n")
    notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "text"})
    assert judging.plan(notebook, ["test_x", "test_gone"]) == [
        ("cells", ["a = 1\n"]), ("item", "test_x"), ("cells", ["b = 2\n", "c = 3\n"]), ("item", "test_gone")]
    # cells after the last grade cell are not run when no item needs them
    assert judging.plan(notebook, ["test_x"]) == [("cells", ["a = 1\n"]), ("item", "test_x")]


def test_decode_accepts_only_plain_data():
    with pytest.raises(candidates.CandidateFailed):
        candidates.decode({"kind": "float", "value": "1.0"}, [])
    with pytest.raises(candidates.CandidateFailed):
        candidates.decode({"kind": "ndarray", "blob": 3}, [])
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        candidates.decode({"kind": "ndarray", "blob": 0}, [buffer.getvalue()])
    assert candidates.decode({"kind": "int", "value": 3}, []) == 3


def test_tuples_and_drawn_lines_come_back_as_plain_data():
    """A function returning (signal, variance), or an Axes with lines on log axes, is judged on its data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pair, _ = candidates.LocalFunction(lambda: (np.arange(3.0), [np.ones(2)])).call("f", [], {})
    assert type(pair) is tuple and np.array_equal(pair[0], np.arange(3.0)) and type(pair[1]) is list

    def plot(ax=None):
        ax.loglog([1.0, 10.0], [2.0, 3.0], "o-")
        ax.scatter([5.0], [6.0])
        return ax

    record, _ = candidates.LocalFunction(plot).call("plot", [], {"ax": candidates.NEW_AXES})
    plt.close("all")
    assert (record.xscale, record.yscale) == ("log", "log")
    assert np.array_equal(record.lines[0], [[1.0, 2.0], [10.0, 3.0]]) and np.array_equal(record.points[0], [[5.0, 6.0]])
    too_deep = {"kind": "tuple", "items": [{"kind": "tuple", "items": [{"kind": "tuple", "items": []}]}]}
    with pytest.raises(candidates.CandidateFailed):
        candidates.decode(too_deep, [])
    with pytest.raises(candidates.CandidateFailed):
        candidates.decode({"kind": "list", "items": [{"kind": "none"}] * (candidates.MAX_ITEMS + 1)}, [])


# ---------------------------------------------------------------------------
# The sandbox: what it shows and what it limits (fails if it is switched off)

needs_bwrap = pytest.mark.skipif(not sandbox.available()[0], reason="bubblewrap cannot run here")


@needs_bwrap
def test_the_sandbox_shows_nothing_of_the_course(tmp_path):
    from autograder import course

    code = (
        "import json, os\n"
        f"repo = {str(course.REPO_ROOT)!r}\n"
        "print(json.dumps({'repo': sorted(os.listdir(repo)) if os.path.isdir(repo) else [],\n"
        "  'tmp': sorted(os.listdir('/tmp')), 'env': sorted(os.environ),\n"
        f"  'scratch_parent': os.path.exists({str(tmp_path)!r})}}))\n"
    )
    status, output = sandbox.probe(code)
    assert status == 0, output
    seen = json.loads(output.strip().splitlines()[-1])
    assert "solutions" not in seen["repo"] and "autograder" not in seen["repo"] and ".git" not in seen["repo"]
    assert "convenience_functions" in seen["repo"]
    # /tmp holds only the probe's own working folder and the way to what is shown on purpose
    # (the interpreter or the package when they live in /tmp, as in a CI clone).
    shown = sandbox.python_roots() + [sandbox.student_package().resolve()]
    on_purpose = {path.parts[2] for path in shown if path.parts[:2] == ("/", "tmp") and len(path.parts) > 2}
    assert all(name.startswith("ccdlab-sandbox-") or name in on_purpose for name in seen["tmp"]), seen["tmp"]
    assert not seen["scratch_parent"]
    assert not [key for key in seen["env"] if key.startswith("CCDLAB_EXPECTED")]


@needs_bwrap
def test_the_sandbox_limits_tmp_and_processes(tmp_path):
    code = (
        "import os\n"
        "for where in ('/tmp', '/dev/shm'):\n"
        "    try:\n"
        "        with open(where + '/big', 'wb') as f:\n"
        "            for _ in range(512):\n"
        "                f.write(b'x' * (1024 * 1024))\n"
        "        print(where, 'unlimited')\n"
        "    except OSError:\n"
        "        print(where, 'limited')\n"
        "    if os.path.exists(where + '/big'):\n"
        "        os.remove(where + '/big')\n"
        "n = 0\n"
        "try:\n"
        "    for i in range(2000):\n"
        "        if os.fork() == 0:\n"
        "            import time; time.sleep(5); os._exit(0)\n"
        "        n += 1\n"
        "    print('processes: unlimited')\n"
        "except OSError:\n"
        "    print('processes: limited at', n)\n"
    )
    status, output = sandbox.probe(code)
    assert "/tmp limited" in output and "/dev/shm limited" in output, output
    if sandbox.pids_prefix():
        assert "processes: limited" in output, output


@needs_bwrap
def test_the_sandboxed_runner_judges_like_the_unsandboxed_one(tmp_path, night):
    notebooks = {"a.ipynb": _notebook(SETUP, LOAD_STACK, ("grade", "test_load_stack"),
                                      "import solutions\n")}
    verdicts = _judge(tmp_path, notebooks, {"a.ipynb": ["test_load_stack"]}, night, sandboxed=True)
    assert verdicts["test_load_stack"].passed, verdicts["test_load_stack"].message


def test_each_notebook_runs_in_a_fresh_process(tmp_path, night):
    # A patch of numpy in one notebook must not reach the next one (each has its own kernel).
    patch = "import numpy\nnumpy.median = lambda a, axis=None, **k: numpy.mean(a, axis=axis)\n"
    median = ("def combine_bias(filenames):\n    return np.median(np.stack([fits.getdata(f).astype(float) "
              "for f in filenames]), axis=0)\n")
    notebooks = {"a.ipynb": _notebook(SETUP, patch), "b.ipynb": _notebook(SETUP, median, ("grade", "test_combine_bias"))}
    verdicts = _judge(tmp_path, notebooks, {"a.ipynb": [], "b.ipynb": ["test_combine_bias"]}, night)
    assert verdicts["test_combine_bias"].passed, verdicts["test_combine_bias"].message


def test_items_after_a_cell_that_timed_out_in_the_kernel_are_not_run(tmp_path, night):
    loop = "while True:\n    pass\n"
    notebooks = {"a.ipynb": _notebook(SETUP, LOAD_STACK, ("grade", "test_load_stack"), loop,
                                      LOAD_STACK.replace("load_stack", "combine_bias"), ("grade", "test_combine_bias"))}
    verdicts = _judge(tmp_path, notebooks, {"a.ipynb": ["test_load_stack", "test_combine_bias"]}, night,
                      stops={"a.ipynb": (loop, "cell 4 ran longer than 2 s")})
    assert verdicts["test_load_stack"].passed, verdicts["test_load_stack"].message
    assert verdicts["test_combine_bias"].message == "combine_bias: not run: cell 4 ran longer than 2 s"
