"""Training steps per second: JAX (jaxdl's jitted loop step) vs PyTorch on the same network,
batch and optimiser, JAX on each ``--kernels`` set; and, with ``--seeds N``, N seeds trained
as one vmapped step (``jaxdl.train.seeds``) against the N seeds in sequence. Cases live in
``CASES`` (name -> builder(batch, layers) returning the JAX step function, a state-from-seed
function and a host batch) and ``TORCH`` (name -> builder(batch, torch_layout) returning a
no-argument PyTorch training step on fixed data).

    python benchmarks/bench_train.py --steps 50 --batch 64 [--cases dann] [--seeds 3]
"""

import argparse
import functools
import json
import os
import time

import jax
import kernels
import numpy as np
import torch_layout


def dann_case(batch: int, layers):
    """One DANN step (source+target, GRL, SGD momentum 0.9, lr 0.01) on 32x32x3 uint8 images."""
    from jaxdl import dann

    host = dann_batch(batch)
    model, optimizer = dann.DANN(layers=layers), dann.make_optimizer("sgd", 10_000, mu0=0.01)
    step = dann.make_step(model, optimizer, "dann", setting=dann.Setting(steps=10_000))
    return step, lambda seed: dann.init_state(model, optimizer, seed), host


def dann_batch(batch: int) -> dict:
    rng = np.random.default_rng(0)
    return {
        "xs": rng.integers(0, 256, (batch, 32, 32, 3), dtype=np.uint8),
        "ys": rng.integers(0, 10, batch),
        "xt": rng.integers(0, 256, (batch, 32, 32, 3), dtype=np.uint8),
    }


def torch_dann_case(batch: int, layout: str):
    import torch

    host = dann_batch(batch)
    net, torch_optimizer = torch_dann()
    xs = torch.from_numpy(host["xs"]).permute(0, 3, 1, 2).contiguous()
    xt = torch.from_numpy(host["xt"]).permute(0, 3, 1, 2).contiguous()
    net, xs, xt = torch_layout.to_layout(torch, layout, net, xs, xt)
    ys = torch.from_numpy(host["ys"])
    return lambda: torch_dann_step(net, torch_optimizer, xs, ys, xt, lam=0.5)


def torch_dann():
    """The same network in PyTorch (NCHW) with SGD momentum."""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 32, 5),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 48, 5),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
            )
            self.label = nn.Sequential(
                nn.Linear(1200, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10)
            )
            self.domain = nn.Sequential(nn.Linear(1200, 100), nn.ReLU(), nn.Linear(100, 1))

    net = Net()
    return net, torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)


def torch_dann_step(net, optimizer, xs, ys, xt, lam):
    import torch
    import torch.nn.functional as F

    class Reverse(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.view_as(x)

        @staticmethod
        def backward(ctx, g):
            return -lam * g

    x = torch.cat([xs, xt]).float() / 127.5 - 1.0
    f = net.features(x)
    n = xs.shape[0]
    class_loss = F.cross_entropy(net.label(f[:n]), ys)
    domain = net.domain(Reverse.apply(f))[:, 0]
    labels = torch.cat([torch.zeros(n), torch.ones(xt.shape[0])])
    loss = class_loss + F.binary_cross_entropy_with_logits(domain, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def dcgan_case(batch: int, layers, classes=None):
    """One DCGAN D-then-G step (28x28, widths 64, z 100, Adam 2e-4 b1 0.5, non-saturating loss);
    with ``classes``, the conditional cG(z, y) / cD(x, y)."""
    from jaxdl.gan import GAN, Discriminator, Generator

    gan = GAN(
        Generator(28, 64, num_classes=classes, layers=layers),
        Discriminator(28, 64, num_classes=classes, layers=layers),
    )
    return gan.train_step, lambda seed: gan.init(seed, (28, 28, 1)), dcgan_batch(batch)


def dcgan_batch(batch: int) -> dict:
    rng = np.random.default_rng(0)
    return {
        "image": rng.integers(0, 256, (batch, 28, 28), dtype=np.uint8),
        "label": rng.integers(0, 10, batch),
    }


def torch_dcgan_case(batch: int, layout: str, classes: int = 0):
    import torch

    nets = torch_dcgan(classes=classes)
    torch_layout.to_layout(torch, layout, nets[0], nets[1])  # modules convert in place
    host = dcgan_batch(batch)
    images, labels = torch.from_numpy(host["image"])[:, None], torch.from_numpy(host["label"])
    return lambda: torch_dcgan_step(*nets, images, labels, classes)


def torch_dcgan(z_dim: int = 100, width: int = 64, classes: int = 0):
    """The same generator / discriminator in PyTorch (NCHW), N(0, 0.02) init, two Adams; with
    ``classes``, the practical's conditional pair: one-hot y appended to z and, as constant
    planes, to D's input channels."""
    import torch
    from torch import nn

    generator = nn.Sequential(
        nn.Linear(z_dim + classes, 7 * 7 * 2 * width),
        nn.Unflatten(1, (2 * width, 7, 7)),
        nn.BatchNorm2d(2 * width),
        nn.ReLU(),
        nn.ConvTranspose2d(2 * width, width, 4, 2, 1),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.ConvTranspose2d(width, 1, 4, 2, 1),
        nn.Tanh(),
    )
    discriminator = nn.Sequential(
        nn.Conv2d(1 + classes, width, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1),
        nn.BatchNorm2d(2 * width),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(7 * 7 * 2 * width, 1),
    )
    for module in list(generator.modules()) + list(discriminator.modules()):
        if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(module.weight, 0.0, 0.02)
    adam = dict(lr=2e-4, betas=(0.5, 0.999))
    return (
        generator,
        discriminator,
        torch.optim.Adam(generator.parameters(), **adam),
        torch.optim.Adam(discriminator.parameters(), **adam),
        z_dim,
    )


def torch_dcgan_step(
    generator, discriminator, g_optimizer, d_optimizer, z_dim, images, labels, classes
):
    """The PyTorch DCGAN recipe: D on real + detached fake, then G through the updated D."""
    import torch
    import torch.nn.functional as F

    real = images.float() / 127.5 - 1.0
    n = real.shape[0]
    onehot = F.one_hot(labels, classes).float() if classes else torch.zeros(n, 0)
    planes = onehot[:, :, None, None].expand(n, classes, *real.shape[2:])

    def judge(x):
        return discriminator(torch.cat([x, planes], 1))[:, 0]

    fake = generator(torch.cat([torch.randn(n, z_dim), onehot], 1))
    ones, zeros = torch.ones(n), torch.zeros(n)
    d_loss = F.binary_cross_entropy_with_logits(
        judge(real), ones
    ) + F.binary_cross_entropy_with_logits(judge(fake.detach()), zeros)
    d_optimizer.zero_grad()
    d_loss.backward()
    d_optimizer.step()
    g_loss = F.binary_cross_entropy_with_logits(judge(fake), ones)
    g_optimizer.zero_grad()
    g_loss.backward()
    g_optimizer.step()
    return g_loss


# cdcgan: the practical's 10 digit classes; cdcgan100: the 100 clusters of `--clusters 100`
CASES = {
    "dann": dann_case,
    "dcgan": dcgan_case,
    "cdcgan": functools.partial(dcgan_case, classes=10),
    "cdcgan100": functools.partial(dcgan_case, classes=100),
}
TORCH = {
    "dann": torch_dann_case,
    "dcgan": torch_dcgan_case,
    "cdcgan": functools.partial(torch_dcgan_case, classes=10),
    "cdcgan100": functools.partial(torch_dcgan_case, classes=100),
}


def timed(fn, steps: int) -> float:
    """Steps per second of ``fn`` over ``steps`` calls, synchronised at the end."""
    start = time.perf_counter()
    out = None
    for _ in range(steps):
        out = fn()
    jax.block_until_ready(out)
    return steps / (time.perf_counter() - start)


def jax_runner(step_fn, init, host, seeds: tuple):
    """A no-argument training step of the stacked ``seeds`` (vmapped when more than one) on
    fixed data, its loss returned, and the seconds its first call (the compile) took."""
    from jaxdl.train import loop
    from jaxdl.train import seeds as seeds_axis
    from jaxdl.train.sharding import shard_batch

    if len(seeds) == 1:
        step, state = loop.jit_step(step_fn), init(seeds[0])
        batch = shard_batch(host, step.mesh)
    else:
        step = loop.jit_step(seeds_axis.vmap_step(step_fn), batch_axis=1)
        state = seeds_axis.stack([init(s) for s in seeds])
        batch = shard_batch(seeds_axis.stack([host] * len(seeds)), step.mesh, axis=1)
    box = {"state": jax.device_put(state)}

    def run():
        box["state"], metrics = step(box["state"], batch)
        return metrics

    start = time.perf_counter()
    jax.block_until_ready(run())
    return run, time.perf_counter() - start


def run_case(name: str, batch: int, steps: int, warmup: int, layout: str, kern) -> dict:
    step_fn, init, host = CASES[name](batch, kern.layers)
    jax_step, compile_s = jax_runner(step_fn, init, host, (0,))
    torch_step = TORCH[name](batch, layout)
    for _ in range(warmup):
        jax.block_until_ready(jax_step())
        torch_step()
    jax_rate = timed(jax_step, steps)
    torch_rate = timed(torch_step, steps)
    return {
        "case": name,
        "kernels": kern.name,
        "batch": batch,
        "steps": steps,
        "jax_compile_s": round(compile_s, 2),
        "jax_per_s": round(jax_rate, 2),
        "torch_per_s": round(torch_rate, 2),
        "ratio": round(jax_rate / torch_rate, 2),
    }


def run_seeds_case(name: str, batch: int, steps: int, warmup: int, n: int, kern) -> dict:
    """Seed-steps per second (one step of one seed) of N seeds vmapped and in sequence (N
    single-seed programs, each compiled once, stepped in turn)."""
    step_fn, init, host = CASES[name](batch, kern.layers)
    stacked, compile_s = jax_runner(step_fn, init, host, tuple(range(n)))
    singles = [jax_runner(step_fn, init, host, (s,))[0] for s in range(n)]

    def in_sequence():
        return [single() for single in singles]

    for _ in range(warmup):
        jax.block_until_ready((stacked(), in_sequence()))
    vmapped_rate = timed(stacked, steps) * n
    sequential_rate = timed(in_sequence, steps) * n
    return {
        "case": f"{name}_seeds",
        "kernels": kern.name,
        "batch": batch,
        "seeds": n,
        "steps": steps,
        "vmap_compile_s": round(compile_s, 2),
        "vmap_seed_steps_per_s": round(vmapped_rate, 2),
        "sequential_seed_steps_per_s": round(sequential_rate, 2),
        "vmap_over_sequential": round(vmapped_rate / sequential_rate, 2),
    }


def main():
    kernels.configure()
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--batch", type=int, default=64, help="source images per step (as many target)"
    )
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated subset of {list(CASES)}"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=3,
        help="also time N seeds vmapped against N in sequence (0: skip) (default: %(default)s)",
    )
    torch_layout.add_argument(parser)
    kernels.add_argument(parser)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    cases = [
        run_case(name, args.batch, args.steps, args.warmup, args.torch_layout, kern)
        for name in args.cases.split(",")
        for kern in kernels.selected(args)
    ]
    if args.seeds > 1:
        cases += [
            run_seeds_case(name, args.batch, args.steps, args.warmup, args.seeds, kern)
            for name in args.cases.split(",")
            for kern in kernels.selected(args)
        ]
    print(
        json.dumps(
            {
                "benchmark": "train",
                "threads": os.cpu_count(),
                "devices": jax.device_count(),
                "torch_layout": args.torch_layout,
                "cases": cases,
            }
        )
    )


if __name__ == "__main__":
    main()
