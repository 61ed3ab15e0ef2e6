"""Helpers shared by the experiment commands: the kernel choice, weights, image inputs,
results output."""

import dataclasses
import datetime
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import jax
import numpy as np

from jaxdl import __version__, cpu, imagenet
from jaxdl.data import checks
from jaxdl.data.images import load_image
from jaxdl.errors import InputError
from jaxdl.interpret import ModuleLogits
from jaxdl.layers import FLAX, Layers
from jaxdl.models import MODELS, get_spec
from jaxdl.models.published import WEIGHTS, is_name, load_named, source_of

KERNEL_CHOICES = ("auto", "cpu", "flax")


@dataclasses.dataclass(frozen=True)
class Kernels:
    """The layers and samplers the experiments run with: ``jaxdl.cpu``'s XLA:CPU kernels, or
    flax's own (the library default); the same parameters and numbers to float32 rounding."""

    name: str = "flax"
    layers: Layers = FLAX
    normal: Callable = jax.random.normal

    def logits_fn(self, module, input_shape=None) -> ModuleLogits:
        """``ModuleLogits`` of ``module``, with SqueezeNet's single-class scores on the CPU
        kernels."""
        scores = cpu.class_scores_for(module) if self.name == "cpu" else None
        return ModuleLogits(module, input_shape, scores)


def pick_kernels(choice: str = "auto") -> Kernels:
    """``Kernels`` for ``choice``: "cpu", "flax", or "auto" (the CPU kernels when JAX's default
    backend is the CPU, flax's own on GPU and TPU)."""
    if choice not in KERNEL_CHOICES:
        raise InputError(f"--kernels: expected one of {', '.join(KERNEL_CHOICES)}, got {choice!r}")
    if choice == "auto":
        choice = "cpu" if jax.default_backend() == "cpu" else "flax"
    if choice == "flax":
        return Kernels()
    return Kernels("cpu", cpu.LAYERS, cpu.normal)


def add_model_args(parser, default_model="squeezenet1_1"):
    """--model, --weights, --data, --resample and --kernels, shared by every command that runs
    an ImageNet network."""
    imagenet_models = [
        name for name, spec in MODELS.items() if spec.in_channels == 3 and spec.input_size >= 224
    ]
    parser.add_argument(
        "--model",
        default=default_model,
        choices=imagenet_models,
        help="architecture (default: %(default)s)",
    )
    parser.add_argument(
        "--weights",
        help="published weights by name: imagenet (the model's default), or a tag: "
        + "; ".join(f"{m}: {', '.join(tags)}" for m, tags in WEIGHTS.items())
        + " (downloaded once, hash-checked, cached in $JAXDL_HOME); or a path: a converted "
        ".npz (python -m weights_convert) or a source checkpoint (torchvision .pth/"
        ".safetensors/.npz, ONNX-zoo .npy folder or .onnx) (default: the data folder's copy "
        "of published weights of --model when there, else imagenet)",
    )
    parser.add_argument("--data", help="data folder (default: $JAXDL_DATA or ../shared/data)")
    parser.add_argument(
        "--resample",
        choices=imagenet.RESAMPLE,
        default="auto",
        help="auto: images already at the network's input size go in unresampled, others are "
        "resized and centre-cropped as the weights expect; always: resample every image "
        "(default: %(default)s)",
    )
    add_kernels_arg(parser)


def add_kernels_arg(parser) -> None:
    parser.add_argument(
        "--kernels",
        choices=KERNEL_CHOICES,
        default="auto",
        help="layer kernels: jaxdl's XLA:CPU ones (cpu), flax's own (flax), or cpu "
        "when JAX runs on the CPU and flax elsewhere (default: %(default)s)",
    )


def default_weights(model: str, data=None) -> str:
    """The weights of ``model`` when none are named: published weights whose copy the data
    folder holds (SqueezeNet 1.1's ONNX-zoo files, the study's own), else "imagenet"."""
    from jaxdl.paths import data_root

    root = data_root(data)
    for tag, source in WEIGHTS.get(model, {}).items():
        if root is not None and source.data_path and (root / source.data_path).exists():
            return tag
    return "imagenet"


def load_weights(model: str, weights=None, data=None):
    """``(params, meta)`` of ``model``: ``weights`` names published weights (``is_name``) or is
    a path (``weights_convert.load_any``); None: ``default_weights``. Named weights are
    fetched with a progress bar on a terminal."""
    from weights_convert import load_any

    get_spec(model)  # validates the name
    weights = weights or default_weights(model, data)
    if is_name(weights):
        return load_named(model, weights, progress=sys.stderr.isatty(), data=data)
    return load_any(model, weights)


def preprocessing(meta: dict) -> dict:
    """The preprocessing kwargs (size, resize, norm) the weights expect."""
    pre = meta.get("preprocessing", {"size": 224, "resize": 256, "normalization": "torchvision"})
    return {
        "size": pre["size"],
        "resize": pre["resize"],
        "norm": imagenet.NORMALIZATIONS[pre["normalization"]],
    }


def read_inputs(paths, classes: int = 1000):
    """Image files and/or ``.npz`` files (``X`` (N,H,W,3) uint8, optional ``y`` in
    0..classes-1) -> ``(images list of uint8 arrays, labels list (None where unknown), names)``."""
    images, labels, names = [], [], []
    for path in map(Path, paths):
        if path.suffix == ".npz":
            x, y = read_image_npz(path, classes)
            y = [None] * len(x) if y is None else y
            images += list(x)
            labels += [None if v is None else int(v) for v in y]
            names += [f"{path.stem}_{i:03d}" for i in range(len(x))]
        else:
            images.append(load_image(path))
            labels.append(None)
            names.append(path.stem)
    return images, labels, names


def read_image_npz(path, classes: int = 1000, labelled: bool = False):
    """``(X (N,H,W,C) uint8, y (N,) int64 or None)`` of an ``.npz`` of images and optional labels
    in 0..classes-1 (required when ``labelled``), checked where they enter."""
    arrays = checks.read_npz(path, ("X", "y") if labelled else ("X",), optional=("y",))
    x = checks.images_uint8(arrays["X"], f"{path}: 'X'")
    if x.ndim != 4:
        raise InputError(f"{path}: 'X' must be (N,H,W,C), got shape {x.shape}")
    if "y" not in arrays:
        return x, None
    return x, checks.labels_in_range(arrays["y"], f"{path}: 'y'", classes=classes, n=len(x))


def read_image_subset(path, indices, classes: int = 1000):
    """``(images (K,H,W,C) uint8, labels (K,))`` of the images ``indices`` of an ``.npz`` holding
    ``X`` and ``y`` (as ``imagenet_val_25.npz``), checked where they enter."""
    x, y = read_image_npz(path, classes, labelled=True)
    outside = [i for i in indices if not 0 <= i < len(x)]
    if outside:
        raise InputError(f"image index {outside[0]} is outside 0..{len(x) - 1} of {path}")
    return x[list(indices)], y[list(indices)]


def write_json(path, payload) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    return path


def _jsonable(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_result(payload: dict) -> None:
    """The closing JSON line every command prints, so results can be checked by script."""
    print(json.dumps(payload, default=_jsonable))
    sys.stdout.flush()


def _git_commit() -> str | None:
    """The commit of the checkout jaxdl runs from (with '+changes' when it has uncommitted ones),
    or None outside a git checkout."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}+changes" if dirty else commit


def provenance(data=None) -> dict:
    """Where a run came from: the command line, the date, the commit, the data folder."""
    return {
        "command": sys.argv,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "data_folder": str(data) if data else None,
    }


def sha256_of(path) -> str:
    """sha256 of a file, or of a folder's files (their relative names and bytes, sorted)."""
    path, digest = Path(path), hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if file != path:
            digest.update(file.relative_to(path).as_posix().encode())
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def weights_record(weights, model: str) -> dict:
    """The weights a chapter used, for its results: a path and its sha256, or published weights'
    name, URL(s) and pinned sha256 (``jaxdl.models.WEIGHTS``)."""
    if is_name(weights):
        tag, source = source_of(model, weights)
        return {
            "weights": f"{model}:{tag}",
            "url": source.files[0].url or None,
            "sha256": [f"{p.filename} {p.sha256}" for p in source.files],
        }
    return {"path": str(weights), "sha256": sha256_of(weights)}


def progress_bar(iterable=None, **kwargs):
    """A tqdm bar (``leave=False``) on a terminal; where stderr is piped or a file, no frames,
    only one line saying the stage (``desc``) started."""
    from tqdm import tqdm

    tty = sys.stderr.isatty()
    if not tty:
        print(f"jaxdl: {kwargs.get('desc', 'working')}", file=sys.stderr)
    return tqdm(iterable, disable=not tty, leave=False, **kwargs)


class StepBar:
    """A tqdm bar of training steps whose clock starts once the first step is done, so that
    step's compile time does not enter the rate or the ETA; ``bar(step)`` as a loop progress
    callback, ``close()`` at the end. Piped: a line when it starts and one when it ends."""

    def __init__(self, total: int, desc: str):
        self.total, self.desc, self.bar = total, desc, None
        self.start, self.step = None, 0

    def __call__(self, step: int, record=None) -> None:
        if self.bar is None:
            self.start = time.perf_counter()
            self.bar = progress_bar(total=self.total, initial=step, desc=self.desc, unit="step")
        else:
            self.bar.update(step - self.bar.n)
        self.step = step

    def close(self) -> None:
        if self.bar is None:
            return
        self.bar.close()
        if self.bar.disable:
            seconds = time.perf_counter() - self.start
            print(f"jaxdl: {self.desc}: step {self.step} in {seconds:.0f} s", file=sys.stderr)


def run_info(kernels: Kernels | None = None) -> dict:
    """Version and device facts written next to every result."""
    info = {
        "jaxdl_version": __version__,
        "jax_version": jax.__version__,
        "backend": jax.default_backend(),
        "devices": jax.device_count(),
    }
    return {**info, "kernels": kernels.name} if kernels is not None else info
