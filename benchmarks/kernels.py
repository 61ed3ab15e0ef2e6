"""The layer kernels a benchmark times JAX with (``--kernels``): jaxdl's XLA:CPU ones, as the
``jaxdl`` CLI picks them on a CPU, and flax's own, the library default on every backend. Every
benchmark applies ``jaxdl.cpu.configure()`` first, as the CLI does."""

from experiments.common import Kernels, pick_kernels
from jaxdl import cpu


def add_argument(parser) -> None:
    parser.add_argument(
        "--kernels",
        default="cpu,flax",
        help="comma-separated JAX layer kernels to time: cpu (jaxdl.cpu), flax (flax's own) "
        "(default: %(default)s)",
    )


def configure() -> dict:
    """``jaxdl.cpu.configure()``: call before JAX computes anything."""
    return cpu.configure()


def selected(args) -> list[Kernels]:
    return [pick_kernels(name) for name in args.kernels.split(",")]
