"""Shared helpers: tiny configs that compile and run in seconds on a CPU."""

import os

import pytest

os.environ.setdefault('JAX_PLATFORMS', 'cpu')

from ngpu_jax.config import base_config  # noqa: E402


def tiny_config(**overrides):
  c = base_config()
  c.task = 'badd'
  c.num_train_steps = 20
  c.max_train_digits = 3
  c.batch_size = 8
  c.curriculum_every = 10
  c.checkpoint_every = 10
  c.lr_decay_every = 10
  c.eval_digits = (2, 3)
  c.eval_examples = (8, 8)
  c.eval_batch_size = 8
  c.model.nmaps = 8
  c.model.relax_sets = 3
  for key, value in overrides.items():
    target = c
    *path, last = key.split('.')
    for p in path:
      target = target[p]
    target[last] = value
  return c


@pytest.fixture
def tiny():
  return tiny_config
