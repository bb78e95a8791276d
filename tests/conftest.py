"""Shared helpers: tiny configs that compile and run in seconds on a CPU."""

import atexit
import importlib.util
import os
import shutil
import sys
import tempfile

import pytest

os.environ.setdefault('JAX_PLATFORMS', 'cpu')
# Many tests compile the same programs, in this process and in the training runs they start as
# subprocesses: one XLA compilation cache for the whole session, fresh each time, saves those
# repeats (test_kill_resume: 268 s -> 174 s on a shared 2-core CPU). Subprocesses and
# pytest-xdist workers inherit the variable, so they share it. Set before jax is imported, since
# jax reads it then.
if 'JAX_COMPILATION_CACHE_DIR' not in os.environ:
  os.environ['JAX_COMPILATION_CACHE_DIR'] = tempfile.mkdtemp(prefix='ngpu_jax_test_xla_cache_')
  atexit.register(shutil.rmtree, os.environ['JAX_COMPILATION_CACHE_DIR'], ignore_errors=True)

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


CONFIGS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           'experiments', 'configs')


def load_config_module(path):
  """An experiments/configs file as a module (its docstring and get_config)."""
  spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def load_experiment(name):
  """experiments/NAME.py as a module, loaded once per process: its absl flags can be defined
  only once."""
  if name not in sys.modules:
    sys.modules[name] = load_config_module(
        os.path.join(os.path.dirname(CONFIGS_DIR), f'{name}.py'))
  return sys.modules[name]


@pytest.fixture
def tiny():
  return tiny_config


@pytest.fixture(scope='session')
def tiny_run(tmp_path_factory):
  """The workdir of one tiny run (20 steps, checkpoints 10 and 20 kept), trained once and
  shared by every test module that only reads a trained model: treat it as read-only."""
  from ngpu_jax import train
  workdir = tmp_path_factory.mktemp('tiny_run')
  train.train_and_evaluate(tiny_config(keep_checkpoint_every=10), str(workdir),
                           log=lambda s: None)
  return str(workdir)
