"""``jaxdl.cpu.configure()``: nothing global happens on import; the explicit call (which the CLI
makes) sets the XLA:CPU flags and malloc options, and warns when it is too late."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from jaxdl.cpu import config as cpu_config

SUBMODULES = """
import importlib, pkgutil, jaxdl
names = ["jaxdl"] + [m.name for m in pkgutil.walk_packages(jaxdl.__path__, "jaxdl.")]
for name in names:
    importlib.import_module(name)
"""


def run_python(code: str, env=None) -> subprocess.CompletedProcess:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("XLA_FLAGS", "JAXDL_XLA_DEFAULTS", "JAXDL_TUNE_MALLOC")
    }
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**environ, **(env or {})},
        check=True,
    )


def mallopt_probe(body: str) -> str:
    """Python code that records every ``mallopt`` call (ctypes' libc patched first), runs
    ``body`` and prints the environment before and after and the calls as JSON."""
    return f"""
import ctypes, json, os
calls, real_cdll = [], ctypes.CDLL
class Recording:
    def __init__(self, lib): self._lib = lib
    def __getattr__(self, name):
        if name == "mallopt":
            return lambda option, value: calls.append((option, value)) or 1
        return getattr(self._lib, name)
ctypes.CDLL = lambda *args, **kwargs: Recording(real_cdll(*args, **kwargs))
before = dict(os.environ)
{textwrap.dedent(body)}
print(json.dumps({{"before": before, "after": dict(os.environ), "mallopt": calls}}))
"""


def test_importing_jaxdl_and_every_submodule_changes_nothing_global():
    result = json.loads(run_python(mallopt_probe(SUBMODULES)).stdout.strip().splitlines()[-1])
    assert result["after"] == result["before"]
    assert result["mallopt"] == []


def test_the_cli_applies_the_cpu_settings_before_jax_starts():
    body = """
    from experiments import cli
    try:
        cli.main(["--version"])  # argparse exits after printing the version
    except SystemExit:
        pass
    """
    result = json.loads(run_python(mallopt_probe(body)).stdout.strip().splitlines()[-1])
    flags = result["after"].get("XLA_FLAGS", "")
    if cpu_config.default_xla_flags({}):  # a jaxlib with the YNNPACK option
        assert flags.startswith(cpu_config.CPU_FLAGS)
    assert sorted(map(tuple, result["mallopt"])) == sorted(
        [
            (cpu_config.M_ARENA_MAX, 1),
            (cpu_config.M_MMAP_MAX, 0),
            (cpu_config.M_TRIM_THRESHOLD, 2**31 - 1),
        ]
    )


def test_configure_after_the_backend_started_warns_and_changes_nothing():
    code = """
    import os, warnings, jax
    jax.numpy.ones(1).block_until_ready()
    from jaxdl import cpu
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        applied = cpu.configure()
    assert applied == {"xla_flags": False, "malloc": False}, applied
    assert "XLA_FLAGS" not in os.environ
    print(caught[0].message)
    """
    assert "after JAX started its backends" in run_python(code).stdout


def test_defaults_added_to_the_users_flags():
    flags = cpu_config.default_xla_flags({"XLA_FLAGS": "--xla_dump_to=/tmp/x"})
    assert flags == f"{cpu_config.CPU_FLAGS} --xla_dump_to=/tmp/x"


def test_user_setting_and_opt_out_win():
    mine = f"--{cpu_config.YNN_OPTION}=+dot"
    assert cpu_config.default_xla_flags({"XLA_FLAGS": mine}) == mine
    assert cpu_config.default_xla_flags({"JAXDL_XLA_DEFAULTS": "0"}) == ""


@pytest.mark.skipif(
    cpu_config.CPU_FLAGS not in os.environ.get("XLA_FLAGS", ""),
    reason="the suite's configure() set no XLA:CPU flags (opted out, own XLA_FLAGS or old jaxlib)",
)
def test_the_suite_configured_the_backend_before_it_started():
    """conftest.py calls ``jaxdl.cpu.configure()`` first: XLA:CPU then runs its own convolution
    emitters, not YNNPACK."""
    import jax

    hlo = (
        jax.jit(lambda x, w: jax.lax.conv(x, w, (1, 1), "VALID"))
        .lower(jax.numpy.ones((1, 3, 8, 8)), jax.numpy.ones((4, 3, 3, 3)))
        .compile()
        .as_text()
    )
    assert "__ynn_fusion" not in hlo


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc is tuned on glibc only")
def test_tuned_malloc_reuses_a_large_block_freed_by_a_worker_thread():
    """What XLA:CPU's workers do each call: allocate a large temporary, fill it, free it. With
    the malloc settings (applied first thing, as the CLI does, in a fresh interpreter) the next
    call reuses mapped memory instead of faulting in new pages."""
    code = """
    import ctypes, resource, threading
    from jaxdl.cpu import config
    assert config.tune_malloc()
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    size = 96 << 20  # above glibc's largest mmap threshold (32 MB)

    def one_call():
        block = libc.malloc(ctypes.c_size_t(size))
        ctypes.memset(block, 1, size)
        libc.free(ctypes.c_void_p(block))

    def faults_of_a_call():
        thread = threading.Thread(target=one_call)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        thread.start()
        thread.join()
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    faults_of_a_call()
    print(faults_of_a_call())
    """
    faults = int(run_python(code).stdout.strip().splitlines()[-1])
    assert faults < (96 << 20 >> 12) // 10  # a fresh mapping would fault 24,576 pages
