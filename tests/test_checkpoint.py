import os

import chex
import jax
import pytest

from ngpu_jax import checkpoint, relaxation, train
from conftest import tiny_config


def _state(merged=False):
  config = tiny_config()
  cfg, tx = train.model_config(config), train.make_optimizer(config)
  return train.initial_state(config, cfg, tx, merged=merged)


@pytest.mark.parametrize('merged', [False, True])
def test_round_trip(tmp_path, merged):
  state = _state(merged)
  ckpts = checkpoint.Checkpoints(str(tmp_path))
  progress = {'step': 7, 'curriculum': {'cur': 3, 'advances': 2, 'merged': merged}}
  ckpts.save(7, state['params'], state['opt_state'], progress)
  ckpts.wait()
  assert ckpts.latest_step() == 7 and ckpts.progress() == progress
  template = jax.tree.map(lambda x: x * 0, state)
  params, opt_state = ckpts.restore(7, template['params'], template['opt_state'])
  chex.assert_trees_all_equal(params, state['params'])
  chex.assert_trees_all_equal(opt_state, state['opt_state'])
  assert relaxation.num_sets(params) == (1 if merged else 3)
  ckpts.close()


def test_params_only_and_keeps_newest(tmp_path):
  state = _state()
  ckpts = checkpoint.Checkpoints(str(tmp_path), max_to_keep=2)
  for step in (1, 2, 3):
    ckpts.save(step, state['params'], state['opt_state'], {'step': step})
  ckpts.wait()
  assert sorted(os.listdir(tmp_path / 'checkpoints')) == ['2', '3']
  shapes = jax.eval_shape(lambda: state['params'])
  params, opt_state = ckpts.restore(3, shapes)
  assert opt_state is None
  chex.assert_trees_all_equal(params, state['params'])
  ckpts.close()


def test_no_checkpoint(tmp_path):
  ckpts = checkpoint.Checkpoints(str(tmp_path))
  assert ckpts.latest_step() is None
  ckpts.close()
