"""Data parallelism: one code path for 1..N devices (DESIGN.md).

A 1-D mesh named 'data' over the devices; parameters and optimizer state are replicated and
the global batch is split along its first axis. The train step is jitted with these
shardings and XLA partitions it; its loss is a mean over the global batch, so the gradients
are averaged across devices by the partitioner's all-reduce. With one device this is plain
single-device jit. (`jax.pmap`, which the design card names, is now a layer over jit and
shard_map, and its docs point new code to jit with shardings.)
"""

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def data_mesh(num_devices: int = 0) -> Mesh:
  """A 1-D 'data' mesh over the first `num_devices` devices (0: all of them)."""
  devices = jax.devices()
  if num_devices < 0 or num_devices > len(devices):
    raise ValueError(f'num_devices must be between 0 (all) and {len(devices)}, the devices '
                     f'there are ({devices[0].platform}), got {num_devices}')
  chosen = devices[:num_devices or len(devices)]
  return Mesh(np.array(chosen), ('data',))


def check_batch(batch_size: int, mesh: Mesh, name: str = 'batch_size') -> None:
  if batch_size % mesh.size:
    raise ValueError(f'{name} ({batch_size}) must be divisible by the number of devices '
                     f'({mesh.size}); change {name} or num_devices')


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec())


def batch_split(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec('data'))


def replicate(tree, mesh: Mesh):
  """Every array of the tree on every device of the mesh."""
  return jax.device_put(tree, replicated(mesh))


def split_batch(array_BxN, mesh: Mesh):
  """A host array [B, ...] split along B across the mesh's devices."""
  return jax.device_put(array_BxN, batch_split(mesh))
