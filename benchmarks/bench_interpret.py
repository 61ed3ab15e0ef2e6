"""Saliency, SmoothGrad, PGD and class-visualisation steps: JAX (one jitted program each) vs
PyTorch autograd on the same SqueezeNet 1.1 weights (real ones when present, else random), both
differentiating with respect to the images only (the PyTorch weights do not require gradients).
JAX runs on each ``--kernels`` set: jaxdl.cpu's (which also computes a class score from that
class's classifier channel alone) and flax's own (all 1000 logits, then the target's). PyTorch
computes the class scores from the target channels too (``--torch-head logits``: all 1000
logits, the usual code). All warm up (``--warmup`` calls), then alternate for ``--rounds``
rounds of ``--repeats`` calls; the best round counts.

Prints one JSON line: {"benchmark": "interpret", "cases": [{"case", "kernels", "jax_per_s",
"torch_per_s", "ratio", "jax_compile_s"}, ...]} with rates in images per second (class viz:
image-steps/s).
"""

import argparse
import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import kernels
import numpy as np
import torch
import torch_layout

from jaxdl import imagenet
from jaxdl.interpret import (
    PGDConfig,
    SmoothGradConfig,
    class_visualization,
    pgd,
    preset,
    saliency,
    smoothgrad,
)
from jaxdl.models import get_model
from jaxdl.paths import data_root
from weights_convert.torch_models import load_converted


def timed(fn, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def best_of_rounds(fns: dict, args) -> dict:
    """Seconds per call of each of ``fns``: all warmed up (``args.warmup`` calls each), then
    ``args.rounds`` alternating rounds of ``args.repeats`` calls; the best round counts (robust
    to other processes)."""
    for _ in range(args.warmup):
        for fn in fns.values():
            fn()
    seconds = {name: [] for name in fns}
    for _ in range(args.rounds):
        for name, fn in fns.items():
            seconds[name].append(timed(fn, args.repeats))
    return {name: min(values) for name, values in seconds.items()}


def torch_scores(net, x, targets, head):
    """The logit of ``targets[i]`` for image i: ``head`` "logits" computes all 1000 and picks (the
    usual PyTorch code); "column" only the targets' classifier channels, as jaxdl's SqueezeNet."""
    if head == "logits":
        return net(x)[torch.arange(len(x)), targets]
    conv = net.classifier[1]
    maps = torch.einsum("nchw,nc->nhw", net.features(x), conv.weight[targets, :, 0, 0]) + conv.bias[
        targets
    ].view(-1, 1, 1)
    return torch.relu(maps).mean((1, 2))


def torch_grad(net, x, targets, head):
    x = x.detach().requires_grad_(True)
    torch_scores(net, x, targets, head).sum().backward()
    return x.grad


def torch_blur(images, sigma: float):
    """``jaxdl.interpret.class_viz.gaussian_blur`` on NCHW images: separable, edge-padded."""
    radius = max(1, int(-(-3 * sigma // 1)))
    taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=images.dtype) / sigma) ** 2)
    taps = taps / taps.sum()
    channels = images.shape[1]
    padded = torch.nn.functional.pad(images, (radius,) * 4, mode="replicate")
    rows = torch.nn.functional.conv2d(
        padded, taps.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels
    )
    return torch.nn.functional.conv2d(
        rows, taps.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels
    )


def torch_cases(net, x, targets, args, low, high):
    sigma = 0.15 * (x.amax(dim=(1, 2, 3)) - x.amin(dim=(1, 2, 3))).view(-1, 1, 1, 1)
    eps, step = (2 / 255 * (high - low)), (0.5 / 255 * (high - low))

    def smooth():  # as jaxdl: the (image, copy) pairs copy-major, --smooth-batch per gradient call
        total, pairs = torch.zeros_like(x), torch.arange(len(x) * args.samples)
        for idx in (pairs % len(x)).split(args.smooth_batch):
            noisy = x[idx] + sigma[idx] * torch.randn(len(idx), *x.shape[1:])
            total.index_add_(0, idx, torch_grad(net, noisy, targets[idx], args.torch_head))
        return (total / args.samples).abs().amax(1)

    def attack():
        adv = x.clone()
        for _ in range(args.pgd_steps):
            adv = adv.detach().requires_grad_(True)
            torch.nn.functional.cross_entropy(net(adv), targets, reduction="sum").backward()
            adv = torch.min(torch.max(adv + step * adv.grad.sign(), x - eps), x + eps)
            adv = torch.min(torch.max(adv, low), high)
        return adv

    def visualise():
        img = x.clone()
        for i in range(args.viz_steps):
            ox, oy = np.random.randint(-16, 17, 2)
            img = torch.roll(img, (int(ox), int(oy)), (2, 3)).detach().requires_grad_(True)
            (
                torch_scores(net, img, targets, args.torch_head) - 1e-3 * (img**2).sum((1, 2, 3))
            ).sum().backward()
            img = torch.roll(img.detach() + 5.0 * img.grad, (-int(ox), -int(oy)), (2, 3))
            img = torch.min(torch.max(img, low), high)
            if (i + 1) % 10 == 0:  # the default preset's Gaussian blur (sigma 0.5) every 10 steps
                img = torch_blur(img, 0.5)
        return img

    return {
        "saliency": lambda: torch_grad(net, x, targets, args.torch_head).abs().amax(1),
        "smoothgrad": smooth,
        "pgd": attack,
        "classviz_step": visualise,
    }


def jax_cases_of(kern, params, x, targets, bounds, args) -> dict:
    """The JAX side of every case on the kernel set ``kern`` (a ``Kernels``)."""
    module = get_model("squeezenet1_1", layers=kern.layers)
    fn, key = kern.logits_fn(module), jax.random.key(2)
    smooth = SmoothGradConfig(samples=args.samples, batch_size=args.smooth_batch)
    viz = preset("default", steps=args.viz_steps, frame_every=args.viz_steps)
    return {
        "saliency": lambda: saliency(fn, params, x, targets),
        "smoothgrad": lambda: smoothgrad(fn, params, x, targets, smooth, key, kern.normal),
        "pgd": lambda: pgd(fn, params, x, targets, bounds, PGDConfig(steps=args.pgd_steps), key),
        "classviz_step": lambda: class_visualization(fn, params, x, targets, bounds, viz, key),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--samples", type=int, default=50, help="SmoothGrad samples per image")
    parser.add_argument(
        "--smooth-batch",
        type=int,
        default=SmoothGradConfig.batch_size,
        help="SmoothGrad noisy copies per gradient call, over all images, both frameworks "
        "(default: %(default)s)",
    )
    parser.add_argument("--pgd-steps", type=int, default=20)
    parser.add_argument("--viz-steps", type=int, default=10)
    parser.add_argument(
        "--warmup",
        type=int,
        default=3,
        help="untimed calls of each before timing (the heaps of both grow over the first calls)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per round")
    parser.add_argument(
        "--rounds", type=int, default=5, help="alternating JAX/PyTorch rounds; best counts"
    )
    parser.add_argument(
        "--cases", default="saliency,smoothgrad,pgd,classviz_step", help="comma-separated subset"
    )
    parser.add_argument(
        "--torch-head",
        choices=("column", "logits"),
        default="column",
        help="PyTorch's class scores for saliency, SmoothGrad and class visualisation: only the "
        "target classes' classifier channels, as jaxdl computes them (column, the same "
        "computation), or all 1000 logits, then the targets' (logits, the usual code)",
    )
    torch_layout.add_argument(parser)
    kernels.add_argument(parser)
    args = parser.parse_args()
    kernels.configure()
    torch.set_num_threads(os.cpu_count())
    root = data_root()
    weights = root / "weights/squeezenet1_1_onnx_zoo" if root else None
    if weights and weights.exists():
        from weights_convert import convert_file

        params, _ = convert_file("squeezenet1_1", weights)
        params = jax.device_put(params)  # numpy params would be copied on every call
    else:
        params = get_model("squeezenet1_1").init(jax.random.key(0), jnp.zeros((1, 224, 224, 3)))
        params = params["params"]
    net = load_converted("squeezenet1_1", params).requires_grad_(False)  # input gradients only
    x = jax.random.normal(jax.random.key(1), (args.batch, 224, 224, 3))
    targets = jnp.arange(args.batch) * 7
    bounds = imagenet.pixel_bounds()
    jax_cases = {
        k.name: jax_cases_of(k, params, x, targets, bounds, args) for k in kernels.selected(args)
    }
    low, high = (torch.tensor(np.asarray(b)).view(1, 3, 1, 1) for b in bounds)
    # .contiguous(): torch.tensor keeps the transposed array's strides, which are channels_last
    nchw = torch.tensor(np.asarray(x).transpose(0, 3, 1, 2)).contiguous()
    net, xt = torch_layout.to_layout(torch, args.torch_layout, net, nchw)
    torch_targets = torch.tensor(np.asarray(targets), dtype=torch.long)
    torch.testing.assert_close(
        torch_scores(net, xt, torch_targets, "column"),  # both heads: the same scores
        torch_scores(net, xt, torch_targets, "logits"),
        rtol=1e-4,
        atol=1e-6,
    )
    torch_fns = torch_cases(net, xt, torch_targets, args, low, high)
    units = {"saliency": 1, "smoothgrad": 1, "pgd": 1, "classviz_step": args.viz_steps}
    cases = []
    for name in args.cases.split(","):
        compile_s = {}
        for kern, fns in jax_cases.items():
            start = time.perf_counter()
            jax.block_until_ready(fns[name]())
            compile_s[kern] = time.perf_counter() - start
        timed_fns = {
            kern: (lambda f=fns[name]: jax.block_until_ready(f()))
            for kern, fns in jax_cases.items()
        }
        seconds = best_of_rounds({**timed_fns, "torch": torch_fns[name]}, args)
        torch_rate = args.batch * units[name] / seconds["torch"]
        for kern in jax_cases:
            jax_rate = args.batch * units[name] / seconds[kern]
            cases.append(
                {
                    "case": f"{name} (batch {args.batch})",
                    "kernels": kern,
                    "jax_per_s": round(jax_rate, 3),
                    "torch_per_s": round(torch_rate, 3),
                    "ratio": round(jax_rate / torch_rate, 3),
                    "jax_compile_s": round(compile_s[kern], 2),
                }
            )
            print(json.dumps(cases[-1]), file=sys.stderr)  # progress; the result is the last line
    print(
        json.dumps(
            {
                "benchmark": "interpret",
                "torch_layout": args.torch_layout,
                "torch_head": args.torch_head,
                "cases": cases,
                "warmup": args.warmup,
                "repeats": args.repeats,
                "rounds": args.rounds,
            }
        )
    )


if __name__ == "__main__":
    main()
