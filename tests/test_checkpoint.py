import gc
import os
import shutil

import chex
import jax
import jax.numpy as jnp
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
  template = jax.tree.map(jnp.zeros_like, state)
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


def test_keep_period_keeps_multiples_for_good(tmp_path):
  state = _state()
  ckpts = checkpoint.Checkpoints(str(tmp_path), max_to_keep=2, keep_period=2)
  for step in (1, 2, 3, 4, 5, 6, 7):
    ckpts.save(step, state['params'], state['opt_state'], {'step': step})
  ckpts.wait()
  assert sorted(os.listdir(tmp_path / 'checkpoints'), key=int) == ['2', '4', '6', '7']
  ckpts.close()


def test_no_checkpoint(tmp_path):
  ckpts = checkpoint.Checkpoints(str(tmp_path))
  assert ckpts.latest_step() is None
  ckpts.close()


def _two_checkpoints(path):
  """Checkpoints 1 and 2 of different states; returns (state1, state2)."""
  state1 = _state()
  state2 = jax.tree.map(lambda x: x + 1 if jnp.issubdtype(x.dtype, jnp.floating) else x, state1)
  ckpts = checkpoint.Checkpoints(str(path))
  for step, state in ((1, state1), (2, state2)):
    ckpts.save(step, state['params'], state['opt_state'],
               {'step': step, 'curriculum': {'merged': False}})
  ckpts.wait()
  ckpts.close()
  return state1, state2


def _templates(progress):
  state = _state(progress['curriculum']['merged'])
  return state['params'], state['opt_state']


def _damage(step_dir, how):
  data = max((p for p in (step_dir / 'params').rglob('*') if p.is_file()),
             key=lambda p: p.stat().st_size)  # the parameters' array data
  if how == 'overwrite bytes':
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2:len(raw) // 2 + 64] = bytes(range(64))
    data.write_bytes(bytes(raw))
  elif how == 'delete a file':
    data.unlink()
  elif how == 'truncate progress':
    (step_dir / 'progress' / 'metadata').write_text('{"step": ')


# With a damaged file, orbax reads the arrays in concurrent coroutines; the first failure
# aborts the restore (which the test checks) and the other coroutines are left unfinished.
# Collected later (in another test, or never), they printed an unraisable exception
# ("Event loop is closed", "Encountered error while reading array index"); the test
# collects them itself, where this mark applies.
@pytest.mark.filterwarnings('ignore::pytest.PytestUnraisableExceptionWarning')
@pytest.mark.parametrize('how', ['overwrite bytes', 'delete a file', 'truncate progress'])
def test_damaged_latest_checkpoint_falls_back_to_previous(tmp_path, how):
  state1, _ = _two_checkpoints(tmp_path)
  _damage(tmp_path / 'checkpoints' / '2', how)
  ckpts = checkpoint.Checkpoints(str(tmp_path))
  logged = []
  step, progress, params, opt_state = ckpts.restore_newest_good(_templates, log=logged.append)
  gc.collect()
  assert step == 1 and progress['step'] == 1
  chex.assert_trees_all_equal(params, state1['params'])
  chex.assert_trees_all_equal(opt_state, state1['opt_state'])
  assert any('checkpoint 2' in line and 'WARNING' in line for line in logged), logged
  # The damaged one is kept aside, and step 2 can be saved again.
  assert os.listdir(tmp_path / 'damaged_checkpoints') == ['2']
  ckpts.save(2, params, opt_state, progress)
  ckpts.wait()
  assert ckpts.latest_step() == 2
  ckpts.close()


def test_no_readable_checkpoint_changes_nothing(tmp_path):
  _two_checkpoints(tmp_path)
  for step in ('1', '2'):
    _damage(tmp_path / 'checkpoints' / step, 'truncate progress')
  before = sorted(str(p) for p in tmp_path.rglob('*'))
  ckpts = checkpoint.Checkpoints(str(tmp_path))
  with pytest.raises(ValueError, match='no readable checkpoint'):
    ckpts.restore_newest_good(_templates, log=lambda s: None)
  ckpts.close()
  assert sorted(str(p) for p in tmp_path.rglob('*')) == before


def test_half_written_checkpoint_is_not_listed(tmp_path):
  """orbax writes into STEP.orbax-checkpoint-tmp-* and renames when complete."""
  _two_checkpoints(tmp_path)
  partial = tmp_path / 'checkpoints' / '3.orbax-checkpoint-tmp-1764000000000000'
  shutil.copytree(tmp_path / 'checkpoints' / '2' / 'params', partial / 'params')
  ckpts = checkpoint.Checkpoints(str(tmp_path))
  assert ckpts.latest_step() == 2
  step, *_ = ckpts.restore_newest_good(_templates, log=lambda s: None)
  assert step == 2
  ckpts.close()
