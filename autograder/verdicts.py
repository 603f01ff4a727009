"""Step 4 of grading a student: the comparator's verdicts decide the auto-graded cells.

:func:`apply_verdicts` rewrites each auto-graded cell's outputs so that only
the verdict can be read as a score by nbgrader (the kernel's own errors and
results become plain text), scrubs the grader's scratch paths from every
output, and saves the grades through nbgrader's ``SaveAutoGrades``.
"""


from . import course, grading
from .safefiles import read_regular, write_regular


def _verdict_outputs(cell, verdict):
    """The grade cell's outputs with the kernel's verdict-like outputs neutralized and the verdict added.

    Only the verdict may decide the score: nbgrader scores a cell 0 for an
    error output or any text on standard error (a warning too), and reads a
    number from an ``execute_result``.  So the kernel's errors, standard
    error and results become plain displayed text, then the verdict follows.
    """
    import nbformat

    def shown(text):
        return nbformat.v4.new_output("display_data", data={"text/plain": text})

    kept = []
    visible_failed = any(output.get("output_type") == "error" for output in cell.get("outputs", []))
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "error":
            kept.append(shown(f"{output.get('ename', '')}: {output.get('evalue', '')}"))
        elif kind == "stream" and output.get("name") == "stderr":
            kept.append(shown(output.get("text", "")))
        elif kind == "execute_result":
            kept.append(nbformat.v4.new_output("display_data", data=output.get("data", {})))
        else:
            kept.append(output)
    if verdict.passed:
        kept.append(nbformat.v4.new_output("stream", name="stdout", text="The grader's tests passed.\n"))
    else:
        said = f"the grader's tests found: {verdict.message}"
        if not visible_failed:
            said = f"visible tests passed; {said}"
        kept.append(nbformat.v4.new_output("error", ename="GraderTestsFailed", evalue=said,
                                           traceback=[f"GraderTestsFailed: {said}"]))
    return kept


def _scrub_outputs(cell, replacements):
    """The grader's scratch paths out of a cell's outputs (the student reads them in the feedback)."""
    from .feedback import scrub_paths

    for output in cell.get("outputs", []):
        if "text" in output:
            output["text"] = scrub_paths(output["text"], replacements)
        if "evalue" in output:
            output["evalue"] = scrub_paths(output["evalue"], replacements)
        if "traceback" in output:
            output["traceback"] = [scrub_paths(line, replacements) for line in output["traceback"]]
        data = output.get("data", {})
        if isinstance(data.get("text/plain"), str):
            data["text/plain"] = scrub_paths(data["text/plain"], replacements)


def apply_verdicts(root, student_id, verdicts, replacements=None):
    """Write the verdicts into the autograded notebooks and the scratch gradebook.

    Parameters
    ----------
    root : pathlib.Path
        The scratch course.
    student_id : str
    verdicts : dict
        grade_id -> :class:`~autograder.judging.Verdict`.
    """
    import nbformat
    from nbgrader.preprocessors import SaveAutoGrades

    db_url = course.nbgrader_config(root=root).CourseDirectory.db_url
    for path in sorted(grading.student_dir(root, "autograded", student_id).glob("*.ipynb")):
        notebook = nbformat.reads(read_regular(path).decode("utf-8"), as_version=4)
        for cell in notebook.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if cell.cell_type != "code":
                continue
            if replacements:
                _scrub_outputs(cell, replacements)
            if grade_id in verdicts:
                cell.outputs = _verdict_outputs(cell, verdicts[grade_id])
        resources = {"nbgrader": {"notebook": path.stem, "assignment": course.ASSIGNMENT_ID,
                                  "student": student_id, "db_url": db_url}}
        SaveAutoGrades().preprocess(notebook, resources)
        write_regular(path, nbformat.writes(notebook).encode("utf-8"))
