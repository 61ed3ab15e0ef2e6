"""PyTorch reference networks with torchvision's state-dict key names (torchvision itself is
not needed). For converter tests, parity tests and benchmarks only -- never the library path."""

import torch
from torch import nn

from jaxdl.errors import InputError

VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


class VGG(nn.Module):
    """torchvision.models.vgg16 layout: features.N, avgpool, classifier.{0,3,6}."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        layers, channels = [], 3
        for item in VGG16_CFG:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=True)]
                channels = item
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


class Fire(nn.Module):
    def __init__(self, inplanes, squeeze, expand1x1, expand3x3):
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze, 1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, 1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, 3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat(
            [
                self.expand1x1_activation(self.expand1x1(x)),
                self.expand3x3_activation(self.expand3x3(x)),
            ],
            1,
        )


class SqueezeNet(nn.Module):
    """torchvision.models.squeezenet1_0 / squeezenet1_1 layout: features.N, classifier.1."""

    def __init__(self, version: str = "1_1", num_classes: int = 1000):
        super().__init__()
        pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, 7, stride=2),
                nn.ReLU(inplace=True),
                pool(),
                Fire(96, 16, 64, 64),
                Fire(128, 16, 64, 64),
                Fire(128, 32, 128, 128),
                pool(),
                Fire(256, 32, 128, 128),
                Fire(256, 48, 192, 192),
                Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                pool(),
                Fire(512, 64, 256, 256),
            )
        else:
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, 3, stride=2),
                nn.ReLU(inplace=True),
                pool(),
                Fire(64, 16, 64, 64),
                Fire(128, 16, 64, 64),
                pool(),
                Fire(128, 32, 128, 128),
                Fire(256, 32, 128, 128),
                pool(),
                Fire(256, 48, 192, 192),
                Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                Fire(512, 64, 256, 256),
            )
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),
            nn.Conv2d(512, num_classes, 1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
        )

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


def build(arch: str, seed: int = 0) -> nn.Module:
    """A randomly initialised reference network (eval mode) for ``arch``."""
    torch.manual_seed(seed)
    if arch == "vgg16":
        model = VGG()
    elif arch in ("squeezenet1_0", "squeezenet1_1"):
        model = SqueezeNet(arch.removeprefix("squeezenet"))
    else:
        raise InputError(f"no PyTorch reference for {arch!r}")
    return model.eval()


def load_converted(arch: str, params) -> nn.Module:
    """The reference network holding jaxdl ``params`` (inverse of the converter), for testing
    methods in PyTorch on the same weights (e.g. the real ImageNet SqueezeNet)."""
    import numpy as np

    from weights_convert.mappings import MAPPINGS

    mapping, _ = MAPPINGS[(arch, "torchvision")]
    model = build(arch)
    state = {}
    for layer in mapping():
        node = params
        for part in layer.flax_name.split("/"):
            node = node[part]
        kernel = np.asarray(node["kernel"])
        if layer.kind == "conv":
            weight = kernel.transpose(3, 2, 0, 1)
        elif layer.kind == "dense_from_chw":
            channels = kernel.shape[0] // 49
            weight = (
                kernel.reshape(7, 7, channels, -1)
                .transpose(3, 2, 0, 1)
                .reshape(kernel.shape[1], -1)
            )
        else:
            weight = kernel.T
        state[layer.weight_key] = torch.from_numpy(np.ascontiguousarray(weight))
        state[layer.bias_key] = torch.from_numpy(
            np.array(node["bias"])
        )  # a writable copy (jax arrays are read-only)
    model.load_state_dict(state)
    return model
