"""Features of a frozen network: batched jitted extraction, view averaging and an on-disk cache.

Host: a thread pool decodes and resizes the files of the next batches (``prefetch``) while
the device runs the current one; images cross to the device as uint8. Device (one jitted
function): uint8 -> [0, 1] -> views (centre / + horizontal flip / ten crops) -> network up
to the deepest requested layer -> every requested layer, global-average pooled when it is a
map (SqueezeNet ``fire9`` -> 512, ``classifier`` -> 1000), averaged over the views.

Features are cached as ``.npy`` files keyed by the sha256 of (weights, model, layer,
preprocessing, image list), so a second run with the same inputs reads them instantly.
"""

import dataclasses
import functools
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import flax.traverse_util
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.data.images import open_image, resize_crop
from jaxdl.data.pipeline import batch_indices, prefetch
from jaxdl.errors import InputError
from jaxdl.imagenet import TORCHVISION, Normalization, normalize, to_rgb
from jaxdl.layers import FLAX, Layers
from jaxdl.models import get_model, get_spec
from jaxdl.transfer.grey import first_conv, fold_grey

VIEWS = ("center", "flip", "tencrop")
CHANNELS = ("rgb", "grey_folded", "as_is")


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """How files become network inputs.

    ``size``/``resize``: torchvision Resize(resize) + CenterCrop(size) (``resize=None``: a plain
    size x size resize). ``views``: "center"; "flip" (+ its mirror image); "tencrop" (the four
    corner and centre ``size`` crops of the central ``resize`` square, and their mirrors).
    ``channels``: "rgb" (grey replicated, then ``norm``), "grey_folded" (1-channel input into
    a model whose first convolution absorbed the colour axis and ``norm``, see grey.py),
    "as_is" (decoded channels in [0, 1], ``norm`` ignored; e.g. the digits CNN).
    """

    size: int = 224
    resize: int | None = 256
    norm: Normalization = TORCHVISION
    views: str = "center"
    channels: str = "rgb"

    def __post_init__(self):
        if self.views not in VIEWS:
            raise InputError(f"unknown views {self.views!r}; expected one of {', '.join(VIEWS)}")
        if self.channels not in CHANNELS:
            raise InputError(
                f"unknown channels {self.channels!r}; expected one of {', '.join(CHANNELS)}"
            )
        if self.views == "tencrop" and (self.resize is None or self.resize <= self.size):
            raise InputError(
                f"tencrop needs resize > size, got resize={self.resize}, size={self.size}"
            )

    @property
    def decoded_size(self) -> int:
        """Side of the square the host decodes to (the crops are taken on the device)."""
        return self.resize if self.views == "tencrop" else self.size


def decode(path, pre: Preprocessing, side: int | None = None) -> np.ndarray:
    """One file -> (S, S, C) uint8, S = ``side`` or ``pre.decoded_size`` (the centre square after
    resizing the shorter side to ``pre.resize``), C = 1 for "grey_folded" else 3."""
    image = open_image(path, "L" if pre.channels == "grey_folded" else "RGB")
    array = np.asarray(resize_crop(image, side or pre.decoded_size, pre.resize), dtype=np.uint8)
    return array[..., None] if array.ndim == 2 else array


def make_views(x, pre: Preprocessing):
    """(N, S, S, C) -> (V, N, size, size, C): the views whose features are averaged."""
    if pre.views == "center":
        return x[None]
    if pre.views == "flip":
        return jnp.stack([x, x[:, :, ::-1]])
    side, size = x.shape[1], pre.size
    starts = (
        (0, 0),
        (0, side - size),
        (side - size, 0),
        (side - size, side - size),
        ((side - size) // 2, (side - size) // 2),
    )
    crops = jnp.stack([x[:, r : r + size, c : c + size] for r, c in starts])
    return jnp.concatenate([crops, crops[:, :, :, ::-1]])


def global_pool(activation):
    """(N, H, W, C) maps -> (N, C) spatial means; (N, D) vectors unchanged."""
    return activation.mean(axis=(1, 2)) if activation.ndim == 4 else activation


def deepest(model: str, layers) -> str:
    """The requested layer furthest into the network (where the forward pass can stop)."""
    order = get_spec(model).layers
    unknown = [layer for layer in layers if layer not in order]
    if unknown:
        raise InputError(f"unknown {model} layer {unknown[0]!r}; valid: {', '.join(order)}")
    return max(layers, key=order.index)


def network_input(x, pre: Preprocessing):
    """Images in [0, 1] (N, s, s, C) -> what the network (see ``network_params``) takes."""
    return normalize(to_rgb(x), pre.norm) if pre.channels == "rgb" else x


@functools.lru_cache(maxsize=16)
def feature_function(
    model: str, layers: tuple, pre: Preprocessing, num_classes: int = 1000, layer_set: Layers = FLAX
):
    """jit(params, images (N,S,S,C) uint8) -> tuple of (N, D_layer) float32, in ``layers`` order;
    the network built from ``layer_set`` (``jaxdl.layers.FLAX`` or ``jaxdl.cpu.LAYERS``)."""
    module = get_model(model, num_classes=num_classes, layers=layer_set)
    stop = deepest(model, layers)

    def features(params, images):
        views = make_views(images.astype(jnp.float32) / 255.0, pre)
        n_views, n = views.shape[:2]
        x = network_input(views.reshape((n_views * n,) + views.shape[2:]), pre)
        out, acts = module.apply({"params": params}, x, stop_at=stop)
        acts = {**acts, stop: out}
        return tuple(
            global_pool(acts[layer]).reshape(n_views, n, -1).mean(axis=0) for layer in layers
        )

    return jax.jit(features)


def network_params(model: str, params, pre: Preprocessing):
    """The params the network runs: for "grey_folded" inputs, the first convolution folded
    (params whose first kernel already has one input channel pass through unchanged)."""
    if pre.channels != "grey_folded" or params[first_conv(model)]["kernel"].shape[-2] == 1:
        return params
    return fold_grey(params, first_conv(model), pre.norm)


def run_batches(
    model: str,
    params,
    batches,
    layers: tuple,
    pre: Preprocessing,
    progress=None,
    num_classes: int = 1000,
    layer_set: Layers = FLAX,
) -> dict:
    """Features of an iterator of ``(uint8 batch, n_valid)`` -> {layer: (N, D) float32}.

    Batches after the first keep their shape (pad the last one) so the function compiles once.
    ``progress(n)`` is called with the number of images of each finished batch.
    """
    fn = feature_function(model, tuple(layers), pre, num_classes, layer_set)
    params = jax.device_put(network_params(model, params, pre))  # once, not per batch
    outputs = []
    for images, n_valid in batches:
        outputs.append((fn(params, images), n_valid))  # dispatched asynchronously
        if progress is not None:
            jax.block_until_ready(outputs[-1][0])
            progress(n_valid)
    host = jax.device_get([out for out, _ in outputs])
    if not outputs:
        raise InputError("no images to extract features from")
    return {
        layer: np.concatenate([out[i][:n] for out, (_, n) in zip(host, outputs)])
        for i, layer in enumerate(layers)
    }


def padded_batches(arrays, batch_size: int):
    """(uint8 batch, n_valid) from a sequence of equal-shape images, the last batch padded."""
    for idx in batch_indices(len(arrays), batch_size):
        batch = np.stack([arrays[i] for i in idx])
        if len(idx) < batch_size:
            batch = np.concatenate([batch, np.repeat(batch[-1:], batch_size - len(idx), axis=0)])
        yield batch, len(idx)


def file_batches(
    paths, pre: Preprocessing, batch_size: int, workers: int | None = None, ahead: int = 2
):
    """Decoded, padded batches of ``paths``, decoded by ``workers`` threads ``ahead`` batches
    early."""
    workers = workers or os.cpu_count() or 1

    def decoded():
        with ThreadPoolExecutor(workers) as pool:
            for idx in batch_indices(len(paths), batch_size):
                images = list(pool.map(functools.partial(decode, pre=pre), [paths[i] for i in idx]))
                yield from padded_batches(images, batch_size)

    return prefetch(
        decoded(), size=ahead, transform=lambda item: (jax.device_put(item[0]), item[1])
    )


def decode_files(paths, pre: Preprocessing, side: int | None = None, workers: int | None = None):
    """(N, S, S, C) uint8 of all ``paths``, decoded by a thread pool (see ``decode``)."""
    with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        return np.stack(list(pool.map(functools.partial(decode, pre=pre, side=side), paths)))


def params_hash(params) -> str:
    """sha256 of every parameter's name, dtype, shape and bytes."""
    digest = hashlib.sha256()
    for name, value in sorted(flax.traverse_util.flatten_dict(params, sep="/").items()):
        value = np.asarray(value)
        digest.update(f"{name}:{value.dtype}:{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()


def cache_key(weights_hash: str, model: str, layer: str, pre: Preprocessing, paths) -> str:
    """sha256 naming one feature matrix: weights, model, layer, preprocessing and the files
    (path and size, in order)."""
    files = [(str(Path(p).resolve()), Path(p).stat().st_size) for p in paths]
    payload = {
        "weights": weights_hash,
        "model": model,
        "layer": layer,  # the hash covers the head width
        "preprocessing": dataclasses.asdict(pre),
        "files": files,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def cache_file(cache_dir, layer: str, key: str) -> Path:
    return Path(cache_dir) / f"{layer}-{key[:24]}.npy"


def write_atomic(path: Path, array) -> None:
    """np.save to a temporary name, then rename: readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, np.asarray(array), allow_pickle=False)
    os.replace(tmp, path)


def extract_features(
    model: str,
    params,
    paths,
    layers,
    pre: Preprocessing = Preprocessing(),
    *,
    batch_size: int = 32,
    cache_dir=None,
    workers: int | None = None,
    progress=None,
    num_classes: int = 1000,
    layer_set: Layers = FLAX,
):
    """Features of image files at ``layers`` -> ``({layer: (N, D) float32}, cached_layers)``.

    One forward pass (stopping at the deepest layer) serves all layers not in the cache;
    ``cached_layers`` names those read from ``cache_dir`` (None: no cache). ``num_classes``:
    the width of the params' last layer (a fine-tuned head); ``layer_set``: the network's layers
    (``jaxdl.cpu.LAYERS`` for the XLA:CPU kernels).
    """
    layers = tuple(dict.fromkeys(layers))
    deepest(model, layers)  # validates the names before any work
    paths = list(paths)
    keys, features = {}, {}
    if cache_dir is not None:
        weights_hash = params_hash(params)
        keys = {layer: cache_key(weights_hash, model, layer, pre, paths) for layer in layers}
        for layer, key in keys.items():
            if cache_file(cache_dir, layer, key).is_file():
                features[layer] = np.load(cache_file(cache_dir, layer, key), allow_pickle=False)
    cached = tuple(features)
    missing = tuple(layer for layer in layers if layer not in features)
    if missing:
        batches = file_batches(paths, pre, batch_size, workers)
        computed = run_batches(
            model, params, batches, missing, pre, progress, num_classes, layer_set
        )
        for layer in missing:
            features[layer] = computed[layer]
            if cache_dir is not None:
                write_atomic(cache_file(cache_dir, layer, keys[layer]), computed[layer])
    return {layer: features[layer] for layer in layers}, cached
