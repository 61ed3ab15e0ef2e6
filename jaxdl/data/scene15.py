"""15-Scene (Lazebnik et al. 2006): a folder of class folders -> file lists, labels and a split.

Two layouts are read: ``ROOT/{train,test}/<Class>/*`` (the standard split, 100 training
images per class) and ``ROOT/<Class>/*`` (the original release), split here with a seeded
``train_per_class`` draw per class. Folder names may be Lazebnik's (``CALsuburb``,
``MITcoast``, ``PARoffice``) or the plain ones (``Suburb``, ``Coast``, ``Office``); both map
to ``CLASSES``. Files that are not readable images are skipped, counted in ``skipped`` and
reported with ONE warning; decoding stays lazy (the lists hold paths).
"""

import dataclasses
import warnings
from pathlib import Path

import numpy as np

from jaxdl.data.images import IMAGE_SUFFIXES, open_image
from jaxdl.errors import InputError

# Canonical class names, in Lazebnik's order (label i = CLASSES[i]).
CLASSES = (
    "Bedroom",
    "Suburb",
    "Industrial",
    "Kitchen",
    "LivingRoom",
    "Coast",
    "Forest",
    "Highway",
    "InsideCity",
    "Mountain",
    "OpenCountry",
    "Street",
    "TallBuilding",
    "Office",
    "Store",
)
LAZEBNIK_NAMES = (
    "bedroom",
    "CALsuburb",
    "industrial",
    "kitchen",
    "livingroom",
    "MITcoast",
    "MITforest",
    "MIThighway",
    "MITinsidecity",
    "MITmountain",
    "MITopencountry",
    "MITstreet",
    "MITtallbuilding",
    "PARoffice",
    "store",
)
_ALIASES = {name.lower(): i for names in (CLASSES, LAZEBNIK_NAMES) for i, name in enumerate(names)}


def class_label(folder_name: str) -> int:
    """Label of a class folder name in either naming (case-insensitive)."""
    key = folder_name.lower()
    if key not in _ALIASES:
        raise InputError(
            f"unknown 15-Scene class folder {folder_name!r}; expected one of "
            f"{', '.join(CLASSES)} or Lazebnik's {', '.join(LAZEBNIK_NAMES)}"
        )
    return _ALIASES[key]


@dataclasses.dataclass(frozen=True)
class Split:
    """One side of the split: ``paths`` (N,) and ``labels`` (N,) int64 indices into CLASSES."""

    paths: tuple
    labels: np.ndarray

    def __len__(self):
        return len(self.paths)

    def subset(self, per_class: int, seed: int = 0) -> "Split":
        """At most ``per_class`` files of each class, drawn with ``seed``, in file order."""
        rng = np.random.default_rng(seed)
        keep = np.concatenate(
            [
                rng.permutation(np.flatnonzero(self.labels == c))[:per_class]
                for c in np.unique(self.labels)
            ]
        )
        keep.sort()
        return Split(tuple(self.paths[i] for i in keep), self.labels[keep])


@dataclasses.dataclass(frozen=True)
class Scene15:
    """The dataset: ``train`` / ``test`` splits, ``classes`` names, ``skipped`` (path, reason)
    pairs, and whether the split came from the folders (``standard_split``)."""

    train: Split
    test: Split
    classes: tuple = CLASSES
    skipped: tuple = ()
    standard_split: bool = True


def readable_image(path: Path) -> str | None:
    """None when ``path`` decodes whole as an image (``open_image``: truncated files and
    decompression bombs fail here, not in the middle of an extraction), else the reason."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return f"not an image suffix ({path.suffix or 'none'})"
    try:
        open_image(path, "L")
    except ValueError as e:
        return str(e).removeprefix(f"{path}: ")
    return None


def scan_classes(folder: Path, skipped: list) -> Split:
    """All readable images under ``folder/<Class>/`` (sorted), appending bad files to
    ``skipped``."""
    paths, labels = [], []
    for class_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        label = class_label(class_dir.name)
        for path in sorted(
            p for p in class_dir.iterdir() if p.is_file() and not p.name.startswith(".")
        ):
            reason = readable_image(path)
            if reason:
                skipped.append((str(path), reason))
                continue
            paths.append(path)
            labels.append(label)
    return Split(tuple(paths), np.asarray(labels, dtype=np.int64))


def split_per_class(split: Split, train_per_class: int, seed: int) -> tuple[Split, Split]:
    """Seeded split: ``train_per_class`` random files of each class for training, the rest test."""
    train = split.subset(train_per_class, seed)
    chosen = set(train.paths)
    rest = [i for i, p in enumerate(split.paths) if p not in chosen]
    return train, Split(tuple(split.paths[i] for i in rest), split.labels[rest])


def load_scene15(root, train_per_class: int = 100, seed: int = 0) -> Scene15:
    """Index ``root`` (either layout). Raises FileNotFoundError when there are no class folders.

    Unreadable/non-image files are skipped with one warning naming the count and the first one.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"15-Scene folder not found: {root}")
    skipped: list = []
    standard = (root / "train").is_dir() and (root / "test").is_dir()
    if standard:
        train, test = scan_classes(root / "train", skipped), scan_classes(root / "test", skipped)
    else:
        train = test = scan_classes(root, skipped)
    if len(train) == 0:
        raise FileNotFoundError(
            f"{root}: no class folders with images (expected {CLASSES[0]}/, ... "
            "or train/ and test/ holding them)"
        )
    if not standard:
        train, test = split_per_class(train, train_per_class, seed)
    if skipped:
        warnings.warn(
            f"15-Scene: skipped {len(skipped)} unreadable or non-image file(s), "
            f"first {skipped[0][0]}: {skipped[0][1]}",
            stacklevel=2,
        )
    only_test = sorted(set(test.labels.tolist()) - set(train.labels.tolist()))
    if only_test:
        warnings.warn(
            f"15-Scene: class(es) {', '.join(CLASSES[c] for c in only_test)} have test images "
            "but no training images: a classifier cannot predict them",
            stacklevel=2,
        )
    return Scene15(train, test, CLASSES, tuple(skipped), standard)
