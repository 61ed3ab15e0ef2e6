"""Where the offline data lives: ``--data`` flag, ``$JAXDL_DATA``, or ``../shared/data``."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_root(explicit=None) -> Path | None:
    """The data folder: ``explicit`` or ``$JAXDL_DATA`` when set (None if that does not
    exist), else ``../shared/data`` beside the repository or the working directory."""
    chosen = explicit or os.environ.get("JAXDL_DATA")
    candidates = (
        [chosen]
        if chosen
        else [REPO_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    )
    for candidate in candidates:
        if Path(candidate).is_dir():
            return Path(candidate)
    return None


def data_file(relative: str, explicit=None) -> Path | None:
    """``data_root()/relative`` if it exists, else None."""
    root = data_root(explicit)
    if root is None or not (root / relative).exists():
        return None
    return root / relative


def home() -> Path:
    """Where downloaded and converted published files are kept: ``$JAXDL_HOME``, else
    ``$XDG_CACHE_HOME/jaxdl``, else ``~/.cache/jaxdl``."""
    if os.environ.get("JAXDL_HOME"):
        return Path(os.environ["JAXDL_HOME"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jaxdl"


def cache_dir(explicit=None, sub: str = "") -> Path:
    """Where computed artefacts are cached: ``explicit``, else ``$JAXDL_CACHE``, else
    ``home()``; ``sub`` names a sub-folder (e.g. "features")."""
    root = Path(os.environ.get("JAXDL_CACHE") or home())
    return Path(explicit) if explicit else root / sub
