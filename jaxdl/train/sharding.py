"""Data parallelism over a 1-D device mesh: batches sharded on their leading axis, params
replicated. The same code runs on 1 device, N local devices, or N hosts (after
``jax.distributed.initialize()``)."""

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxdl.errors import InputError

DATA_AXIS = "data"


def data_mesh(devices=None) -> Mesh:
    """A 1-D mesh named ``"data"`` over ``devices`` (default: every device of every process)."""
    return Mesh(np.asarray(jax.devices() if devices is None else devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
    """Every device holds the whole array."""
    return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh, axis: int = 0) -> NamedSharding:
    """Split the batch axis ``axis`` across the mesh (1 for batches of stacked seeds, (S, B,
    ...))."""
    return NamedSharding(mesh, PartitionSpec(*[None] * axis, DATA_AXIS))


def replicate(tree, mesh: Mesh):
    """``tree`` placed whole on every device of the mesh."""
    return jax.device_put(tree, replicated(mesh))


def shard_batch(batch, mesh: Mesh, axis: int = 0):
    """Place a host batch (pytree of arrays with batch axis ``axis`` of size B) across the mesh.
    On several processes each passes its own local slice, and the global batch is their
    concatenation. B (per process) must be divisible by the number of local devices."""
    sharding = batch_sharded(mesh, axis)
    local = len(mesh.local_devices)

    def place(x):
        x = np.asarray(x)
        if x.shape[axis] % local:
            raise InputError(
                f"batch of {x.shape[axis]} does not split over {local} devices; "
                f"use a batch size divisible by {local}"
            )
        if jax.process_count() == 1:
            return jax.device_put(x, sharding)
        return jax.make_array_from_process_local_data(sharding, x)

    return jax.tree.map(place, batch)
