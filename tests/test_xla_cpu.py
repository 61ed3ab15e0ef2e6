"""The XLA:CPU defaults jaxdl sets on import, and that the running backend got them."""
import os

import pytest

from jaxdl import xla_cpu


def test_defaults_added_to_the_users_flags():
    flags = xla_cpu.default_xla_flags({"XLA_FLAGS": "--xla_dump_to=/tmp/x"})
    assert flags == f"{xla_cpu.CPU_FLAGS} --xla_dump_to=/tmp/x"


def test_user_setting_and_opt_out_win():
    mine = f"--{xla_cpu.YNN_OPTION}=+dot"
    assert xla_cpu.default_xla_flags({"XLA_FLAGS": mine}) == mine
    assert xla_cpu.default_xla_flags({"JAXDL_XLA_DEFAULTS": "0"}) == ""


@pytest.mark.skipif(xla_cpu.CPU_FLAGS not in os.environ.get("XLA_FLAGS", ""),
                    reason="jaxdl's XLA:CPU defaults are off here (JAXDL_XLA_DEFAULTS=0, own XLA_FLAGS or old jaxlib)")
def test_importing_jaxdl_set_the_flags_before_the_backend_started():
    import jax

    assert xla_cpu.YNN_OPTION in os.environ["XLA_FLAGS"]
    hlo = jax.jit(lambda x, w: jax.lax.conv(x, w, (1, 1), "VALID")).lower(
        jax.numpy.ones((1, 3, 8, 8)), jax.numpy.ones((4, 3, 3, 3))).compile().as_text()
    assert "__ynn_fusion" not in hlo


@pytest.mark.skipif(not xla_cpu.tune_malloc(), reason="not Linux glibc: jaxdl leaves malloc as it is")
def test_tuned_malloc_reuses_a_large_block_freed_by_a_worker_thread():
    """What XLA:CPU's workers do each call: allocate a large temporary, fill it, free it. With
    jaxdl's malloc settings the next call reuses mapped memory instead of faulting in new pages."""
    import ctypes
    import resource
    import threading

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
    assert faults_of_a_call() < (size >> 12) // 10  # a fresh mapping would fault 24,576 pages
