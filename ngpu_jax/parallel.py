"""Data parallelism: one code path for 1..N devices (DESIGN.md).

A 1-D mesh named 'data' over the devices; parameters and optimizer state are replicated and
the global batch is split along its first axis. The train step is jitted with these
shardings and XLA partitions it; its loss is a mean over the global batch, so the gradients
are averaged across devices by the partitioner's all-reduce. With one device this is plain
single-device jit. (`jax.pmap`, which the design card names, is now a layer over jit and
shard_map, and its docs point new code to jit with shardings.)

Several hosts: after `initialize_distributed`, `jax.devices()` lists every process's devices
and the mesh spans them all. Every process draws the same global batch (sampling is a cheap,
deterministic function of (seed, step)) and hands its own devices their slices, so a run on
P processes computes what a run on one process with the same number of devices computes.
Process 0 writes logs, metrics and results; checkpoints are written by all, as orbax needs.
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


def batch_split(mesh: Mesh, axis: int = 0) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec(*[None] * axis, 'data'))


def initialize_distributed(coordinator_address=None, num_processes=None, process_id=None):
  """Joins this process to a multi-process run (before any other JAX call). Without a
  coordinator address JAX detects the cluster itself (Cloud TPU pods, SLURM, ...). On CPU
  the collectives go through gloo."""
  jax.config.update('jax_cpu_collectives_implementation', 'gloo')
  jax.distributed.initialize(coordinator_address=coordinator_address,
                             num_processes=num_processes, process_id=process_id)


def is_primary() -> bool:
  return jax.process_index() == 0


def replicate(tree, mesh: Mesh):
  """Every array of the tree on every device of the mesh (each process gives its copy)."""
  sharding = replicated(mesh)
  return jax.tree.map(
      lambda x: jax.make_array_from_callback(np.shape(x), sharding,
                                             lambda index, x=np.asarray(x): x[index]), tree)


def split_batch(array_BxN, mesh: Mesh, axis: int = 0):
  """A host array [B, ...], the same in every process, split along B across the mesh
  (B is axis `axis`: 1 for the [seeds, B, ...] batches of a many-seeds program)."""
  array_BxN = np.asarray(array_BxN)
  return jax.make_array_from_callback(array_BxN.shape, batch_split(mesh, axis),
                                      lambda index: array_BxN[index])


def local_copy(tree):
  """A replicated tree as single-device arrays on this process's first device."""
  return jax.tree.map(lambda x: x.addressable_data(0), tree)
