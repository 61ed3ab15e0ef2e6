"""ImageNet conventions: preprocessing (dtype, grey/RGBA, resize + crop, normalisation and its
inverse), class names and lookup, bad inputs; the jitted resize agrees with PIL on a photo."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import imagenet
from jaxdl.data.images import load_image
from tests.conftest import require


def random_uint8(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_uint8_and_float_inputs_give_the_same_network_input():
    image = random_uint8((300, 500, 3))
    from_uint8 = imagenet.preprocess(image)
    from_float = imagenet.preprocess(image.astype(np.float32) / 255.0)
    chex.assert_type(from_uint8, jnp.float32)
    np.testing.assert_allclose(from_uint8, from_float, atol=1e-6)


def test_grey_images_equal_the_replicated_rgb_image():
    grey = random_uint8((240, 320))
    rgb = imagenet.preprocess(np.repeat(grey[..., None], 3, axis=-1))
    np.testing.assert_allclose(imagenet.preprocess(grey), rgb, atol=1e-6)
    np.testing.assert_allclose(imagenet.preprocess(grey[..., None]), rgb, atol=1e-6)


def test_rgba_drops_alpha():
    rgba = random_uint8((256, 256, 4))
    # equal up to float rounding: the two shapes compile to differently fused programs
    np.testing.assert_allclose(
        imagenet.preprocess(rgba), imagenet.preprocess(rgba[..., :3]), atol=1e-6
    )


@pytest.mark.parametrize("height,width", [(300, 500), (500, 300), (224, 224), (100, 120)])
def test_resize_and_centre_crop_give_224_square_inputs(height, width):
    image = random_uint8((height, width, 3))
    chex.assert_shape(imagenet.preprocess(image), (1, 224, 224, 3))
    chex.assert_shape(imagenet.preprocess(image, resize=None), (1, 224, 224, 3))
    chex.assert_shape(imagenet.preprocess(image, size=227, resize=256), (1, 227, 227, 3))


def test_batches_are_preprocessed_image_by_image():
    batch = random_uint8((3, 300, 500, 3))
    out = imagenet.preprocess(batch)
    chex.assert_shape(out, (3, 224, 224, 3))
    np.testing.assert_allclose(out[1], imagenet.preprocess(batch[1])[0], atol=1e-6)


def test_crop_of_an_image_already_at_resize_size_is_its_centre():
    image = random_uint8((256, 256, 3))
    expected = imagenet.normalize(image[16:240, 16:240].astype(np.float32) / 255.0)
    np.testing.assert_allclose(imagenet.preprocess(image)[0], expected, atol=1e-6)


@pytest.mark.parametrize("norm", [imagenet.TORCHVISION, imagenet.CAFFE])
def test_normalize_and_deprocess_are_inverse(norm):
    pixels = jax.random.uniform(jax.random.key(0), (2, 8, 8, 3))
    np.testing.assert_allclose(
        imagenet.deprocess(imagenet.normalize(pixels, norm), norm), pixels, atol=1e-6
    )
    low, high = imagenet.pixel_bounds(norm)
    np.testing.assert_allclose(
        imagenet.deprocess(jnp.broadcast_to(low, (1, 1, 3)), norm), 0.0, atol=1e-6
    )
    np.testing.assert_allclose(
        imagenet.deprocess(jnp.broadcast_to(high, (1, 1, 3)), norm), 1.0, atol=1e-6
    )


def test_caffe_normalisation_is_bgr_minus_mean_pixel():
    pixel = np.array([[[200, 100, 50]]], np.uint8)
    x = imagenet.preprocess(pixel, size=1, resize=None, norm=imagenet.CAFFE)
    np.testing.assert_allclose(x[0, 0, 0], [50 - 104, 100 - 117, 200 - 123], atol=1e-3)


def test_torchvision_normalisation_uses_imagenet_mean_and_std():
    x = imagenet.normalize(jnp.full((1, 1, 3), 0.5))
    np.testing.assert_allclose(
        x[0, 0],
        (0.5 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225]),
        rtol=1e-6,
    )


@pytest.mark.parametrize("shape", [(2, 2, 2, 2, 2), (5,), (4, 32, 32, 5)])
def test_wrong_rank_or_channels_is_an_error(shape):
    with pytest.raises(ValueError, match="expected an image"):
        imagenet.preprocess(np.zeros(shape, np.uint8))


def test_class_names_are_the_1000_in_torchvision_order():
    names = imagenet.class_names()
    assert len(names) == 1000
    assert imagenet.short_name(0) == "tench" and imagenet.short_name(999) == "toilet tissue"


def test_class_index_accepts_names_indices_and_digit_strings():
    assert imagenet.class_index("tench") == 0
    assert imagenet.class_index("Tinca tinca") == 0
    assert imagenet.class_index(" Wombat ") == 106
    assert imagenet.class_index(42) == imagenet.class_index("42") == 42


@pytest.mark.parametrize("bad", ["not a class", 1000, "-1"])
def test_class_index_rejects_unknown_names_and_out_of_range(bad):
    with pytest.raises(ValueError, match="class"):
        imagenet.class_index(bad)


def test_jitted_resize_crop_matches_pil_on_a_photo(data_dir):
    """preprocess (jax.image.resize, antialiased bilinear in float) vs load_image (PIL BILINEAR,
    which also antialiases when shrinking, then rounds to uint8): they differ by the uint8
    rounding and edge handling only -- measured mean 0.0011, max 0.0039 (1/255) on BSDS photos."""
    photo = sorted(require(data_dir, "bsds500/val").glob("*.jpg"))[0]
    image = load_image(photo)
    assert image.shape[:2] != (256, 256)
    for resize in (256, None):
        reference = load_image(photo, 224, resize).astype(np.float32) / 255.0
        ours = np.asarray(imagenet.deprocess(imagenet.preprocess(image, resize=resize))[0])
        diff = np.abs(ours - reference)
        assert diff.mean() < 0.003 and diff.max() < 2.5 / 255, (resize, diff.mean(), diff.max())
