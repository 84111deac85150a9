"""Sphinx configuration of xconv's documentation site.

Build it with `python -m sphinx -W --keep-going docs docs/_build/html` (the docs extra
installs what it needs); `tests/test_docs.py` builds it that way, gallery included.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks/ and conformance/ for the gallery's data
os.environ.setdefault("KERAS_BACKEND", "jax")

project = "xconv"
author = "the xconv developers"
copyright = "2026, the xconv developers"
release = version = metadata.version("xconv")

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx_copybutton",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**/GALLERY_HEADER.rst"]
templates_path = ["_templates"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# `name` in a docstring is code, as in the Markdown pages
default_role = "code"
nitpicky = True

autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's type fields say it, in words
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
# a public name without a docstring fails the build
numpydoc_validation_checks = {"GL08"}
numpydoc_validation_exclude = {r"\.__\w+__$"}

html_theme = "pydata_sphinx_theme"
html_title = "xconv"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    # the test of the build reruns every script, not only those changed since the last
    "run_stale_examples": os.environ.get("XCONV_DOCS_RERUN_GALLERY") == "1",
}
