"""PyTorch's memory layout for the reference side of the benchmarks.

PyTorch's default is NCHW ("nchw"); with ``channels_last`` its CPU convolutions run oneDNN's NHWC
kernels, the layout JAX uses, and are up to 2x faster (SqueezeNet 1.1 forward, 2 threads: 108 ->
206 img/s). Every benchmark takes ``--torch-layout`` so that both can be compared.
"""

LAYOUTS = ("nchw", "channels_last")


def add_argument(parser) -> None:
    parser.add_argument(
        "--torch-layout",
        choices=LAYOUTS,
        default="nchw",
        help="PyTorch's memory layout: its default NCHW, or channels_last (NHWC, as JAX)",
    )


def to_layout(torch, layout: str, *objects):
    """``objects`` (4-d tensors, modules) in ``layout``; anything else unchanged."""
    if layout == "nchw":
        return objects if len(objects) > 1 else objects[0]
    converted = [
        obj.to(memory_format=torch.channels_last)
        if isinstance(obj, torch.nn.Module) or (isinstance(obj, torch.Tensor) and obj.dim() == 4)
        else obj
        for obj in objects
    ]
    return converted if len(converted) > 1 else converted[0]
