"""Shared fixtures: the offline data folder and the real SqueezeNet 1.1 weights (skip with a
reason when absent), PyTorch for the reference tests, both layer sets; the gradient comparison
they share. The suite runs with ``jaxdl.cpu.configure()`` applied first, as the CLI does."""

from jaxdl import cpu

cpu.configure()  # before anything starts JAX's backends

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from jaxdl.layers import FLAX  # noqa: E402
from jaxdl.paths import data_root  # noqa: E402

LAYER_SETS = {"flax": FLAX, "cpu": cpu.LAYERS}


@pytest.fixture(params=list(LAYER_SETS))
def layers(request):
    """Each layer set in turn: flax's own (the default) and jaxdl's XLA:CPU kernels."""
    return LAYER_SETS[request.param]


def assert_gradients_match(actual, desired, atol=1e-5, max_fraction=0.1):
    """Float32 input gradients (or saliency maps) of a ReLU / max-pool network from two
    implementations: equal to ``atol`` x max|desired| except where float32 rounding flips a
    near-tie ReLU or max-pool decision, which changes the gradient over that unit's receptive
    field; at most ``max_fraction`` of the elements may differ by more.

    Why 10% is tight enough: JAX and PyTorch differ beyond 1e-5 x max on 1-2.5% of the elements
    (PyTorch against its own channels_last layout on 0.3%), while a uniform 0.1% scale error
    puts 38% beyond and a wrong kernel flip or padding nearly all; layer-level errors are caught
    exactly by the layer parity tests."""
    actual, desired = np.asarray(actual, np.float64), np.asarray(desired, np.float64)
    assert actual.shape == desired.shape, (actual.shape, desired.shape)
    beyond = np.mean(np.abs(actual - desired) > atol * np.abs(desired).max())
    assert beyond <= max_fraction, (
        f"{beyond:.2%} of the elements differ by more than {atol:g} x max"
    )


@pytest.fixture
def embedded(monkeypatch, tmp_path):
    """No real data: chapters fall back to embedded data (as offline)."""
    monkeypatch.setenv("JAXDL_DATA", str(tmp_path / "no-data"))


@pytest.fixture(scope="session")
def data_dir():
    """../shared/data or $JAXDL_DATA; tests needing it skip when it is absent."""
    root = data_root()
    if root is None:
        pytest.skip("real data not found: set JAXDL_DATA or place it at ../shared/data")
    return root


def require(data_dir, relative):
    """``data_dir/relative`` or skip naming the missing file."""
    path = data_dir / relative
    if not path.exists():
        pytest.skip(f"{relative} not found under {data_dir}")
    return path


@pytest.fixture(scope="session")
def squeezenet11(data_dir):
    """(params, meta) of the ImageNet SqueezeNet 1.1 converted from the ONNX-zoo .npy folder."""
    from weights_convert import convert_file

    return convert_file("squeezenet1_1", require(data_dir, "weights/squeezenet1_1_onnx_zoo"))


@pytest.fixture(scope="session")
def imagenet25(data_dir):
    """(X (25,224,224,3) uint8, y (25,)) from imagenet_val_25.npz."""
    import numpy as np

    with np.load(require(data_dir, "imagenet/imagenet_val_25.npz"), allow_pickle=False) as data:
        return data["X"], data["y"]


@pytest.fixture(scope="session")
def torch():
    return pytest.importorskip("torch", reason="PyTorch reference tests need the torch extra")


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Tests never read or fill the user's ~/.cache/jaxdl (each session starts with an empty
    cache and home) and never reach the network: JAXDL_OFFLINE=1, which the loopback-server
    tests lift for themselves."""
    import os

    settings = {
        "JAXDL_CACHE": str(tmp_path_factory.mktemp("jaxdl_cache")),
        "JAXDL_HOME": str(tmp_path_factory.mktemp("jaxdl_home")),
        "JAXDL_OFFLINE": "1",
        "JAXDL_WEIGHTS_MIRROR": None,
    }
    previous = {name: os.environ.get(name) for name in settings}
    for name, value in settings.items():
        os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
    yield
    for name, value in previous.items():
        os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


def random_params(model, x, seed=0):
    """Params of ``model`` for input ``x`` with kernels N(0, 1/fan_in) and biases N(0, 0.1):
    about half the ReLUs active; from the shapes alone (no compiled init)."""
    rng = np.random.default_rng(seed)
    shapes = jax.eval_shape(model.init, jax.random.key(0), x)["params"]
    return jax.tree.map(
        lambda p: (
            rng.standard_normal(p.shape, np.float32)
            / np.float32(np.sqrt(np.prod(p.shape[:-1]) if p.ndim > 1 else 10))
        ),
        shapes,
    )
