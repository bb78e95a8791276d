"""experiments/branch_run.py: a run branched from a kept checkpoint holds exactly that
checkpoint (with a new learning rate or task, or the mean of several checkpoints' parameters,
when asked), resumes from it, carries checkpoints of the optimizer layout from before
apply_if_finite, and refuses bad arguments."""

import os

import chex
import jax
import numpy as np
import pytest

from ngpu_jax import checkpoint, train
from conftest import load_experiment, tiny_config

branch_run = load_experiment('branch_run')


@pytest.fixture
def source(tiny_run):
  return tiny_run


def read(workdir, step):
  config = train.read_config(workdir)
  ckpts = checkpoint.Checkpoints(workdir, read_only=True)
  progress = ckpts.progress(step)
  tx = train.make_optimizer(config)
  state = train.initial_state(config, train.model_config(config), tx,
                              progress['curriculum']['merged'])
  params, opt_state = ckpts.restore(step, state['params'], state['opt_state'])
  ckpts.close()
  return params, opt_state, progress


def test_branch_holds_the_checkpoint_and_resumes(source, tmp_path):
  target = str(tmp_path / 'branch')
  assert branch_run.branch(source, target, step=10, learning_rate=2.5e-4) == 10
  params, opt_state, progress = read(target, 10)
  old_params, old_opt_state, old_progress = read(source, 10)
  chex.assert_trees_all_equal(params, old_params)
  assert progress == old_progress
  assert train.learning_rate(opt_state) == pytest.approx(2.5e-4)
  assert train.learning_rate(old_opt_state) != pytest.approx(2.5e-4)
  # Adam's moments are carried over, not restarted
  chex.assert_trees_all_equal(opt_state.inner_state[0], old_opt_state.inner_state[0])
  train.train_and_evaluate(tiny_config(num_train_steps=30), target, log=lambda s: None)
  assert checkpoint.Checkpoints(target, read_only=True).latest_step() == 30


def test_branch_keeps_the_learning_rate_by_default(source, tmp_path):
  target = str(tmp_path / 'branch')
  assert branch_run.branch(source, target) == 20  # the newest
  assert train.learning_rate(read(target, 20)[1]) == train.learning_rate(read(source, 20)[1])


def test_branch_carries_the_old_optimizer_layout(source, tmp_path):
  old = str(tmp_path / 'old_layout')  # optimizer state as saved before apply_if_finite
  params, opt_state, progress = read(source, 20)
  os.makedirs(old)
  train.save_config(old, train.read_config(source))
  ckpts = checkpoint.Checkpoints(old)
  ckpts.save(20, params, opt_state.inner_state, progress)
  ckpts.wait()
  ckpts.close()
  target = str(tmp_path / 'branch')
  branch_run.branch(old, target)
  new_params, new_opt_state, _ = read(target, 20)
  chex.assert_trees_all_equal(new_params, params)
  chex.assert_trees_all_equal(new_opt_state.inner_state, opt_state.inner_state)
  assert int(new_opt_state.notfinite_count) == 0


def test_branch_to_another_task_in_the_same_symbols(source, tmp_path):
  target = str(tmp_path / 'branch')
  branch_run.branch(source, target, step=20, task='badd_carry')
  assert train.read_config(target).task == 'badd_carry'
  chex.assert_trees_all_equal(read(target, 20)[0], read(source, 20)[0])
  train.train_and_evaluate(tiny_config(task='badd_carry', num_train_steps=30), target,
                           log=lambda s: None)
  assert checkpoint.Checkpoints(target, read_only=True).latest_step() == 30


def test_branch_to_the_mean_of_checkpoints(source, tmp_path):
  target = str(tmp_path / 'branch')
  assert branch_run.branch(source, target, average=[10, 20]) == 20  # the last of them
  params, opt_state, progress = read(target, 20)
  (params10, _, _), (params20, opt_state20, progress20) = read(source, 10), read(source, 20)
  chex.assert_trees_all_close(params, jax.tree.map(lambda a, b: (a + b) / 2, params10, params20),
                              rtol=1e-6)
  chex.assert_trees_all_equal(opt_state, opt_state20)
  assert progress == progress20


@pytest.mark.parametrize('kwargs, message', [
    ({'average': [10, 15]}, 'has no checkpoint 15'),
    ({'average': [10, 10]}, 'lists a step twice'),
    ({'step': 15}, 'has no checkpoint 15'),
    ({'task': 'bmul'}, 'a badd model cannot take bmul examples'),
    ({'task': 'badd4'}, "unknown task 'badd4'"),
    ({'learning_rate': 0.0}, 'learning_rate must be a positive number'),
    ({'learning_rate': float('nan')}, 'learning_rate must be a positive number'),
])
def test_bad_arguments(source, tmp_path, kwargs, message):
  with pytest.raises(ValueError, match=message):
    branch_run.branch(source, str(tmp_path / 'branch'), **kwargs)
  assert not os.path.exists(tmp_path / 'branch' / 'checkpoints')


def test_refuses_a_target_with_checkpoints(source, tmp_path):
  with pytest.raises(ValueError, match='already holds checkpoints'):
    branch_run.branch(source, source)
  with pytest.raises(ValueError, match='no run'):
    branch_run.branch(str(tmp_path), str(tmp_path / 'branch'))
  np.testing.assert_equal(sorted(checkpoint.Checkpoints(source, read_only=True)
                                 .manager.all_steps()), [10, 20])
