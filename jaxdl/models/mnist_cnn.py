"""A small CNN for digit images: the demo's fallback model and the GAN quality classifier."""

from typing import Optional

import flax.linen as nn

from jaxdl.errors import InputError
from jaxdl.layers import FLAX, Layers

MNIST_CNN_LAYERS = ("conv1", "conv2", "features", "logits")


class MnistCNN(nn.Module):
    """Two 3x3 conv blocks + a dense layer. Input (N,H,W,C) in [0,1]; H, W multiples of 4.

    Returns ``(logits, intermediates)`` with ``conv1``, ``conv2`` (post-ReLU maps),
    ``features`` (the penultimate 128-d vector) and ``logits``; or the activation of
    ``stop_at``.
    """

    num_classes: int = 10
    width: int = 32
    dropout_rate: float = 0.25
    layers: Layers = FLAX

    @nn.compact
    def __call__(self, x, *, train: bool = False, stop_at: Optional[str] = None):
        if stop_at is not None and stop_at not in MNIST_CNN_LAYERS:
            raise InputError(
                f"unknown MnistCNN layer {stop_at!r}; valid: {', '.join(MNIST_CNN_LAYERS)}"
            )
        acts = {}
        for i, channels in ((1, self.width), (2, 2 * self.width)):
            x = acts[f"conv{i}"] = nn.relu(self.layers.conv(channels, (3, 3), name=f"conv{i}")(x))
            if stop_at == f"conv{i}":
                return x, acts
            x = self.layers.max_pool(x, 2, 2)
        x = x.reshape(x.shape[0], -1)
        x = acts["features"] = nn.relu(self.layers.dense(128, name="fc1")(x))
        if stop_at == "features":
            return x, acts
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
        logits = acts["logits"] = self.layers.dense(self.num_classes, name="fc2")(x)
        return logits, acts
