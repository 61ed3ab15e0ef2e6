"""SqueezeNet 1.0 and 1.1 (Iandola et al. 2016) in flax.linen, NHWC, torchvision layout.

Param names: ``conv1``, ``fire2`` ... ``fire9`` (each with ``squeeze``,
``expand1x1``, ``expand3x3``) and ``classifier`` (the final 1x1 convolution).
"""

from typing import Optional

import flax.linen as nn
import jax.numpy as jnp

from jaxdl.errors import InputError
from jaxdl.layers import FLAX, Layers

# Fire modules: (name, squeeze, expand) -- the same eight modules in both versions.
FIRES = (
    ("fire2", 16, 64),
    ("fire3", 16, 64),
    ("fire4", 32, 128),
    ("fire5", 32, 128),
    ("fire6", 48, 192),
    ("fire7", 48, 192),
    ("fire8", 64, 256),
    ("fire9", 64, 256),
)
# Fire modules after which a 3x3/2 max pool (ceil mode) follows, per version
# (one also follows conv1 in both).
POOL_AFTER = {"1_0": ("fire4", "fire8"), "1_1": ("fire3", "fire5")}
SQUEEZENET_LAYERS = ("conv1",) + tuple(name for name, _, _ in FIRES) + ("classifier",)


class Fire(nn.Module):
    """Squeeze 1x1 -> ReLU -> concat(expand 1x1, expand 3x3) -> ReLU."""

    squeeze: int
    expand: int
    layers: Layers = FLAX

    @nn.compact
    def __call__(self, x):
        conv = self.layers.conv
        x = nn.relu(conv(self.squeeze, (1, 1), name="squeeze")(x))
        e1 = conv(self.expand, (1, 1), name="expand1x1")(x)
        e3 = conv(self.expand, (3, 3), padding=((1, 1), (1, 1)), name="expand3x3")(x)
        return jnp.concatenate([nn.relu(e1), nn.relu(e3)], axis=-1)


class SqueezeNet(nn.Module):
    """SqueezeNet classifier.

    ``version``: "1_0" (96 7x7/2 first conv) or "1_1" (64 3x3/2).
    ``final_conv_padding``: 1 for the Caffe release of 1.0 (its conv_final has pad 1).
    ``__call__(x (N,H,W,3), train, stop_at)`` returns ``(out, intermediates)``: ``out`` is the
    (N, num_classes) logits (global average of ``classifier``) or the activation of ``stop_at``
    (the rest of the network is then not built). All intermediates are post-ReLU.
    """

    version: str = "1_1"
    num_classes: int = 1000
    dropout_rate: float = 0.5
    final_conv_padding: int = 0
    layers: Layers = FLAX

    @nn.compact
    def __call__(self, x, *, train: bool = False, stop_at: Optional[str] = None):
        if self.version not in POOL_AFTER:
            raise InputError(f"unknown SqueezeNet version {self.version!r}; expected 1_0 or 1_1")
        if stop_at is not None and stop_at not in SQUEEZENET_LAYERS:
            raise InputError(
                f"unknown SqueezeNet layer {stop_at!r}; valid: {', '.join(SQUEEZENET_LAYERS)}"
            )
        conv, pool = self.layers.conv, self.layers.max_pool
        acts = {}
        if self.version == "1_0":
            x = conv(96, (7, 7), strides=(2, 2), padding="VALID", name="conv1")(x)
        else:
            x = conv(64, (3, 3), strides=(2, 2), padding="VALID", name="conv1")(x)
        x = acts["conv1"] = nn.relu(x)
        if stop_at == "conv1":
            return x, acts
        x = pool(x, 3, 2, ceil_mode=True)
        for name, squeeze, expand in FIRES:
            x = acts[name] = Fire(squeeze, expand, self.layers, name=name)(x)
            if stop_at == name:
                return x, acts
            if name in POOL_AFTER[self.version]:
                x = pool(x, 3, 2, ceil_mode=True)
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
        pad = ((self.final_conv_padding,) * 2,) * 2
        x = acts["classifier"] = nn.relu(
            conv(self.num_classes, (1, 1), padding=pad, name="classifier")(x)
        )
        if stop_at == "classifier":
            return x, acts
        return jnp.mean(x, axis=(1, 2)), acts
