"""Architecture facts (parameter counts, named intermediates, early stopping, dropout), every JAX
transform on the default layers, and jaxdl.cpu's kernels equal to them."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import cpu
from jaxdl.cpu import winograd
from jaxdl.cpu.layers import (
    NHWC,
    Conv,
    ConvTranspose,
    Dense,
    _input_gradient,
    _patch_input_gradient,
    conv2d,
    dense,
)
from jaxdl.layers import FLAX, adaptive_avg_pool, max_pool
from jaxdl.models import MODELS, get_model
from tests.conftest import random_params


def param_shapes(name, size=224, channels=3):
    model = get_model(name)
    return jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, size, size, channels)))[
        "params"
    ]


def count(tree):
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def assert_drop_in(ours, reference, x):
    """``ours`` has ``reference``'s (flax layer's) params, outputs and gradients on x."""
    params = reference.init(jax.random.key(1), x)
    params = jax.tree.map(
        lambda p: p + jax.random.normal(jax.random.key(2), p.shape), params
    )  # non-zero bias
    chex.assert_trees_all_equal_shapes_and_dtypes(ours.init(jax.random.key(1), x), params)

    def loss(module):
        return lambda p, v: jnp.sum(jnp.sin(module.apply(p, v)))

    # jitted: one compile each instead of one per eager operation
    np.testing.assert_allclose(
        jax.jit(ours.apply)(params, x), jax.jit(reference.apply)(params, x), atol=1e-5
    )
    grads = jax.jit(jax.grad(loss(ours), (0, 1)))(params, x)
    grads_reference = jax.jit(jax.grad(loss(reference), (0, 1)))(params, x)
    chex.assert_trees_all_close(grads, grads_reference, atol=1e-4)


def test_vgg16_parameter_count_is_torchvision_total_and_conv_part():
    shapes = param_shapes("vgg16")
    assert count(shapes) == 138_357_544
    conv = {k: v for k, v in shapes.items() if k.startswith("conv")}
    assert count(conv) == 14_714_688


@pytest.mark.parametrize("name,total", [("squeezenet1_0", 1_248_424), ("squeezenet1_1", 1_235_496)])
def test_squeezenet_parameter_counts_match_torchvision(name, total):
    assert count(param_shapes(name)) == total


def test_vgg16_intermediates_have_documented_shapes():
    model = get_model("vgg16")
    shapes = param_shapes("vgg16")
    _, acts = jax.eval_shape(
        lambda p: model.apply({"params": p}, jnp.zeros((2, 224, 224, 3))), shapes
    )
    chex.assert_shape([acts["conv1_1"], acts["conv5_3"]], [(2, 224, 224, 64), (2, 14, 14, 512)])
    chex.assert_shape(
        [acts["pool5"], acts["relu6"], acts["relu7"], acts["relu8"]],
        [(2, 7, 7, 512), (2, 4096), (2, 4096), (2, 1000)],
    )


def test_stop_at_returns_the_layer_without_building_the_rest():
    model = get_model("squeezenet1_1")
    x = jnp.zeros((1, 224, 224, 3))
    params = jax.jit(model.init)(jax.random.key(0), x)["params"]
    apply = jax.jit(model.apply, static_argnames="stop_at")
    out, acts = apply({"params": params}, x, stop_at="fire5")
    chex.assert_shape(out, (1, 27, 27, 256))
    assert "fire6" not in acts and "classifier" not in acts
    # the classifier's params are not needed when stopping early
    trimmed = {
        k: v
        for k, v in params.items()
        if k not in ("fire6", "fire7", "fire8", "fire9", "classifier")
    }
    out2, _ = apply({"params": trimmed}, x, stop_at="fire5")
    np.testing.assert_array_equal(out, out2)


def test_unknown_layer_name_lists_the_valid_ones():
    model = get_model("vgg16")
    with pytest.raises(ValueError, match="valid: conv1_1"):
        model.apply({"params": {}}, jnp.zeros((1, 32, 32, 3)), stop_at="fc9")


def test_dropout_is_active_only_in_training():
    model = get_model("mnist_cnn")
    x = jax.random.uniform(jax.random.key(1), (4, 28, 28, 1))
    params = model.init(jax.random.key(0), x)["params"]
    eval1, _ = model.apply({"params": params}, x)
    eval2, _ = model.apply({"params": params}, x)
    np.testing.assert_array_equal(eval1, eval2)
    train1, _ = model.apply({"params": params}, x, train=True, rngs={"dropout": jax.random.key(2)})
    assert not np.allclose(train1, eval1)


def test_max_pool_ceil_mode_matches_pytorch_output_size():
    x = jnp.arange(2 * 111 * 111 * 1, dtype=jnp.float32).reshape(2, 111, 111, 1)
    chex.assert_shape(max_pool(x, 3, 2, ceil_mode=True), (2, 55, 55, 1))
    chex.assert_shape(max_pool(jnp.zeros((1, 54, 54, 1)), 3, 2, ceil_mode=True), (1, 27, 27, 1))
    chex.assert_shape(max_pool(jnp.zeros((1, 54, 54, 1)), 3, 2), (1, 26, 26, 1))


def test_adaptive_avg_pool_uneven_bins_average_pytorch_windows():
    x = jnp.arange(10, dtype=jnp.float32).reshape(1, 10, 1, 1) * jnp.ones((1, 10, 3, 1))
    out = adaptive_avg_pool(x, (3, 1))
    # PyTorch bins for 10 -> 3: [0,4), [3,7), [6,10)
    np.testing.assert_allclose(out[0, :, 0, 0], [1.5, 4.5, 7.5])


@pytest.mark.parametrize(
    "kernel,strides,size",
    [
        ((4, 4), (2, 2), (7, 7)),  # the DCGAN upsampling
        ((4, 4), (2, 2), (5, 6)),
        ((3, 3), (2, 2), (5, 5)),  # kernel not a multiple of the stride: phases have 2 or 1 taps
        ((6, 4), (3, 2), (4, 5)),
        ((3, 3), (1, 1), (4, 4)),
    ],
)
def test_cpu_conv_transpose_equals_flax_conv_transpose(kernel, strides, size):
    import flax.linen as nn

    x = jax.random.normal(jax.random.key(0), (2, *size, 3))
    reference, ours = (
        nn.ConvTranspose(5, kernel, strides, padding="SAME"),
        ConvTranspose(5, kernel, strides),
    )
    assert_drop_in(ours, reference, x)


@pytest.mark.parametrize(
    "kernel,strides,padding,size",
    [
        ((3, 3), (2, 2), "VALID", (15, 15)),  # SqueezeNet 1.1 conv1
        ((7, 7), (2, 2), "VALID", (20, 21)),  # SqueezeNet 1.0 conv1: the last input rows unused
        ((4, 4), (2, 2), ((1, 1), (1, 1)), (14, 14)),  # the DCGAN discriminator
        ((3, 3), (2, 2), "SAME", (8, 9)),  # asymmetric 'SAME' padding
        ((5, 5), (1, 1), "VALID", (12, 12)),  # DANN
        ((1, 1), (1, 1), ((1, 1), (1, 1)), (5, 5)),  # padded 1x1 (SqueezeNet 1.0 Caffe classifier)
        ((3, 3), (1, 1), "SAME", (9, 10)),  # VGG16 conv1_1
    ],
)
def test_cpu_conv_equals_flax_conv_values_and_gradients(kernel, strides, padding, size):
    import flax.linen as nn

    x = jax.random.normal(jax.random.key(0), (2, *size, 3))
    reference, ours = (
        nn.Conv(5, kernel, strides, padding=padding),
        Conv(5, kernel, strides, padding=padding),
    )
    assert_drop_in(ours, reference, x)


@pytest.mark.parametrize("version, final_conv_padding", [("1_1", 0), ("1_0", 1)])
def test_cpu_squeezenet_class_scores_are_the_logits_of_those_classes(version, final_conv_padding):
    from jaxdl.models.squeezenet import SqueezeNet

    model = SqueezeNet(version=version, final_conv_padding=final_conv_padding)
    x = jax.random.normal(jax.random.key(0), (2, 64, 64, 3))
    rng = np.random.RandomState(
        0
    )  # kernels N(0, 1/fan_in), biases N(0, 0.1): half the units active
    params = jax.tree.map(
        lambda p: (
            rng.normal(size=p.shape) / np.sqrt(np.prod(p.shape[:-1]) if p.ndim > 1 else 10)
        ).astype(np.float32),
        jax.eval_shape(model.init, jax.random.key(0), x),
    )
    classes = jnp.array([999, 3])

    def scores(v):
        return cpu.squeezenet_class_scores(model, params["params"], v, classes)

    def picked(v):
        return model.apply(params, v)[0][jnp.arange(2), classes]

    values = jax.jit(lambda v: (scores(v), picked(v)))(x)
    grads = jax.jit(
        lambda v: (jax.grad(lambda u: scores(u).sum())(v), jax.grad(lambda u: picked(u).sum())(v))
    )(x)
    chex.assert_shape(values[0], (2,))
    np.testing.assert_allclose(*values, rtol=1e-5, atol=1e-7)
    assert np.abs(grads[1]).max() > 0
    np.testing.assert_allclose(*grads, rtol=1e-5, atol=1e-5 * np.abs(grads[1]).max())


def test_conv_input_gradient_in_a_loop_compiles_to_canonical_convolutions():
    """The reason ``conv2d`` exists: in a fori_loop, XLA:CPU kept JAX's 'OI'-kernel input-gradient
    convolution (no Eigen kernel); every convolution must have an HWIO ('01io') kernel."""
    import re

    kernel = jnp.ones((3, 3, 8, 16))

    def ascend(x):
        grad = jax.grad(lambda v: jnp.sum(jax.nn.relu(conv2d(v, kernel, padding="SAME")) ** 2))
        return jax.lax.fori_loop(0, 3, lambda i, v: v + grad(v), x)

    hlo = jax.jit(ascend).lower(jnp.ones((2, 9, 9, 8))).compile().as_text()
    labels = set(re.findall(r"dim_labels=\w+_(\w+)->", hlo))
    assert labels == {"01io"}, labels


@pytest.mark.parametrize(
    "strides,padding", [((1, 1), "SAME"), ((2, 2), "VALID")]
)  # VGG16's, SqueezeNet 1.1's
def test_first_layer_input_gradient_is_a_gemm_on_cpu(strides, padding):
    """Few input channels (VGG16's conv1_1, SqueezeNet 1.1's stride-2 conv1): on CPU the input
    gradient is one GEMM plus overlap-adds, not a convolution with 3 output channels (values:
    the test below)."""
    kernel = jnp.ones((3, 3, 3, 64))
    loss = lambda x: jnp.sum(jnp.sin(conv2d(x, kernel, strides, padding)))  # noqa: E731
    text = jax.jit(jax.grad(loss)).lower(jnp.ones((2, 9, 9, 3))).as_text()
    assert (
        text.count("stablehlo.convolution") == 1 and "dot_general" in text
    )  # the forward's convolution only


@pytest.mark.parametrize(
    "strides,padding",
    [((1, 1), ((1, 1), (1, 1))), ((2, 2), ((0, 0), (0, 0))), ((3, 2), ((0, 2), (1, 0)))],
)
def test_patch_input_gradient_equals_the_convolution_transpose(strides, padding):
    x_shape, kernel = (2, 11, 10, 3), jax.random.normal(jax.random.key(1), (3, 3, 3, 8))
    out = jax.eval_shape(
        lambda x: jax.lax.conv_general_dilated(x, kernel, strides, padding, dimension_numbers=NHWC),
        jax.ShapeDtypeStruct(x_shape, jnp.float32),
    )
    g = jax.random.normal(jax.random.key(2), out.shape)
    expected = _input_gradient(g, kernel, x_shape, strides, padding)
    chex.assert_shape(expected, x_shape)
    got = _patch_input_gradient(g, kernel, x_shape, strides, padding)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def _lax_conv(x, kernel, padding):
    return jax.lax.conv_general_dilated(
        x, kernel, (1, 1), padding, dimension_numbers=("NHWC", "HWIO", "NHWC")
    )


@pytest.mark.parametrize(
    "size,padding",
    [
        ((12, 12), ((1, 1), (1, 1))),  # 'SAME', whole tiles
        ((9, 11), ((1, 1), (1, 1))),  # odd sizes: a partial last tile
        ((10, 9), ((0, 0), (0, 0))),  # 'VALID'
        ((8, 8), ((2, 0), (0, 3))),  # asymmetric
    ],
)
def test_winograd_equals_direct_convolution(size, padding):
    x = jax.random.normal(jax.random.key(0), (2, *size, 5))
    kernel = jax.random.normal(jax.random.key(1), (3, 3, 5, 7))
    expected = _lax_conv(x, kernel, padding)
    got = jax.jit(winograd.conv2d_3x3, static_argnums=2)(x, kernel, padding)
    chex.assert_shape(got, expected.shape)
    np.testing.assert_allclose(got, expected, atol=2e-6 * float(jnp.abs(expected).max()))


def test_conv_takes_winograd_on_cpu_with_the_same_values_and_gradients():
    """VGG16-like channels and enough tiles: ``conv2d`` and its input gradient run as Winograd
    (no convolution left in the program), and values and both gradients match
    ``lax.conv_general_dilated``'s."""
    x = jax.random.normal(jax.random.key(0), (2, 40, 38, 96))
    kernel = jax.random.normal(jax.random.key(1), (3, 3, 96, 80)) / 30
    assert winograd.pays_off(x.shape, kernel.shape, x.dtype)
    assert not winograd.pays_off(
        (8, 13, 13, 64), (3, 3, 64, 256), x.dtype
    )  # SqueezeNet 1.1's fire9
    assert not winograd.pays_off(
        (1, 14, 14, 512), (3, 3, 512, 512), x.dtype
    )  # VGG16's conv5 at batch 1
    assert not winograd.pays_off(x.shape, (1, 1, 96, 80), x.dtype)

    def loss(conv):
        return lambda x, kernel: jnp.sum(jnp.sin(conv(x, kernel)))

    ours = lambda x, kernel: conv2d(x, kernel, padding="SAME")  # noqa: E731
    reference = lambda x, kernel: _lax_conv(x, kernel, ((1, 1), (1, 1)))  # noqa: E731
    gradients = zip(
        jax.jit(jax.grad(loss(ours), (0, 1)))(x, kernel),
        jax.grad(loss(reference), (0, 1))(x, kernel),
    )
    for got, expected in [(jax.jit(ours)(x, kernel), reference(x, kernel)), *gradients]:
        np.testing.assert_allclose(got, expected, atol=2e-6 * float(jnp.abs(expected).max()))
    assert "convolution" not in jax.jit(jax.grad(loss(ours))).lower(x, kernel).as_text()


@pytest.mark.parametrize("shape", [(3, 7), (2, 4, 7)])
def test_cpu_dense_equals_flax_dense_values_and_gradients(shape):
    import flax.linen as nn

    x = jax.random.normal(jax.random.key(0), shape)
    reference, ours = nn.Dense(5), Dense(5)
    assert_drop_in(ours, reference, x)


def test_dense_input_gradient_keeps_the_kernel_as_the_left_operand():
    """The reason ``dense`` exists: XLA:CPU ran JAX's ``g @ kernel^T`` (the kernel as right
    operand, contracted on its minor dimension) several times slower than ``kernel @ g^T``."""
    import re

    def input_gradient(x, kernel):
        return jax.grad(lambda v: jnp.sum(jnp.sin(dense(v, kernel))))(x)

    hlo = jax.jit(input_gradient).lower(jnp.ones((2, 64)), jnp.ones((64, 32))).compile().as_text()
    dots = re.findall(
        r"dot\(%[\w.-]+, (%[\w.-]+)\), lhs_contracting_dims=\{\d\}, rhs_contracting_dims=\{(\d)\}",
        hlo,
    )
    assert len(dots) == 2 and ("%kernel.1", "1") not in dots, dots


def small_input(name, batch=2):
    """A small input of architecture ``name`` (VGG16 and SqueezeNet at 32x32 / 64x64)."""
    spec = MODELS[name]
    size = {"vgg16": 32}.get(name, 64 if spec.input_size >= 224 else spec.input_size)
    return jax.random.uniform(jax.random.key(3), (batch, size, size, spec.in_channels))


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n == "vgg16" else n for n in MODELS],  # 30 s
)
def test_every_model_supports_jvp_jacfwd_vmap_and_grad_on_the_default_layers(name):
    model = get_model(name)
    x = small_input(name)
    params = random_params(model, x)

    def logits(p, v):
        return model.apply({"params": p}, v)[0]

    tangent = jax.random.normal(jax.random.key(4), x.shape)
    # params are arguments, not closure constants: XLA would fold 0.5 GB of VGG16 into the program
    out, jvp_out = jax.jit(lambda p, v, t: jax.jvp(lambda u: logits(p, u), (v,), (t,)))(
        params, x, tangent
    )
    grad = jax.jit(jax.grad(lambda p, v: jnp.sum(logits(p, v) * jnp.cos(logits(p, v))), 1))(
        params, x
    )
    chex.assert_shape(jvp_out, out.shape)
    chex.assert_tree_all_finite((jvp_out, grad))
    # forward and reverse mode agree: <J t, c> = <t, J^T c> with c = d/d logits of that loss
    c = jax.grad(lambda y: jnp.sum(y * jnp.cos(y)))(out)
    np.testing.assert_allclose(jnp.vdot(jvp_out, c), jnp.vdot(tangent, grad), rtol=2e-3)
    patch = x[:1, :2, :2]  # jacfwd over 2x2 pixels of one image: 4 * C tangents
    jacobian = jax.jit(jax.jacfwd(lambda q, p: logits(p, x[:1].at[:, :2, :2].set(q))[0, :3]))(
        patch, params
    )
    chex.assert_shape(jacobian, (3, *patch.shape))
    stacked = jax.tree.map(lambda p: np.stack([p, 2 * p]), params)
    per_copy = jax.jit(jax.vmap(logits, in_axes=(0, None)))(stacked, x[:1])
    chex.assert_shape(per_copy, (2, 1, out.shape[-1]))
    np.testing.assert_allclose(per_copy[0], out[:1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(MODELS))
def test_cpu_kernel_models_equal_the_default_ones(name):
    """The same params give the same logits and input gradients (1e-5 relative) on both layer
    sets."""
    x = small_input(name)
    default, kernels = get_model(name), get_model(name, layers=cpu.LAYERS)
    params = random_params(default, x)
    chex.assert_trees_all_equal_shapes_and_dtypes(
        jax.eval_shape(kernels.init, jax.random.key(0), x)["params"], params
    )

    def value_and_input_gradient(model):
        def score(v, p):
            logits = model.apply({"params": p}, v)[0]
            return jnp.sum(logits * jnp.arange(logits.shape[-1])), logits

        return jax.jit(jax.value_and_grad(score, has_aux=True))(x, params)

    (_, ours), grad_ours = value_and_input_gradient(kernels)
    (_, theirs), grad_theirs = value_and_input_gradient(default)
    for got, expected in ((ours, theirs), (grad_ours, grad_theirs)):
        assert float(jnp.abs(got - expected).max() / jnp.abs(expected).max()) < 1e-5


@pytest.mark.parametrize("name", ["vgg16", "squeezenet1_1"])
@pytest.mark.parametrize("platform", ["cuda", "tpu"])
def test_default_models_lower_to_stock_convolutions_on_gpu_and_tpu(name, platform):
    """The plain-Flax VGG16 / SqueezeNet forward + input gradient, lowered for an accelerator:
    XLA's own convolutions, no optimisation barrier or custom call (the CPU kernels have both)."""

    def lowered(layers):
        model = get_model(name, layers=layers)
        x = jax.ShapeDtypeStruct((2, 224, 224, 3), jnp.float32)
        params = jax.eval_shape(model.init, jax.random.key(0), x)["params"]

        def forward_and_gradient(p, v):
            return jax.value_and_grad(lambda u: model.apply({"params": p}, u)[0][:, 0].sum())(v)

        return (
            jax.jit(forward_and_gradient)
            .trace(params, x)
            .lower(lowering_platforms=(platform,))
            .as_text()
        )

    text = lowered(FLAX)
    assert "stablehlo.convolution" in text
    assert "optimization_barrier" not in text and "custom_call" not in text
    assert "optimization_barrier" in lowered(cpu.LAYERS)  # what the test would catch
