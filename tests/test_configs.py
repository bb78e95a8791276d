"""Every config in experiments/configs/ loads, passes the run's checks and opens with the
command that runs it."""

import glob
import os

import pytest

from ngpu_jax import seeds, train
from conftest import CONFIGS_DIR, load_config_module

CONFIGS = sorted(glob.glob(os.path.join(CONFIGS_DIR, '*.py')))


def test_there_are_configs():
  assert len(CONFIGS) >= 12


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_is_valid_and_documented(path):
  module = load_config_module(path)
  config = module.get_config()
  if config.num_seeds > 1:
    seeds.check_config(config)
  else:
    train.check_config(config)
  assert 'python -m ngpu_jax.main --config=experiments/configs/' in module.__doc__
  assert 'Measured' in module.__doc__
