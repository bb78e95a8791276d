"""Parameter-sharing relaxation (SPEC.md section 2).

The CGRU parameters exist in R sets stacked on a leading axis (step t uses set t mod R).
A pull penalty draws the sets together; its factor follows an optax schedule of the
curriculum level; past the schedule's cap each curriculum advance sets every copy to the
mean; at the maximum length the sets are merged into ONE (leading axis 1).

The functions here work on any tree shaped like the parameters (the parameters themselves,
Adam's moments): a leaf is relaxed when its dict key is one of `model.RELAXED`.
"""

import jax
import jax.numpy as jnp
import optax

from ngpu_jax import model


def _is_relaxed(path) -> bool:
  return bool(path) and getattr(path[-1], 'key', None) in model.RELAXED


def _map_relaxed(fn, tree):
  return jax.tree_util.tree_map_with_path(
      lambda path, x: fn(x) if _is_relaxed(path) else x, tree)


def num_sets(params) -> int:
  return params['gates_bias'].shape[0]


def pull_penalty(params):
  """sum over relaxed variables, sum over sets j of ||V_j - mean_j(V)||^2."""
  total = jnp.zeros((), jnp.float32)
  for name in model.RELAXED:
    v = params[name]
    total += jnp.sum((v - v.mean(axis=0, keepdims=True))**2)
  return total


def pull_schedule(start: float, factor: float, cap: float) -> optax.Schedule:
  """pull(level) = min(start * factor**level, cap), level = curriculum advances so far."""
  return optax.exponential_decay(start, transition_steps=1, decay_rate=factor, end_value=cap)


def average_sets(tree):
  """Every set replaced by the mean of the sets; shapes unchanged."""
  return _map_relaxed(lambda x: jnp.broadcast_to(x.mean(axis=0, keepdims=True), x.shape), tree)


def merge(tree):
  """The sets merged into one: relaxed leaves get leading axis 1 (their mean)."""
  return _map_relaxed(lambda x: x.mean(axis=0, keepdims=True), tree)


def merge_into_first(tree):
  """`merge` without changing shapes: set 0 holds the mean, the other sets zeros.

  A many-seeds program (seeds.py) holds a merged member this way, run with sets_in_use = 1:
  the other sets get zero gradients, and with their Adam moments zeroed here zero updates,
  so set 0 trains exactly as the single merged set of a one-seed run.
  """
  def first(x):
    return jnp.zeros_like(x).at[0].set(x.mean(axis=0))
  return _map_relaxed(first, tree)


def first_set(tree):
  """The relaxed leaves' set 0 alone (leading axis 1): a `merge_into_first` tree as `merge`."""
  return _map_relaxed(lambda x: x[:1], tree)
