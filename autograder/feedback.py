"""Feedback pages a student can read anywhere: wrapped verdicts, math without a network, no grader paths.

* :class:`ReadableFeedback` -- an nbgrader preprocessor of ``generate_feedback``
  that adds a style sheet: long output lines (a verdict, a traceback) wrap
  instead of scrolling sideways.
* :func:`offline_math` -- LaTeX in the page's text (``$...$``, ``$$...$$``)
  turned into MathML, which browsers render natively, so the page needs no
  MathJax from a CDN (a grading machine or a student's copy may be offline).
* :func:`scrub_paths` -- the grader's scratch folders removed from outputs.
"""

import re

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

#: Text of the page outside these elements may hold math.
_VERBATIM = re.compile(r"(<(pre|code|script|style|textarea)\b.*?</\2>)", re.DOTALL | re.IGNORECASE)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE = re.compile(r"(?<![\\$\w])\$(?!\s)([^$<>\n]+?)(?<!\s)\$(?![\w$])")


class ReadableFeedback(NbGraderPreprocessor):
    """Wrap long output lines in the feedback page (no sideways scrolling)."""

    css = Unicode(
        "pre, .output pre, .jp-OutputArea-output pre, .output_subarea pre "
        "{ white-space: pre-wrap !important; overflow-wrap: anywhere; word-break: break-word; }\n"
        ".output_area, .output_subarea, .jp-OutputArea-output { overflow-x: visible !important; max-width: 100%; }\n"
        "math[display='block'] { margin: 0.6em 0; }\n",
        help="Style sheet added to every feedback page.",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        resources.setdefault("inlining", {}).setdefault("css", []).append(self.css)
        return nb, resources


def _mathml(latex, display):
    from latex2mathml.converter import convert

    try:
        return convert(latex.strip(), display="block" if display else "inline")
    except Exception:  # a formula latex2mathml cannot read stays as written
        return None


def offline_math(html):
    """Replace ``$...$`` and ``$$...$$`` in ``html``'s text by MathML."""
    import html as html_module

    def convert_text(text):
        def block(match):
            found = _mathml(html_module.unescape(match.group(1)), True)
            return found if found is not None else match.group(0)

        def inline(match):
            found = _mathml(html_module.unescape(match.group(1)), False)
            return found if found is not None else match.group(0)

        return _INLINE.sub(inline, _DISPLAY.sub(block, text))

    parts = _VERBATIM.split(html)
    out, skip = [], 0
    for index, part in enumerate(parts):
        if skip:
            skip -= 1
            continue
        if _VERBATIM.fullmatch(part or ""):
            out.append(part)
            skip = 1  # the tag name group that split() also returns
        else:
            out.append(convert_text(part))
    return "".join(out)


def scrub_paths(text, replacements):
    """``text`` with each grader path replaced (longest first) by what a student should read."""
    for path, shown in sorted(replacements.items(), key=lambda item: -len(item[0])):
        text = text.replace(path, shown)
    return text
