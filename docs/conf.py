"""Sphinx configuration of the nnscratch documentation.

Build it from the repository root with warnings as errors:

    pip install -e '.[docs]'
    sphinx-build -W --keep-going -b html docs docs/_build/html

Markdown pages are read by myst-parser; the scripts in ``examples/`` become a gallery
(sphinx-gallery), executed at build time in their quick form; the API pages come from the
docstrings (autodoc, with napoleon for Google/NumPy-style sections).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # document the checkout, installed or not

# The gallery runs every example; their long loops have a quick form for this.
os.environ.setdefault("NNSCRATCH_QUICK_EXAMPLES", "1")
os.environ.setdefault("MPLBACKEND", "agg")

import nnscratch  # noqa: E402

project = "nnscratch"
author = "nnscratch contributors"
copyright = "nnscratch contributors, MIT licence"
release = nnscratch.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb", "auto_examples/*.py"]

myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# API reference: members in source order, the docstrings as written.
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = True
# Optional packages the API pages mention but a docs build does not need.
autodoc_mock_imports = ["cupy", "torch"]

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*\.py$",  # run every example, not only plot_*.py
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "capture_repr": (),
    "image_scrapers": ("matplotlib",),
    "abort_on_example_error": True,
    "show_memory": False,
    "min_reported_time": 1,
}

html_theme = "furo"
html_title = f"nnscratch {release}"
html_static_path: list[str] = []


# --- docstrings: plain text with a little reST ------------------------------------------------------------
# The engine's docstrings are written to be read in a terminal: |x| means an absolute value, and a
# formula after "::" may sit at the paragraph's own indentation. Two small rewrites make them valid
# reST, so the API pages build with warnings as errors without asking docstrings to change style.


def _literal_ranges(lines: list[str]) -> set[int]:
    """Indices of lines that reST reads literally: blocks after a "::" paragraph, and doctests."""
    literal: set[int] = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith((">>>", "...")):
            literal.add(i)
        if line.rstrip().endswith("::"):
            base = len(line) - len(line.lstrip())
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and len(lines[j]) - len(lines[j].lstrip()) <= base:
                # a formula at the paragraph's indentation: indent it until the next blank line
                k = j
                while k < len(lines) and lines[k].strip():
                    lines[k] = "    " + lines[k]
                    literal.add(k)
                    k += 1
                i = k
                continue
            while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > base):
                literal.add(j)
                j += 1
            i = j
            continue
        i += 1
    return literal


def _escape_bars(line: str) -> str:
    """``|x|`` outside inline literals is an absolute value, not a reST substitution."""
    parts = line.split("``")
    for n in range(0, len(parts), 2):
        parts[n] = parts[n].replace("|", "\\|")
    return "``".join(parts)


# Each reproduction's module docstring is its record, laid out as aligned text (settings, choices,
# variants); it is shown as written, after its first line.
PREFORMATTED = {f"nnscratch.repro.{m}" for m in ("sqrt", "sum_of_squares", "random_targets", "wide_range", "poly32")}


def plain_docstring_to_rest(app, what, name, obj, options, lines: list[str]) -> None:
    if what == "module" and name in PREFORMATTED and len(lines) > 1:
        lines[1:] = ["", "::", ""] + ["    " + line for line in lines[1:]]
        return
    literal = _literal_ranges(lines)
    for n, line in enumerate(lines):
        if n not in literal and "|" in line:
            lines[n] = _escape_bars(line)


def setup(app):
    app.connect("autodoc-process-docstring", plain_docstring_to_rest)
