"""Every config in experiments/configs/ loads, passes the run's checks and opens with the
command that runs it."""

import glob
import importlib.util
import os

import pytest

from ngpu_jax import seeds, train

CONFIGS = sorted(glob.glob(os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'experiments', 'configs', '*.py')))


def _load(path):
  spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_there_are_configs():
  assert len(CONFIGS) >= 12


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_is_valid_and_documented(path):
  module = _load(path)
  config = module.get_config()
  if config.num_seeds > 1:
    seeds.check_config(config)
  else:
    train.check_config(config)
  assert 'python -m ngpu_jax.main --config=experiments/configs/' in module.__doc__
  assert 'Measured' in module.__doc__
