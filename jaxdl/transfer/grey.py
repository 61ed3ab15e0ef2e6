"""Grey inputs without replicating them: fold the first convolution's colour axis.

A convolution is linear in its input channels, so for an input whose three channels are
equal, ``conv(W, [g, g, g]) = conv(sum_c W[..., c, :], g)``: summing the kernel (kh, kw, 3, O)
over its input-channel axis gives a 1-channel model with identical outputs at a third of
the first layer's cost and input bandwidth.

With per-channel normalisation ``x_c = (g - m_c) / s_c`` the channels of a grey image are
not equal any more; ``fold_grey(..., norm=...)`` then folds the normalisation in as well
(kernel ``sum_c W_c / s_c``, bias ``b - sum W_c m_c / s_c``), so the 1-channel model takes
the grey image in [0, 1] directly. That is exact for a first convolution without padding
(SqueezeNet's conv1); with zero padding (VGG16's conv1_1) only the border pixels differ.
"""

import jax.numpy as jnp

from jaxdl.errors import InputError
from jaxdl.imagenet import Normalization
from jaxdl.models import get_spec


def first_conv(model: str) -> str:
    """Name of the first convolution (its params entry) of architecture ``model``."""
    return get_spec(model).layers[0]


def fold_grey(params, layer: str, norm: Normalization | None = None):
    """``params`` with ``params[layer]['kernel']`` (kh, kw, 3, O) folded to (kh, kw, 1, O).

    Without ``norm`` the result equals the RGB model on channel-replicated network inputs;
    with ``norm`` it equals the RGB model on ``normalize(grey replicated to RGB, norm)`` and
    takes the grey image in [0, 1] (exact for unpadded first convolutions).
    """
    conv = params[layer]
    kernel, bias = conv["kernel"], conv["bias"]
    if kernel.shape[-2] != 3:
        raise InputError(
            f"{layer}: expected an RGB kernel (kh, kw, 3, O), got {tuple(kernel.shape)}"
        )
    if norm is None:
        folded = {"kernel": kernel.sum(axis=-2, keepdims=True), "bias": bias}
    else:
        mean, std = jnp.asarray(norm.mean), jnp.asarray(norm.std)
        if norm.bgr:  # the network sees BGR: channel k holds colour 2 - k
            mean, std = mean[::-1], std[::-1]
        scaled = kernel / std[:, None]
        folded = {
            "kernel": scaled.sum(axis=-2, keepdims=True),
            "bias": bias - jnp.einsum("hwco,c->o", scaled, mean),
        }
    return {**params, layer: {**conv, **folded}}
