"""Feature extraction: layer outputs, view averaging, the grey conv1 fold, the on-disk cache."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from jaxdl.imagenet import CAFFE, TORCHVISION, normalize, to_rgb
from jaxdl.models import get_model
from jaxdl.transfer.features import Preprocessing, extract_features, make_views
from jaxdl.transfer.grey import fold_grey
from tests.conftest import random_params

SMALL = Preprocessing(size=48, resize=56)


@functools.lru_cache(maxsize=1)
def squeezenet_params():
    return random_params(get_model("squeezenet1_1"), jnp.zeros((1, 48, 48, 3)))


@pytest.fixture
def image_files(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i, size in enumerate([(60, 70), (80, 56), (56, 56), (90, 64), (64, 100)]):
        path = tmp_path / "images" / f"im{i}.jpg"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, size[::-1], dtype=np.uint8), "L").save(path)
        paths.append(path)
    return paths


def test_features_are_pooled_layer_outputs_in_one_pass(image_files):
    params = squeezenet_params()
    features, cached = extract_features(
        "squeezenet1_1", params, image_files, ["fire9", "classifier", "fire5"], SMALL, batch_size=2
    )
    assert cached == ()
    chex.assert_shape(
        [features["fire9"], features["classifier"], features["fire5"]],
        [(5, 512), (5, 1000), (5, 256)],
    )
    # the pooled classifier map is the network's logits
    from jaxdl.transfer.features import decode

    x = normalize(
        to_rgb(jnp.asarray(np.stack([decode(p, SMALL) for p in image_files])) / 255.0), TORCHVISION
    )
    logits, acts = jax.jit(get_model("squeezenet1_1").apply)({"params": params}, x)
    np.testing.assert_allclose(features["classifier"], logits, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        features["fire9"], acts["fire9"].mean(axis=(1, 2)), rtol=1e-4, atol=1e-5
    )


def test_cache_hits_on_a_second_call_and_misses_when_the_layer_changes(image_files, tmp_path):
    params, cache = squeezenet_params(), tmp_path / "cache"
    first, cached = extract_features(
        "squeezenet1_1", params, image_files, ["fire9"], SMALL, cache_dir=cache
    )
    assert cached == ()
    calls = []
    second, cached = extract_features(
        "squeezenet1_1",
        params,
        image_files,
        ["fire9"],
        SMALL,
        cache_dir=cache,
        progress=calls.append,
    )
    assert cached == ("fire9",) and calls == []  # no image decoded, no network run
    np.testing.assert_array_equal(first["fire9"], second["fire9"])
    _, cached = extract_features(
        "squeezenet1_1", params, image_files, ["fire8", "fire9"], SMALL, cache_dir=cache
    )
    assert cached == ("fire9",)  # fire8 computed
    _, cached = extract_features(
        "squeezenet1_1", params, image_files[:4], ["fire9"], SMALL, cache_dir=cache
    )
    assert cached == ()  # another image list
    _, cached = extract_features(
        "squeezenet1_1",
        params,
        image_files,
        ["fire9"],
        Preprocessing(size=48, resize=56, views="flip"),
        cache_dir=cache,
    )
    assert cached == ()  # other preprocessing
    other = jax.tree.map(lambda a: a * 1.01, params)
    _, cached = extract_features(
        "squeezenet1_1", other, image_files, ["fire9"], SMALL, cache_dir=cache
    )
    assert cached == ()  # other weights


def test_grey_fold_without_norm_equals_the_rgb_model_on_replicated_inputs():
    params = squeezenet_params()
    grey = jax.random.normal(jax.random.key(1), (2, 48, 48, 1))
    model = get_model("squeezenet1_1")
    rgb_out, _ = model.apply({"params": params}, jnp.repeat(grey, 3, axis=-1), stop_at="fire3")
    folded = fold_grey(params, "conv1")
    chex.assert_shape(folded["conv1"]["kernel"], (3, 3, 1, 64))
    grey_out, _ = model.apply({"params": folded}, grey, stop_at="fire3")
    np.testing.assert_allclose(grey_out, rgb_out, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("norm", [TORCHVISION, CAFFE], ids=["torchvision", "caffe-bgr"])
def test_grey_fold_with_norm_equals_normalised_replicated_grey(norm):
    params = squeezenet_params()
    grey = jax.random.uniform(jax.random.key(2), (2, 48, 48, 1))
    model = get_model("squeezenet1_1")
    rgb_out, _ = model.apply({"params": params}, normalize(to_rgb(grey), norm), stop_at="conv1")
    grey_out, _ = model.apply({"params": fold_grey(params, "conv1", norm)}, grey, stop_at="conv1")
    np.testing.assert_allclose(grey_out, rgb_out, rtol=1e-4, atol=1e-4)


def test_grey_folded_pipeline_gives_the_rgb_pipeline_features(image_files):
    params = squeezenet_params()
    rgb, _ = extract_features("squeezenet1_1", params, image_files, ["fire9"], SMALL)
    grey, _ = extract_features(
        "squeezenet1_1",
        params,
        image_files,
        ["fire9"],
        Preprocessing(size=48, resize=56, channels="grey_folded"),
    )
    np.testing.assert_allclose(grey["fire9"], rgb["fire9"], rtol=1e-3, atol=1e-4)


def test_views_are_the_image_its_mirror_and_ten_crops():
    x = jnp.arange(2 * 6 * 6 * 1, dtype=jnp.float32).reshape(2, 6, 6, 1)
    chex.assert_shape(make_views(x, Preprocessing(size=4, resize=6)), (1, 2, 6, 6, 1))
    flip = make_views(x, Preprocessing(size=4, resize=6, views="flip"))
    np.testing.assert_array_equal(flip[1], x[:, :, ::-1])
    ten = make_views(x, Preprocessing(size=4, resize=6, views="tencrop"))
    chex.assert_shape(ten, (10, 2, 4, 4, 1))
    np.testing.assert_array_equal(ten[0], x[:, :4, :4])
    np.testing.assert_array_equal(ten[4], x[:, 1:5, 1:5])
    np.testing.assert_array_equal(ten[9], x[:, 1:5, 1:5][:, :, ::-1])
    with pytest.raises(ValueError, match="tencrop needs resize > size"):
        Preprocessing(size=224, resize=None, views="tencrop")


def test_unknown_layer_is_rejected_before_any_work(image_files):
    with pytest.raises(ValueError, match="unknown squeezenet1_1 layer 'relu6'"):
        extract_features("squeezenet1_1", {}, image_files, ["relu6"], SMALL)
