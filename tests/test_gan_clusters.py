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
    images, kinds = blobs()
    found, shares = clusters.kmeans_clusters(images, 3, seed=0)
    chex.assert_shape(found, (90,))
    assert found.dtype == np.int32
    assert clusters.purity(found, kinds) == 1.0
    np.testing.assert_allclose(np.sort(shares), [1 / 3] * 3)
    again, _ = clusters.kmeans_clusters(images, 3, seed=0)
    np.testing.assert_array_equal(found, again)  # the seed fixes the clusters


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


def test_config_takes_clusters_or_labels_not_both():
    from experiments.configs.gan import GANConfig

    with pytest.raises(ValueError, match="clusters or conditional"):
        GANConfig(conditional=True, clusters=10)
    with pytest.raises(ValueError, match="at least 2"):
        GANConfig(clusters=1)


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
