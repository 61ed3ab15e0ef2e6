"""Shared fixtures: the offline data folder and the real SqueezeNet 1.1 weights (skip with a
reason when absent), and PyTorch for the reference tests."""
import pytest

from jaxdl.paths import data_root


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
    """Tests never read or fill the user's ~/.cache/jaxdl: each session starts with an empty cache."""
    import os

    previous = os.environ.get("JAXDL_CACHE")
    os.environ["JAXDL_CACHE"] = str(tmp_path_factory.mktemp("jaxdl_cache"))
    yield
    if previous is None:
        os.environ.pop("JAXDL_CACHE")
    else:
        os.environ["JAXDL_CACHE"] = previous
