"""Bad weights are one-line errors that say what was expected and what was found: missing and
truncated files, checkpoints of another architecture, renamed tensors, sidecar mismatches."""

import shutil

import numpy as np
import pytest

from jaxdl.weights import (
    META_KEY,
    check_shapes,
    expected_shapes,
    load_params,
    read_npz,
    save_params,
)
from weights_convert import convert, convert_file


def random_state(arch, seed=0):
    """A random torchvision-layout state dict (numpy) for ``arch``, built without torch."""
    torch_models = pytest.importorskip("weights_convert.torch_models", exc_type=ImportError)
    net = torch_models.build(arch, seed=seed)
    return {k: v.numpy() for k, v in net.state_dict().items()}


@pytest.fixture(scope="module")
def sq11_npz(tmp_path_factory):
    """A torchvision-layout SqueezeNet 1.1 checkpoint as .npz and its converted jaxdl file."""
    folder = tmp_path_factory.mktemp("sq11")
    state = random_state("squeezenet1_1")
    np.savez(folder / "source.npz", **state)
    convert_file("squeezenet1_1", folder / "source.npz", folder / "converted.npz")
    return folder


def truncate(path, out):
    data = path.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


def assert_one_line(excinfo, *fragments):
    message = str(excinfo.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_missing_files_are_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError) as excinfo:
        load_params(tmp_path / "nope.npz", "squeezenet1_1")
    assert_one_line(excinfo, "nope.npz")
    with pytest.raises(FileNotFoundError) as excinfo:
        convert_file("squeezenet1_1", tmp_path / "nope.pth")
    assert_one_line(excinfo, "nope.pth")


def test_truncated_converted_file_is_a_one_line_error(sq11_npz, tmp_path):
    bad = truncate(sq11_npz / "converted.npz", tmp_path / "converted.npz")
    shutil.copy(sq11_npz / "converted.json", tmp_path / "converted.json")
    with pytest.raises(ValueError) as excinfo:
        load_params(bad)
    assert_one_line(excinfo, "converted.npz", "corrupt or truncated")


@pytest.mark.parametrize("suffix", ["npz", "safetensors", "pth"])
def test_truncated_or_garbage_sources_are_one_line_errors(sq11_npz, tmp_path, suffix):
    if suffix == "pth":
        pytest.importorskip("torch")
    state = dict(np.load(sq11_npz / "source.npz"))
    source = tmp_path / f"full.{suffix}"
    if suffix == "npz":
        np.savez(source, **state)
    elif suffix == "safetensors":
        from safetensors.numpy import save_file

        save_file(state, str(source))
    else:
        import torch

        torch.save({k: torch.from_numpy(v) for k, v in state.items()}, source)
    for bad in (truncate(source, tmp_path / f"half.{suffix}"), tmp_path / f"text.{suffix}"):
        if bad.name.startswith("text"):
            bad.write_text("this is not a checkpoint\n")
        with pytest.raises(ValueError) as excinfo:
            convert_file("squeezenet1_1", bad)
        assert_one_line(excinfo, bad.name, "corrupt or truncated")


def test_unknown_source_format_lists_the_known_ones(tmp_path):
    (tmp_path / "w.h5").write_bytes(b"\x89HDF")
    with pytest.raises(ValueError, match=r"unknown checkpoint format; expected one of \.pth"):
        convert_file("squeezenet1_1", tmp_path / "w.h5")


def test_vgg16_checkpoint_asked_as_squeezenet_names_the_first_missing_layer():
    with pytest.raises(ValueError) as excinfo:
        convert("squeezenet1_1", random_state("vgg16"), source="vgg16.pth")
    # features.0 (64x3x3x3) exists in both; SqueezeNet's first fire module does not
    assert_one_line(excinfo, "fire2/squeeze", "features.3.squeeze.weight", "is it a squeezenet1_1")


def test_squeezenet1_0_checkpoint_asked_as_1_1_names_conv1_with_both_shapes():
    with pytest.raises(ValueError) as excinfo:
        convert("squeezenet1_1", random_state("squeezenet1_0"), source="sq10.pth")
    assert_one_line(
        excinfo, "conv1/kernel", "expected (3, 3, 3, 64)", "got (7, 7, 3, 96)", "sq10.pth"
    )


def test_converted_file_loaded_as_another_arch_names_the_mismatch(tmp_path):
    params, _ = convert("squeezenet1_0", random_state("squeezenet1_0"))
    # with the sidecar: the architectures disagree
    path = save_params(
        tmp_path / "sq10.npz", {k: v for k, v in params.items()}, {"architecture": "squeezenet1_0"}
    )
    with pytest.raises(ValueError, match="holds squeezenet1_0 weights, not squeezenet1_1"):
        load_params(path, "squeezenet1_1")
    # metadata without an architecture: the first layer whose shape differs
    path = save_params(tmp_path / "anon.npz", params, {"preprocessing": {}})
    with pytest.raises(ValueError) as excinfo:
        load_params(path, "squeezenet1_1")
    assert_one_line(excinfo, "conv1/bias: expected (64,), got (96,) in anon.npz")


def test_a_copied_npz_keeps_its_metadata_without_the_sidecar(sq11_npz, tmp_path):
    """The architecture and preprocessing travel inside the .npz: a file copied alone means what
    it meant (a Caffe SqueezeNet 1.0 must not silently get the torchvision preprocessing)."""
    shutil.copy(sq11_npz / "converted.npz", tmp_path / "w.npz")
    params, meta = load_params(tmp_path / "w.npz")
    _, original = load_params(sq11_npz / "converted.npz")
    assert meta == original and meta["architecture"] == "squeezenet1_1" and "fire9" in params


def test_an_npz_without_metadata_or_sidecar_is_refused(sq11_npz, tmp_path):
    flat = read_npz(sq11_npz / "converted.npz")
    flat.pop(META_KEY)
    np.savez(tmp_path / "old.npz", **flat)
    with pytest.raises(ValueError) as excinfo:
        load_params(tmp_path / "old.npz", "squeezenet1_1")
    assert_one_line(excinfo, "preprocessing is unknown; re-convert it")


def test_save_params_adds_the_npz_suffix_and_the_loader_reads_it(sq11_npz, tmp_path):
    params, meta = load_params(sq11_npz / "converted.npz")
    written = save_params(tmp_path / "weights_out", params, meta)
    assert written == tmp_path / "weights_out.npz" and written.is_file()
    assert load_params(written)[1] == meta


def test_npz_with_a_renamed_key_names_it(sq11_npz, tmp_path):
    flat = read_npz(sq11_npz / "converted.npz")
    flat["fire5/squeeze/weights"] = flat.pop("fire5/squeeze/kernel")
    with pytest.raises(ValueError) as excinfo:
        check_shapes(flat, "squeezenet1_1", source="renamed.npz")
    assert_one_line(excinfo, "fire5/squeeze/kernel: missing from renamed.npz")
    flat["fire5/squeeze/kernel"] = flat["fire5/squeeze/weights"]
    with pytest.raises(ValueError, match="fire5/squeeze/weights: not a parameter of squeezenet1_1"):
        check_shapes(flat, "squeezenet1_1", source="renamed.npz")


def test_source_with_a_missing_tensor_names_it(sq11_npz):
    state = dict(np.load(sq11_npz / "source.npz"))
    del state["classifier.1.bias"]
    with pytest.raises(ValueError, match=r"classifier: tensor 'classifier.1.bias' missing"):
        convert("squeezenet1_1", state)


def test_expected_shapes_are_hwio_kernels():
    shapes = expected_shapes("squeezenet1_1")
    assert shapes["conv1/kernel"] == (3, 3, 3, 64) and shapes["classifier/bias"] == (1000,)
