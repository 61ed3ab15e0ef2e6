"""Published files by name: each pinned by URL and sha256, downloaded once, checked, cached.

``fetch(source)`` returns a local path of a ``Source`` (one file, or a folder of files), from
the first place that has it:

1. the cache, ``$JAXDL_HOME/downloads`` (default ``$XDG_CACHE_HOME/jaxdl``, i.e.
   ``~/.cache/jaxdl``), where only files that matched their pins are ever moved;
2. the study's data folder (``$JAXDL_DATA`` or ``../shared/data``), whose copy is checked
   against the same pins;
3. a download with pooch's HTTP downloader, unless ``JAXDL_OFFLINE=1``: into a temporary
   file beside the cache, checked, then renamed into place (atomic, so an interrupted or
   tampered download leaves nothing a later call trusts, and two processes fetching the same
   file end with one good file). ``JAXDL_WEIGHTS_MIRROR`` (a base URL) replaces each URL's
   folder: the file name is appended to it.

A pin is the file's full sha256 where it is known, else the 8-hex prefix torchvision puts in
its file names (as torchvision itself checks). Every failure is one ``InputError`` line naming
the URL, the expected sha256 and the path where a file downloaded by hand may be placed.
"""

import dataclasses
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from jaxdl.errors import InputError
from jaxdl.paths import data_root, home

CONNECT_TIMEOUT_S = 5  # give up quickly where there is no network
READ_TIMEOUT_S = 60


@dataclasses.dataclass(frozen=True)
class Pinned:
    """One file: where it is published (``url``; empty for a file only the study's data folder
    holds) and the sha256 (full, or an 8+ hex prefix) it has."""

    url: str
    sha256: str
    name: str = ""  # the file name where the URL has none

    @property
    def filename(self) -> str:
        return self.name or self.url.rsplit("/", 1)[-1]


@dataclasses.dataclass(frozen=True)
class Source:
    """A published file, or a folder of files (``folder``), named ``name`` in the cache's
    ``cache`` folder, with the data folder's copy at ``data_path`` when the study ships one.
    The study's data is cached under "data" at its data-folder path, so that folder is laid
    out as a data folder."""

    name: str
    files: tuple[Pinned, ...]
    megabytes: float
    folder: bool = False
    data_path: str | None = None
    cache: str = "downloads"

    @property
    def cache_path(self) -> Path:
        """Where the cache holds it (a file, or a folder of the files)."""
        return home() / self.cache / self.name


def pinned_files(resource: str, base_url: str) -> tuple[Pinned, ...]:
    """The files of a folder ``Source`` from a ``jaxdl/resources`` list in ``sha256sum``'s format
    (``<sha256>  <path in the folder>``), each published at ``base_url + path``."""
    from importlib import resources

    text = resources.files("jaxdl.resources").joinpath(resource).read_text()
    rows = [line.split() for line in text.splitlines() if line.strip()]
    return tuple(Pinned(base_url + path, digest, path) for digest, path in rows)


def offline() -> bool:
    return os.environ.get("JAXDL_OFFLINE", "") not in ("", "0")


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def matches(path, pin: str) -> bool:
    """Whether the file at ``path`` has the sha256 ``pin`` (or starts with it, for a prefix).

    >>> import tempfile
    >>> digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # of b"abc"
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     _ = f.write(b"abc") and f.flush()
    ...     matches(f.name, digest[:8]), matches(f.name, digest), matches(f.name, "00")
    (True, True, False)
    """
    return sha256_of(path).startswith(pin.lower())


def url_of(pinned: Pinned) -> str:
    """The URL to download from: the pinned one, or ``$JAXDL_WEIGHTS_MIRROR/<file name>``."""
    mirror = os.environ.get("JAXDL_WEIGHTS_MIRROR")  # weights and data alike
    return f"{mirror.rstrip('/')}/{pinned.filename}" if mirror else pinned.url


def _where(source: Source, pinned: Pinned, root: Path | None = None) -> Path:
    root = source.cache_path if root is None else root
    return root / pinned.filename if source.folder else root


def _checked(source: Source, root: Path) -> Path | None:
    """``root`` when it holds every file of ``source``, each matching its pin; None when one is
    missing; an error naming a file that is there but differs (a damaged or wrong copy should
    be seen, not replaced behind the user's back)."""
    files = [(p, _where(source, p, root)) for p in source.files]
    if not files or not all(file.is_file() for _, file in files):
        return None
    for pinned, file in files:
        if not matches(file, pinned.sha256):
            raise InputError(
                f"{file}: not the published {pinned.filename} (expected sha256 "
                f"{pinned.sha256}); delete it to download it again"
            )
    return root


def is_cached(source: Source) -> bool:
    """Whether the cache holds every file of ``source`` (``fetch`` checks their hashes)."""
    return all(_where(source, p).is_file() for p in source.files)


def _data_copy(source: Source, data=None) -> Path | None:
    root = data_root(data)
    if source.data_path is None or root is None:
        return None
    return _checked(source, root / source.data_path)


def _manual_hint(source: Source, pinned: Pinned) -> str:
    hint = (
        f"download {pinned.url} (sha256 {pinned.sha256}) and place it at {_where(source, pinned)}"
    )
    if source.folder:  # one line still: the first file absent stands for the rest
        hint += f", and likewise the {len(source.files) - 1} other files of {source.name}"
    return hint


def _download(source: Source, pinned: Pinned, into: Path, progress: bool) -> None:
    """``pinned`` downloaded to ``into`` (a temporary name) and checked; on any failure
    nothing is left there."""
    import pooch
    import requests

    url = url_of(pinned)
    downloader = pooch.HTTPDownloader(
        progressbar=progress, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
    )
    try:
        downloader(url, str(into), None)
    except requests.exceptions.RequestException as e:
        into.unlink(missing_ok=True)
        reason = type(e).__name__ if isinstance(e, requests.ConnectionError) else str(e)
        raise InputError(
            f"cannot download {url} ({' '.join(reason.split())[:160]}); "
            f"{_manual_hint(source, pinned)}, or set JAXDL_WEIGHTS_MIRROR"
        ) from None
    except OSError as e:
        into.unlink(missing_ok=True)
        free = shutil.disk_usage(into.parent).free / 2**20
        raise InputError(
            f"cannot write {url} into {into.parent} ({e.strerror or e}; {free:.0f} MiB free, "
            f"it takes {source.megabytes:.0f} MB)"
        ) from None
    digest = sha256_of(into)
    if not digest.startswith(pinned.sha256.lower()):
        into.unlink()
        raise InputError(
            f"{url}: sha256 {digest}, expected {pinned.sha256}; refused (nothing was cached)"
        )


def fetch(source: Source, progress: bool = False, data=None) -> Path:
    """A local path of ``source`` (the module says where from; ``data`` replaces the data
    folder); ``progress`` draws pooch's download bar."""
    for found in (_checked(source, source.cache_path), _data_copy(source, data)):
        if found is not None:
            return found
    missing = next((p for p in source.files if not _where(source, p).is_file()), source.files[0])
    if not missing.url:  # no published copy: the data folder's is the only one
        raise InputError(
            f"{source.name}: not published for download; it is read from the data folder's "
            f"{source.data_path} ($JAXDL_DATA or ../shared/data), which is absent"
        )
    if offline():
        raise InputError(
            f"{source.name}: not in the cache and JAXDL_OFFLINE=1; {_manual_hint(source, missing)}"
        )
    source.cache_path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{source.cache_path.name}.", dir=source.cache_path.parent)
    )
    files = source.files
    if progress and len(files) > 1:  # a folder: one bar over its files, not one per file
        from tqdm import tqdm

        files = tqdm(files, desc=source.name, unit="file", leave=False)
    try:
        for pinned in files:
            target = _where(source, pinned)
            if target.is_file():  # a folder's file fetched before
                continue
            part = staging / pinned.filename
            part.parent.mkdir(parents=True, exist_ok=True)
            _download(source, pinned, part, progress and len(source.files) == 1)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, target)  # atomic; a concurrent fetch wrote the same bytes
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return source.cache_path
