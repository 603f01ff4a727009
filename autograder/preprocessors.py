"""nbgrader preprocessors this course adds to nbgrader's own pipelines.

Each is one small step with a one-line purpose; :func:`autograder.course.nbgrader_config`
puts them in place, so ``nbgrader autograde`` and ``ccdlab grade`` run the same steps.
"""

import nbformat
from nbclient.exceptions import DeadKernelError
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor
from traitlets import Integer, List, Unicode


class ResetGradeCellTags(NbGraderPreprocessor):
    """Drop the tags that would stop a grade cell from running as written."""

    execution_tags = List(
        ["skip-execution", "raises-exception"],
        help="Cell tags that change how nbclient runs a cell.",
    ).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if utils.is_grade(cell) and not utils.is_solution(cell):
            tags = cell.metadata.get("tags", [])
            kept = [tag for tag in tags if tag not in self.execution_tags]
            if kept != tags:
                self.log.warning("Removed tags %s from grade cell %s", sorted(set(tags) - set(kept)),
                                 cell.metadata.nbgrader.get("grade_id"))
                cell.metadata["tags"] = kept
            cell.metadata.pop("execution", None)
        return cell, resources


class HideHiddenTests(ClearHiddenTests):
    """Keep hidden tests, and tracebacks through them, out of student feedback.

    The region is found by nbgrader's own ``ClearHiddenTests`` (its
    delimiters, and its errors on a nested or unclosed region); one line
    stands where it was.
    """

    placeholder = Unicode(
        "# (hidden tests ran here; their verdict is shown below)",
        help="Line that stands where the hidden tests were.",
    ).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if not (utils.is_grade(cell) and cell.cell_type == "code" and not utils.is_solution(cell)):
            return cell, resources
        lines = cell.source.split("\n")
        first = next((index for index, line in enumerate(lines) if self.begin_test_delimeter in line), None)
        if self._remove_hidden_test_region(cell):
            kept = cell.source.split("\n")
            cell.source = "\n".join(kept[:first] + [self.placeholder] + kept[first:])
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                # A traceback quotes the lines it passed through: keep the verdict only.
                output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


def timeout_description(cell, index, seconds):
    """'cell 3 ('while True:') ran longer than 30 s (in plot_bias_histogram)': what a student can act on."""
    import re

    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    where = f"cell {grade_id}" if grade_id else f"cell {index + 1} ({first[:40]!r})"
    functions = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(output.get("traceback", [])))
            functions += [name for name in re.findall(r"\bin (\w+)\(", text) if name != "<module>"]
    inside = f" (in {functions[-1]}, which did not return)" if functions else ""
    return f"{where} ran longer than {seconds:g} s{inside}"


class GuardedExecute(Execute):
    """Run the notebook like nbgrader, capping output and surviving a dead kernel.

    * Output is counted as it arrives; past ``max_output_bytes`` for one
      cell, the rest of that cell's output is dropped (never held in
      memory) and one line says so.
    * When the kernel dies, the cells run before keep their outputs, and
      every code cell that never ran gets an error output, so grade cells
      after the crash score 0 while those before keep their scores.
    * After a cell runs over the time limit, the notebook's later code
      cells are not run: each gets a ``NotRun`` error naming the cell (and
      the function) that did not return, so a hung function costs one
      timeout per notebook, not one per cell that calls it.
    * Kernels start through :class:`~autograder.kernels.ScratchKernelManager`:
      the grader configures where their kernelspec is, not the process
      environment.
    """

    max_output_bytes = Integer(
        1_000_000, help="Largest output (bytes of text) kept for one cell."
    ).tag(config=True)

    def __init__(self, *args, **kwargs):
        from .kernels import ScratchKernelManager

        kwargs.setdefault("kernel_manager_class", ScratchKernelManager)
        super().__init__(*args, **kwargs)

    def reset_execution_trackers(self):
        super().reset_execution_trackers()
        self._kept_bytes = {}
        self._capped = set()
        self._timed_out = None

    @staticmethod
    def _size(content):
        size = len(content.get("text", ""))
        for value in content.get("data", {}).values():
            size += len(value) if isinstance(value, str) else len(str(value))
        size += sum(len(line) for line in content.get("traceback", []))
        return size

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] in ("stream", "display_data", "execute_result"):
            kept = self._kept_bytes.get(cell_index, 0) + self._size(msg["content"])
            if kept > self.max_output_bytes:
                if cell_index not in self._capped:
                    self._capped.add(cell_index)
                    notice = nbformat.v4.new_output(
                        "stream", name="stderr",
                        text=f"\n[output capped by the grader at {self.max_output_bytes:,} bytes for this cell]\n",
                    )
                    outs.append(notice)
                return None
            self._kept_bytes[cell_index] = kept
        return super().output(outs, msg, display_id, cell_index)

    def preprocess_cell(self, cell, resources, index):
        """Run the cell, unless an earlier one ran over the time limit (then it is marked not run)."""
        self._running_index = index
        if self._timed_out is not None and cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output(
                "error", ename="NotRun", evalue=f"not run: {self._timed_out}",
                traceback=[f"NotRun: not run: {self._timed_out}"],
            )]
            return cell, resources
        cell, resources = super().preprocess_cell(cell, resources, index)
        if any(output.get("output_type") == "error" and output.get("ename") == "CellTimeoutError"
               for output in cell.get("outputs", [])):
            self._timed_out = f"{timeout_description(cell, index, self.timeout)}, so the cells after it were not run"
        return cell, resources

    def preprocess(self, nb, resources=None, km=None):
        self._running_index = None
        try:
            return super().preprocess(nb, resources, km=km)
        except DeadKernelError as error:
            self.log.warning("The kernel died: %s; later cells are marked as not run", error)
            self._mark_unrun(nb, self._running_index)
            return nb, resources

    @staticmethod
    def _mark_unrun(nb, dying_index):
        """Give the cell that was running and every later code cell an error output."""
        first = dying_index if dying_index is not None else 0
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or index < first:
                continue
            if index > first and any(output.output_type == "error" for output in cell.outputs):
                continue
            cell.outputs.append(nbformat.v4.new_output(
                "error", ename="DeadKernelError",
                evalue="the kernel died before or while this cell ran (os._exit, a crash or out of memory)",
                traceback=["DeadKernelError: the kernel died before or while this cell ran"],
            ))
