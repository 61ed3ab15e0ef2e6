"""Inference speed, JAX vs PyTorch on the same (converted) weights: VGG16 and SqueezeNet 1.1,
forward pass and input gradient (saliency: d sum_i logit_i[y_i] / d x), images per second.

Each framework runs in its native layout (JAX NHWC, PyTorch NCHW) on the same numbers. JAX is
compiled once per case (compile time reported separately); both warm up, then JAX and PyTorch
alternate for ``--rounds`` rounds of ``--iters`` calls and the best round counts (robust to
other processes on a shared machine). ``--single-thread`` runs both on one thread and times
process CPU seconds instead of wall time: on an oversubscribed machine (load far above the core
count) wall-clock ratios are noise, while single-thread CPU time still measures the work each
framework does. Ends with one JSON line.

    python benchmarks/bench_inference.py --cases squeezenet1_1 --iters 5
    python benchmarks/bench_inference.py --cases vgg16:forward:8 --iters 2 --rounds 1
"""

import argparse
import json
import os
import sys
import time

import kernels
import torch_layout

ARCHS = ("vgg16", "squeezenet1_1")
MODES = ("forward", "grad")
BATCHES = (8, 32)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cases",
        default="all",
        help="comma-separated ARCH[:MODE[:BATCH]] filters, e.g. 'vgg16:forward:8,squeezenet1_1' "
        f"(archs {', '.join(ARCHS)}; modes {', '.join(MODES)}; batches {BATCHES}); default all",
    )
    parser.add_argument(
        "--iters", type=int, default=3, help="timed calls per round (default: %(default)s)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating JAX/PyTorch rounds; best counts"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=3,
        help="untimed calls before timing: the malloc heap grows over the first calls "
        "(page faults: VGG16 gradient, batch 8: 230,000 on some of its first 5 calls)",
    )
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count(), help="PyTorch threads (default: all cores)"
    )
    parser.add_argument(
        "--xla-flags", default="", help="extra XLA_FLAGS for this run (set before jax starts)"
    )
    torch_layout.add_argument(parser)
    kernels.add_argument(parser)
    parser.add_argument(
        "--single-thread",
        action="store_true",
        help="one thread each, timed in process CPU seconds (for busy shared machines)",
    )
    return parser.parse_args(argv)


def selected_cases(spec: str):
    """[(arch, mode, batch)] matching any of the comma-separated ``ARCH[:MODE[:BATCH]]`` filters."""
    cases = [(a, m, b) for a in ARCHS for m in MODES for b in BATCHES]
    if spec == "all":
        return cases
    keep = []
    for case in cases:
        for wanted in spec.split(","):
            parts = wanted.strip().split(":")
            if all(p in ("", "*", str(v)) for p, v in zip(parts, case)):
                keep.append(case)
                break
    if not keep:
        raise SystemExit(f"no case matches --cases {spec!r}")
    return keep


def time_calls(fn, iters: int, clock=time.perf_counter) -> float:
    """Seconds per call of ``fn`` (which blocks until its result is ready) on ``clock``."""
    start = clock()
    for _ in range(iters):
        fn()
    return (clock() - start) / iters


def jax_case(arch, mode, batch, params, x, labels, layers):
    """(compiled call, compile seconds) for one JAX case on the ``layers`` kernels."""
    import jax
    import jax.numpy as jnp

    from jaxdl.models import get_model

    model = get_model(arch, layers=layers)

    def logits(p, images):
        return model.apply({"params": p}, images)[0]

    if mode == "forward":
        fn = logits
    else:

        def fn(p, images, y):
            score = lambda im: jnp.take_along_axis(logits(p, im), y[:, None], axis=1).sum()  # noqa: E731
            return jax.grad(score)(images)

    args = (params, x) if mode == "forward" else (params, x, labels)
    start = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - start
    return (lambda: compiled(*args).block_until_ready()), compile_s


def torch_case(torch, net, mode, x, labels):
    def forward():
        with torch.no_grad():
            return net(x)

    def grad():
        images = x.detach().requires_grad_(True)
        net(images).gather(1, labels[:, None]).sum().backward()
        return images.grad

    return forward if mode == "forward" else grad


def run_case(torch, arch, mode, batch, nets, args):
    """One row per JAX kernel set: all of them and PyTorch warmed up, then alternating rounds."""
    import jax.numpy as jnp
    import numpy as np

    net, params = nets[arch]
    rng = np.random.default_rng(batch)
    x_nchw = rng.standard_normal((batch, 3, 224, 224), dtype=np.float32)
    labels = rng.integers(0, 1000, batch)
    x, y = jnp.asarray(x_nchw.transpose(0, 2, 3, 1)), jnp.asarray(labels, jnp.int32)
    jax_fns = {
        k.name: jax_case(arch, mode, batch, params, x, y, k.layers) for k in kernels.selected(args)
    }
    net, x_torch = torch_layout.to_layout(torch, args.torch_layout, net, torch.from_numpy(x_nchw))
    torch_fn = torch_case(torch, net, mode, x_torch, torch.from_numpy(labels))
    for _ in range(args.warmup):
        for fn, _ in jax_fns.values():
            fn()
        torch_fn()
    jax_s, torch_s = {name: [] for name in jax_fns}, []
    clock = time.process_time if args.single_thread else time.perf_counter
    for _ in range(args.rounds):
        for name, (fn, _) in jax_fns.items():
            jax_s[name].append(time_calls(fn, args.iters, clock))
        torch_s.append(time_calls(torch_fn, args.iters, clock))
    torch_per_s = batch / min(torch_s)
    return [
        {
            "case": f"{arch}/{mode}/b{batch}",
            "kernels": name,
            "jax_per_s": round(batch / min(jax_s[name]), 2),
            "torch_per_s": round(torch_per_s, 2),
            "ratio": round(batch / min(jax_s[name]) / torch_per_s, 3),
            "jax_compile_s": round(compile_s, 2),
        }
        for name, (_, compile_s) in jax_fns.items()
    ]


def build_nets(torch, archs):
    """arch -> (PyTorch reference in eval mode, no param grads; the same weights converted, on
    the JAX device: numpy params would be copied into the call on every call, 553 MB for VGG16)."""
    import flax.traverse_util
    import jax

    from weights_convert import convert
    from weights_convert.torch_models import build

    nets = {}
    for arch in archs:
        net = build(arch, seed=0)
        for p in net.parameters():
            p.requires_grad_(False)  # the saliency gradient is w.r.t. the input only, as in JAX
        flat, _ = convert(arch, {k: v.numpy() for k, v in net.state_dict().items()}, source=arch)
        nets[arch] = (net, jax.device_put(flax.traverse_util.unflatten_dict(flat, sep="/")))
    return nets


def main(argv=None):
    args = parse_args(argv)
    flags = args.xla_flags
    if args.single_thread:
        args.threads = 1
        flags += " --xla_cpu_multi_thread_eigen=false"
    if flags.strip():
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()
    kernels.configure()
    import jax
    import torch

    torch.set_num_threads(args.threads)
    cases = selected_cases(args.cases)
    nets = build_nets(torch, sorted({arch for arch, _, _ in cases}))
    results = []
    for arch, mode, batch in cases:
        for result in run_case(torch, arch, mode, batch, nets, args):
            rates = f"JAX {result['jax_per_s']:8.2f} PyTorch {result['torch_per_s']:8.2f} img/s"
            print(
                f"{result['case']:>22} [{result['kernels']}]: {rates}  ratio {result['ratio']:.2f}"
                f"  (compile {result['jax_compile_s']:.1f} s)",
                file=sys.stderr,
            )
            results.append(result)
    print(
        json.dumps(
            {
                "benchmark": "inference",
                "cases": results,
                "iters": args.iters,
                "rounds": args.rounds,
                "threads": args.threads,
                "single_thread": args.single_thread,
                "torch_layout": args.torch_layout,
                "xla_flags": os.environ.get("XLA_FLAGS", ""),
                "jax": jax.__version__,
                "torch": torch.__version__,
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
