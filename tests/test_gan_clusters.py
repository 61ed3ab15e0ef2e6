"""Label-free conditioning of the DCGAN on k-means clusters of the training images."""

import chex
import jax
import numpy as np
import pytest

from jaxdl.gan import clusters


def blobs(n_per: int = 30, seed: int = 0):
    """Three well-separated kinds of 8x8 uint8 images (a bright square in one of three corners,
    plus noise) and their kind (N,)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, (3 * n_per, 8, 8)).astype(np.uint8)
    kinds = np.repeat(np.arange(3), n_per)
    for i, (r, c) in enumerate([(0, 0), (0, 5), (5, 0)]):
        images[kinds == i, r : r + 3, c : c + 3] = 250
    order = rng.permutation(len(kinds))
    return images[order], kinds[order]


def test_kmeans_clusters_find_separated_groups_with_their_shares():
    images, kinds = blobs()  # told apart by position, which deskewing would centre away
    found, shares = clusters.kmeans_clusters(images, 3, seed=0, deskewed=False)
    chex.assert_shape(found, (90,))
    assert found.dtype == np.int32
    assert clusters.purity(found, kinds) == 1.0
    np.testing.assert_allclose(np.sort(shares), [1 / 3] * 3)
    again, _ = clusters.kmeans_clusters(images, 3, seed=0, deskewed=False)
    np.testing.assert_array_equal(found, again)  # the seed fixes the clusters


def slanted(strokes, slant: float, side: int = 16):
    """A side x side float image of vertical strokes (their column offsets from the centre),
    each sheared by ``slant`` columns per row: rows 3..side-4 are ink."""
    image = np.zeros((side, side), np.float32)
    for row in range(3, side - 3):
        for offset in strokes:
            col = side / 2 + offset + slant * (row - side / 2)
            left = int(np.floor(col))
            image[row, left], image[row, left + 1] = left + 1 - col, col - left
    return image


def reference_deskew(image):
    """scipy's affine transform (bilinear) with the shear and shift of the image's moments."""
    from scipy import ndimage

    rows, cols = np.mgrid[: image.shape[0], : image.shape[1]]
    mass = image.sum()
    r0, c0 = (rows * image).sum() / mass, (cols * image).sum() / mass
    slant = ((rows - r0) * (cols - c0) * image).sum() / ((rows - r0) ** 2 * image).sum()
    centre = (np.array(image.shape) - 1) / 2
    shear = np.array([[1.0, 0.0], [slant, 1.0]])
    offset = np.array([r0, c0]) - shear @ centre
    return ndimage.affine_transform(image, shear, offset=offset, order=1, mode="grid-constant")


def test_deskew_equals_scipys_affine_transform_and_uprights_a_slanted_stroke():
    images = np.stack([slanted([0], 0.4), slanted([-2, 2], -0.3), slanted([1], 0.0)])
    out = clusters.deskew(images)
    chex.assert_shape(out, images.shape)
    np.testing.assert_allclose(out, [reference_deskew(i) for i in images], atol=1e-5)
    chex.assert_trees_all_close(clusters.deskew(images[..., None])[..., 0], out)  # (N, H, W, 1)
    rows, cols = np.mgrid[:16, :16]
    for image in np.asarray(out):
        inked = image.sum(1) > 0.5
        centres = (cols * image).sum(1)[inked] / image.sum(1)[inked]
        assert np.ptp(centres) < 0.2  # every row's ink sits in the same column: upright


def test_deskewed_clusters_group_strokes_whatever_their_slant():
    slants = np.linspace(-0.8, 0.8, 11)
    images = np.stack([slanted(s, t) for s in ([0], [-1.5, 1.5]) for t in slants])
    kinds = np.repeat([0, 1], len(slants))  # one stroke or two, at any of 11 slants
    found, _ = clusters.kmeans_clusters(images, 2, seed=0)
    assert clusters.purity(found, kinds) == 1.0
    on_pixels, _ = clusters.kmeans_clusters(images, 2, seed=0, deskewed=False)
    assert clusters.purity(on_pixels, kinds) < 0.8  # without deskewing, slant splits them


@pytest.mark.parametrize("k", [1, 91])
def test_kmeans_clusters_reject_a_k_outside_2_to_n(k):
    with pytest.raises(ValueError, match=r"2 <= k <= 90"):
        clusters.kmeans_clusters(blobs()[0], k)


def test_sampled_clusters_follow_the_training_shares():
    shares = np.array([0.5, 0.3, 0.2, 0.0])
    drawn = clusters.sample_clusters(jax.random.key(0), shares, 20000)
    chex.assert_shape(drawn, (20000,))
    chex.assert_type(drawn, np.int32)
    np.testing.assert_allclose(np.bincount(drawn, minlength=4) / 20000, shares, atol=0.01)


def test_purity_is_the_majority_share_over_all_images():
    # cluster 0: labels 1, 1, 2 (majority 2); cluster 1: 3, 4 (majority 1) -> 3 of 5
    assert clusters.purity([0, 0, 0, 1, 1], [1, 1, 2, 3, 4]) == pytest.approx(0.6)


def test_clusters_within_classes_are_pure_and_find_each_class_modes():
    images, kinds = blobs()
    classes = (kinds == 2).astype(int)  # class 0 holds kinds 0 and 1, class 1 kind 2
    found, shares = clusters.clusters_within_classes(images, classes, 2, seed=0, deskewed=False)
    chex.assert_shape([found, shares], [(90,), (4,)])
    np.testing.assert_array_equal(found // 2, classes)  # cluster c is of class c // k
    assert clusters.purity(found, kinds) == 1.0  # class 0's two clusters are its two kinds
    np.testing.assert_allclose(shares[:2], [1 / 3, 1 / 3])
    assert shares.sum() == pytest.approx(1.0)


def test_clusters_sampled_within_classes_keep_the_class_and_its_shares():
    shares = np.array([0.3, 0.2, 0.1, 0.4])  # class 0: 60% / 40%, class 1: 20% / 80%
    labels = np.repeat([0, 1], 20000)
    drawn = clusters.sample_within_classes(jax.random.key(0), shares, labels, 2)
    chex.assert_type(drawn, np.int32)
    np.testing.assert_array_equal(drawn // 2, labels)
    np.testing.assert_allclose(
        np.bincount(drawn[:20000], minlength=4) / 20000, [0.6, 0.4, 0, 0], atol=0.01
    )
    np.testing.assert_allclose(
        np.bincount(drawn[20000:], minlength=4) / 20000, [0, 0, 0.2, 0.8], atol=0.01
    )


def test_config_refuses_a_single_cluster():
    from experiments.configs.gan import GANConfig

    with pytest.raises(ValueError, match="at least 2"):
        GANConfig(clusters=1)


@pytest.mark.slow  # a quick cDCGAN run on clusters end to end (40 s)
def test_cdcgan_on_clusters_within_classes_scores_the_cluster_class(tmp_path):
    import dataclasses

    from experiments import gan as chapter
    from experiments.runner import run_experiment

    config = dataclasses.replace(
        chapter.quick(chapter.Config(conditional=True, clusters=2)),
        steps=20,
        seeds=(0,),
        sample_every=20,
        eval_samples=200,
        time_budget_s=0.0,
    )
    assert chapter.build_gan(config).generator.num_classes == 20
    results = run_experiment("gan", chapter.run, config, tmp_path, data=None)
    assert results["model"] == "cDCGAN on 2 clusters per class"
    assert results["clusters_per_class"] == 2 and "gen_label_accuracy" in results
    assert [r["steps"] for r in results["per_seed"]] == [20]
    assert "trained 20 steps per seed" in results["sections"][0]["text"]
    _, y = chapter.fixed_batch(config, np.full(20, 0.05))
    np.testing.assert_array_equal(y // 2, np.repeat(np.arange(10), 10))  # rows stay classes
    assert len(np.unique(y)) > 10  # and draw both clusters of a class
    labels = chapter.draw_labels(config, jax.random.key(0), 100, np.full(20, 0.05))
    np.testing.assert_array_equal(chapter.class_of(config, labels), np.arange(100) % 10)
    assert "clusters within each digit" in results["sections"][0]["text"]


@pytest.mark.slow  # a quick self-conditioned GAN run end to end (35 s)
def test_self_conditioned_quick_run_draws_clusters_and_describes_them(tmp_path):
    import dataclasses

    from experiments import gan as chapter
    from experiments.runner import run_experiment

    config = dataclasses.replace(
        chapter.quick(chapter.Config(clusters=5)),
        steps=20,
        seeds=(0,),
        sample_every=20,
        eval_samples=200,
        time_budget_s=0.0,
    )
    results = run_experiment("gan", chapter.run, config, tmp_path, data=None)
    assert results["model"] == "DCGAN self-conditioned on 5 clusters"
    assert results["clusters"] == 5 and 0.1 < results["cluster_purity"] <= 1.0
    assert "gen_label_accuracy" not in results  # clusters are not digits: nothing to match
    assert (tmp_path / "samples.png").is_file()
    _, y = chapter.fixed_batch(config, np.full(5, 0.2))
    assert len(np.unique(y)) > 1  # the grid draws several clusters
    assert "k-means clusters" in results["sections"][0]["text"]


def test_deskewing_makes_mnist_clusters_purer(data_dir):
    from jaxdl.data.mnist import load_mnist

    path = data_dir / "mnist" / "mnist.npz"
    if not path.exists():
        pytest.skip(f"{path} not found")
    images, labels = (a[:20000] for a in load_mnist(path, "train"))
    purity = {
        deskewed: clusters.purity(clusters.kmeans_clusters(images, 100, 0, deskewed)[0], labels)
        for deskewed in (False, True)
    }
    assert purity[True] > purity[False] + 0.03, purity  # 60,000 images: 0.877 -> 0.924
