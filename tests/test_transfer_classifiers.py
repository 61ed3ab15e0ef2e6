"""Classifiers on features: SVMs with cross-validated C, the optax head, metrics, fine-tuning."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion

from jaxdl.transfer import classifiers as clf


def blobs(n_per_class=40, classes=3, dim=20, seed=0, spread=0.3):
    """Linearly separable clusters (means far apart, all positive like ReLU features)."""
    rng = np.random.default_rng(seed)
    means = rng.uniform(0, 5, (classes, dim))
    x = np.concatenate([m + spread * rng.normal(size=(n_per_class, dim)) for m in means]).astype(
        np.float32
    )
    return x, np.repeat(np.arange(classes), n_per_class)


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_svm_separates_separable_features(normalize, kernel):
    x, y = blobs(seed=1)
    x_test, y_test = blobs(n_per_class=20, seed=1)
    fit = clf.fit_svm(x, y, normalize=normalize, kernel=kernel, cs=(0.1, 1.0), folds=3)
    assert fit.C in (0.1, 1.0)
    assert fit.cv_accuracy == pytest.approx(1.0)
    assert fit.accuracy(x_test, y_test) == 1.0


def test_unknown_kernel_is_rejected():
    with pytest.raises(ValueError, match="unknown SVM kernel 'poly'"):
        clf.fit_svm(*blobs(), kernel="poly")


def test_l2_normalisation_and_fusion_give_unit_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(clf.l2_normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    fused = clf.concat_normalized([np.ones((4, 3)), 100 * np.ones((4, 5))])
    chex.assert_shape(fused, (4, 8))
    np.testing.assert_allclose(np.linalg.norm(fused, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        np.linalg.norm(fused[:, :3], axis=1), np.sqrt(0.5), rtol=1e-6
    )  # blocks weigh equally


def test_linear_head_fits_separable_features():
    x, y = blobs(seed=2)
    head = clf.fit_linear_head(clf.l2_normalize(x), y, 3, steps=200)
    chex.assert_shape([head["kernel"], head["bias"]], [(20, 3), (3,)])
    x_test, y_test = blobs(n_per_class=20, seed=2)
    assert (
        np.mean(np.asarray(clf.linear_logits(head, clf.l2_normalize(x_test))).argmax(-1) == y_test)
        == 1.0
    )


def test_confusion_and_per_class_accuracy_match_sklearn():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 2])
    expected = sk_confusion(y_true, y_pred, labels=range(4))
    np.testing.assert_array_equal(clf.confusion_matrix(y_true, y_pred, 4), expected)
    np.testing.assert_allclose(clf.per_class_accuracy(y_true, y_pred, 4), [0.5, 2 / 3, 1.0, np.nan])


@pytest.mark.slow  # fine-tuning (half a minute)
def test_finetune_trains_the_last_block_only_and_checkpoints(tmp_path):
    from jaxdl.models import get_model
    from jaxdl.transfer.features import Preprocessing
    from jaxdl.transfer.finetune import augment, finetune

    params = jax.jit(get_model("squeezenet1_1").init)(jax.random.key(0), jnp.zeros((1, 40, 40, 3)))[
        "params"
    ]
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (16, 40, 40, 1), dtype=np.uint8)
    labels = np.arange(16) % 4
    pre = Preprocessing(size=32, resize=40, channels="grey_folded")
    tuned, records = finetune(
        "squeezenet1_1",
        params,
        images,
        labels,
        4,
        pre,
        epochs=2,
        batch_size=8,
        checkpoint_dir=tmp_path / "ckpt",
    )
    chex.assert_shape(
        [tuned["classifier"]["kernel"], tuned["conv1"]["kernel"]], [(1, 1, 512, 4), (3, 3, 1, 64)]
    )
    chex.assert_trees_all_equal(tuned["fire8"], params["fire8"])  # frozen
    assert not np.allclose(
        tuned["fire9"]["squeeze"]["kernel"], params["fire9"]["squeeze"]["kernel"]
    )
    assert [r["step"] for r in records] == [2, 4] and all(np.isfinite(r["loss"]) for r in records)
    assert sorted(int(p.name) for p in (tmp_path / "ckpt").iterdir() if p.name.isdigit()) == [2, 4]
    crops = augment(jnp.asarray(images[:4]), jax.random.key(1), 32)
    chex.assert_shape(crops, (4, 32, 32, 1))
    assert float(crops.max()) <= 1.0
