"""``.pth`` files read without PyTorch (``weights_convert.torch_pickle``): both of torch's formats
equal ``torch.load(weights_only=True)`` for float32, float16, bfloat16 and int64 tensors,
non-contiguous views, storage shared between tensors and scalars; a pickle that would run code
is refused with nothing run; damaged files are one-line errors."""

import collections
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from weights_convert.sources import read_source
from weights_convert.torch_pickle import UnsafePickle, load_state_dict

ROOT = Path(__file__).resolve().parents[1]
FORMATS = {"zip": True, "legacy": False}  # _use_new_zipfile_serialization

READ_WITHOUT_TORCH = """
import sys
sys.modules["torch"] = None  # any import of torch now fails
import numpy as np
from weights_convert.torch_pickle import load_state_dict
state = load_state_dict(sys.argv[1])
assert "torch" not in [m for m in sys.modules if sys.modules[m] is not None]
np.savez(sys.argv[2], **{k: v.astype(np.float32) if v.dtype.name == "bfloat16" else v
                         for k, v in state.items()})
"""


def state_dict(torch):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    return collections.OrderedDict(
        conv=torch.randn(8, 3, 3, 3, generator=torch.Generator().manual_seed(0)),
        half=torch.linspace(-2, 2, 7).half(),
        bf16=torch.linspace(-3, 3, 5).bfloat16(),
        steps=torch.tensor([3, -7], dtype=torch.int64),
        transposed=base.t(),  # non-contiguous
        row=base[2],  # shares base's storage with an offset
        strided=base[:, ::2],
        scalar=torch.tensor(2.5),
    )


@pytest.mark.torch
@pytest.mark.parametrize("fmt", FORMATS)
def test_both_formats_read_without_torch_equal_torch_load(fmt, tmp_path, torch):
    path = tmp_path / f"{fmt}.pth"
    torch.save(state_dict(torch), path, _use_new_zipfile_serialization=FORMATS[fmt])
    subprocess.run(
        [sys.executable, "-c", READ_WITHOUT_TORCH, str(path), str(tmp_path / "read.npz")],
        cwd=ROOT,
        check=True,
    )
    reference = torch.load(path, weights_only=True)
    with np.load(tmp_path / "read.npz") as read:
        assert sorted(read.files) == sorted(reference)
        for name, tensor in reference.items():
            expected = tensor.float().numpy() if name == "bf16" else tensor.numpy()
            assert read[name].dtype == expected.dtype, name
            np.testing.assert_array_equal(read[name], expected, err_msg=name)


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.torch
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_pth_that_would_run_code_is_refused_and_nothing_runs(fmt, tmp_path, torch):
    path, marker = tmp_path / "evil.pth", tmp_path / "ran"
    state = {"conv1.weight": torch.zeros(2), "x": RunsCode(marker)}
    torch.save(state, path, _use_new_zipfile_serialization=FORMATS[fmt])
    with pytest.raises(UnsafePickle, match="posix.system|os.system"):
        load_state_dict(path)
    with pytest.raises(ValueError, match="holds Python objects or code .* refused unread"):
        read_source(path)
    assert not marker.exists()


@pytest.mark.torch
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_truncated_pth_is_a_corrupt_checkpoint(fmt, tmp_path, torch):
    path = tmp_path / "cut.pth"
    torch.save(state_dict(torch), path, _use_new_zipfile_serialization=FORMATS[fmt])
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    with pytest.raises(ValueError, match="corrupt or truncated checkpoint"):
        read_source(path)
