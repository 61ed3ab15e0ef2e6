"""The 15-Scene folder loader: both namings, both layouts, bad files skipped and counted."""

import warnings

import numpy as np
import pytest
from PIL import Image

from jaxdl.data.scene15 import CLASSES, LAZEBNIK_NAMES, class_label, load_scene15


def write_images(folder, count, size=(24, 20)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(folder)))
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, size[::-1], dtype=np.uint8), "L").save(
            folder / f"image_{i:04d}.jpg"
        )


def test_both_namings_map_to_the_canonical_classes():
    assert [class_label(n) for n in CLASSES] == list(range(15))
    assert [class_label(n) for n in LAZEBNIK_NAMES] == list(range(15))
    assert class_label("MITcoast") == class_label("coast") == CLASSES.index("Coast")
    with pytest.raises(ValueError, match="unknown 15-Scene class folder 'Beach'"):
        class_label("Beach")


def test_split_folders_give_the_standard_split_and_skip_bad_files(tmp_path):
    for name in ("Bedroom", "MITcoast", "PARoffice"):  # mixed namings
        write_images(tmp_path / "train" / name, 3)
        write_images(tmp_path / "test" / name, 2)
    (tmp_path / "train" / "Bedroom" / "broken.jpg").write_bytes(b"not a jpeg at all")
    (tmp_path / "test" / "MITcoast" / "notes.txt").write_text("hello")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_scene15(tmp_path)
    assert len([w for w in caught if "skipped 2" in str(w.message)]) == 1  # ONE warning for both
    assert data.standard_split
    assert (len(data.train), len(data.test)) == (9, 6)
    assert len(data.skipped) == 2
    assert {p.rsplit("/", 1)[-1] for p, _ in data.skipped} == {"broken.jpg", "notes.txt"}
    labels = [CLASSES.index(c) for c in ("Bedroom", "Coast", "Office")]
    np.testing.assert_array_equal(np.bincount(data.train.labels, minlength=15)[labels], [3, 3, 3])
    np.testing.assert_array_equal(np.unique(data.test.labels), sorted(labels))
    assert all(
        y == CLASSES.index("Coast")
        for p, y in zip(data.train.paths, data.train.labels)
        if "MITcoast" in str(p)
    )


def test_unsplit_folder_gets_a_seeded_per_class_split(tmp_path):
    for name in ("kitchen", "Store"):
        write_images(tmp_path / name, 5)
    first = load_scene15(tmp_path, train_per_class=3, seed=1)
    again = load_scene15(tmp_path, train_per_class=3, seed=1)
    other = load_scene15(tmp_path, train_per_class=3, seed=2)
    assert not first.standard_split
    assert (len(first.train), len(first.test)) == (6, 4)
    assert first.train.paths == again.train.paths
    assert first.train.paths != other.train.paths
    assert not set(first.train.paths) & set(first.test.paths)
    assert sorted(np.bincount(first.train.labels)[np.bincount(first.train.labels) > 0]) == [3, 3]


def test_subset_draws_per_class_and_keeps_file_order(tmp_path):
    for name in CLASSES[:3]:
        write_images(tmp_path / "train" / name, 4)
        write_images(tmp_path / "test" / name, 1)
    train = load_scene15(tmp_path).train
    small = train.subset(2, seed=0)
    assert len(small) == 6
    assert list(small.paths) == sorted(small.paths, key=list(train.paths).index)


def test_missing_or_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_scene15(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="no class folders"):
        load_scene15(tmp_path)


def test_real_scene15_has_the_standard_split(data_dir):
    from conftest import require

    data = load_scene15(require(data_dir, "scene15"))
    assert (len(data.train), len(data.test), len(data.skipped)) == (1500, 2985, 0)
    np.testing.assert_array_equal(np.bincount(data.train.labels), [100] * 15)
