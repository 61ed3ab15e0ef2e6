"""VGG16 (Simonyan & Zisserman 2015) in flax.linen, NHWC, torchvision layout.

Param names follow the layer names users know: ``conv1_1`` ... ``conv5_3``,
``fc6``, ``fc7``, ``fc8``. The fc6 kernel rows are in NHWC-flatten order; the
weight converter permutes torchvision's NCHW-ordered columns into that order,
so the outputs equal torchvision's without transposing activations at run time.
"""

from typing import Optional

import flax.linen as nn

from jaxdl.errors import InputError
from jaxdl.layers import FLAX, Layers, adaptive_avg_pool

# (block, number of convs, channels)
VGG16_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512))
VGG16_LAYERS = tuple(
    [f"conv{b}_{i}" for b, n, _ in VGG16_BLOCKS for i in range(1, n + 1)]
    + ["pool5", "fc6", "relu6", "fc7", "relu7", "fc8", "relu8"]
)


class VGG16(nn.Module):
    """VGG16 classifier.

    ``__call__(x (N,H,W,3) float32, train, stop_at)`` returns ``(out, intermediates)``:
    ``out`` is the (N, num_classes) logits, or the activation of layer ``stop_at``
    when given (the rest of the network is then not built). ``conv*`` entries are
    post-ReLU activations; ``fc6``/``fc7``/``fc8`` are pre-ReLU, ``relu*`` post-ReLU.
    """

    num_classes: int = 1000
    dropout_rate: float = 0.5
    layers: Layers = FLAX

    @nn.compact
    def __call__(self, x, *, train: bool = False, stop_at: Optional[str] = None):
        if stop_at is not None and stop_at not in VGG16_LAYERS:
            raise InputError(f"unknown VGG16 layer {stop_at!r}; valid: {', '.join(VGG16_LAYERS)}")
        conv, dense = self.layers.conv, self.layers.dense
        acts = {}

        def record(name, value):
            acts[name] = value
            return name == stop_at

        for block, n_convs, channels in VGG16_BLOCKS:
            for i in range(1, n_convs + 1):
                name = f"conv{block}_{i}"
                x = nn.relu(conv(channels, (3, 3), padding=((1, 1), (1, 1)), name=name)(x))
                if record(name, x):
                    return x, acts
            x = self.layers.max_pool(x, 2, 2)
        x = adaptive_avg_pool(x, (7, 7))
        if record("pool5", x):
            return x, acts
        x = x.reshape(x.shape[0], -1)
        for name, width in (("6", 4096), ("7", 4096)):
            x = dense(width, name=f"fc{name}")(x)
            if record(f"fc{name}", x):
                return x, acts
            x = nn.relu(x)
            if record(f"relu{name}", x):
                return x, acts
            x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
        logits = dense(self.num_classes, name="fc8")(x)
        if record("fc8", logits):
            return logits, acts
        relu8 = nn.relu(logits)
        if record("relu8", relu8):
            return relu8, acts
        return logits, acts
