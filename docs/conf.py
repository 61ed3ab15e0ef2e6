"""Sphinx configuration: the pages of docs/ (Markdown, through MyST) and the API reference
built from the docstrings (autodoc). ``make docs`` builds it with warnings as errors."""

project = "jaxdl"
author = "the jaxdl developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
autodoc_default_options = {"members": True, "member-order": "bysource", "ignore-module-all": True}
autodoc_typehints = "none"  # the signatures carry them; flax and jax types read badly here
autodoc_mock_imports = ["torch"]
myst_heading_anchors = 3
suppress_warnings = ["myst.xref_missing"]
html_theme = "alabaster"
autodoc_preserve_defaults = True  # defaults as written (os.environ, not its contents)
