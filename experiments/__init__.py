"""Experiments and the ``jaxdl`` command line (the library never imports this package)."""
