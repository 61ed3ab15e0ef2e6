"""Feature extraction over 15-Scene, JAX vs PyTorch: decode + preprocess + network, images/s.

Both pipelines read the same JPEG files with the same PIL decoding (Resize(256) + centre crop
224) in a thread pool that runs ahead of the network (``jaxdl.data.pipeline.prefetch``), and
compute the same features: SqueezeNet 1.1 fire9, globally average-pooled (512-d), with the
real ImageNet weights (PyTorch: ``weights_convert.torch_models.load_converted``). JAX runs the
library path (``jaxdl.transfer.features.extract_features``, no cache), in the "rgb" case
exactly like PyTorch and in the "grey_folded" case with conv1 summed over colour (1-channel
input). Compile time is reported apart; each pipeline warms up on one batch first. A
decode-only pass gives the share of the time the host decoding would take alone.

    python benchmarks/bench_features.py                   # all 4485 images
    python benchmarks/bench_features.py --limit 256       # a subset
"""

import argparse
import functools
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import kernels
import numpy as np
import torch_layout


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--limit", type=int, default=0, help="first N images of train+test (0: all 4485)"
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="decode threads")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="PyTorch threads")
    parser.add_argument("--cases", default="rgb,grey_folded", help="JAX input modes to time")
    parser.add_argument(
        "--data", default=None, help="data folder (default: $JAXDL_DATA or ../shared/data)"
    )
    torch_layout.add_argument(parser)
    kernels.add_argument(parser)
    return parser.parse_args(argv)


def torch_batches(paths, pre, batch_size, workers, layout="nchw"):
    """The PyTorch side's loader: same decode, thread pool, prefetch; NCHW float tensors."""
    import torch

    from jaxdl.data.pipeline import batch_indices, prefetch
    from jaxdl.transfer.features import decode

    mean = torch.tensor(pre.norm.mean).view(1, 3, 1, 1)
    std = torch.tensor(pre.norm.std).view(1, 3, 1, 1)

    def decoded():
        with ThreadPoolExecutor(workers) as pool:
            for idx in batch_indices(len(paths), batch_size):
                yield np.stack(
                    list(pool.map(functools.partial(decode, pre=pre), [paths[i] for i in idx]))
                )

    def to_tensor(images):
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0)
        return torch_layout.to_layout(torch, layout, ((x - mean) / std).contiguous())

    return prefetch(decoded(), size=2, transform=to_tensor)


def torch_features(model, paths, pre, batch_size, workers, layout="nchw"):
    import torch

    out = []
    with torch.inference_mode():
        for x in torch_batches(paths, pre, batch_size, workers, layout):
            out.append(model.features(x).mean(dim=(2, 3)).numpy())
    return np.concatenate(out)


def decode_only(paths, pre, batch_size, workers) -> float:
    """Seconds to decode every file with the same thread pool (no network)."""
    from jaxdl.transfer.features import decode

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(functools.partial(decode, pre=pre), paths):
            pass
    return time.perf_counter() - start


def jax_case(kern, channels, params, paths, args, torch_seconds, reference) -> dict:
    """JAX feature extraction of ``paths`` on the kernel set ``kern``, against PyTorch's time."""
    import jax

    from jaxdl.transfer.features import (
        Preprocessing,
        extract_features,
        feature_function,
        network_params,
    )

    pre = Preprocessing(channels=channels)
    shape = (args.batch_size, 224, 224, 1 if channels == "grey_folded" else 3)
    start = time.perf_counter()
    fn = feature_function("squeezenet1_1", ("fire9",), pre, layer_set=kern.layers)
    jax.block_until_ready(
        fn(network_params("squeezenet1_1", params, pre), np.zeros(shape, np.uint8))
    )
    compile_seconds = time.perf_counter() - start
    options = dict(batch_size=args.batch_size, workers=args.workers, layer_set=kern.layers)
    extract_features("squeezenet1_1", params, paths[: args.batch_size], ["fire9"], pre, **options)
    start = time.perf_counter()  # after a warm-up batch, as PyTorch's
    features, _ = extract_features("squeezenet1_1", params, paths, ["fire9"], pre, **options)
    jax_seconds = time.perf_counter() - start
    return {
        "case": f"squeezenet1_1 fire9 {channels} ({len(paths)} images, batch {args.batch_size})",
        "kernels": kern.name,
        "jax_per_s": round(len(paths) / jax_seconds, 2),
        "torch_per_s": round(len(paths) / torch_seconds, 2),
        "ratio": round(torch_seconds / jax_seconds, 3),
        "jax_compile_s": round(compile_seconds, 2),
        "max_abs_diff_vs_torch": float(np.abs(features["fire9"] - reference).max()),
    }


def main(argv=None):
    args = parse_args(argv)
    kernels.configure()
    import jax
    import torch

    from jaxdl.data.scene15 import load_scene15
    from jaxdl.paths import data_root
    from jaxdl.transfer.features import Preprocessing
    from weights_convert import convert_file
    from weights_convert.torch_models import load_converted

    torch.set_num_threads(args.threads)
    root = data_root(args.data)
    if root is None or not (root / "scene15").is_dir():
        raise SystemExit("15-Scene not found: pass --data DIR holding scene15/ and weights/")
    dataset = load_scene15(root / "scene15")
    paths = list(dataset.train.paths + dataset.test.paths)
    paths = paths[: args.limit] if args.limit else paths
    params, _ = convert_file("squeezenet1_1", root / "weights" / "squeezenet1_1_onnx_zoo")
    model = torch_layout.to_layout(
        torch, args.torch_layout, load_converted("squeezenet1_1", params).eval()
    )

    rgb = Preprocessing()
    torch_features(
        model, paths[: args.batch_size], rgb, args.batch_size, args.workers, args.torch_layout
    )  # warm-up
    start = time.perf_counter()
    reference = torch_features(model, paths, rgb, args.batch_size, args.workers, args.torch_layout)
    torch_seconds = time.perf_counter() - start
    decode_seconds = decode_only(paths, rgb, args.batch_size, args.workers)

    cases = []
    for kern in kernels.selected(args):
        for channels in args.cases.split(","):
            cases.append(jax_case(kern, channels, params, paths, args, torch_seconds, reference))
            cases[-1]["decode_only_per_s"] = round(len(paths) / decode_seconds, 2)
            print(json.dumps(cases[-1]), file=sys.stderr)
    print(
        json.dumps(
            {
                "benchmark": "features",
                "device": jax.default_backend(),
                "threads": args.threads,
                "torch_layout": args.torch_layout,
                "workers": args.workers,
                "cases": cases,
            }
        )
    )


if __name__ == "__main__":
    main()
