"""Many seeds in one program (seeds.py): each member trains as its one-seed run."""

import json
import os
import subprocess
import sys

import chex
import numpy as np
import pytest

import ngpu_jax
from ngpu_jax import checkpoint, seeds, train
from conftest import load_experiment, tiny_config

# Member 1 and 3 never pass the curriculum check (bound 0): they stay at 1 digit while
# members 0 and 2 advance every check (bound 1.01), reach the maximum (3 digits) at step 20,
# have their sets averaged on the way (pull cap reached) and are merged. So the members
# train at different widths, merged and unmerged side by side, with two learning rates.
# Buckets of 2 give the members' batches different compiled widths (4, 6 and 7) in most
# steps, so the members are stepped in several groups (seeds._group_step).
GRID = dict(num_seeds=4, num_train_steps=30, curriculum_every=5, checkpoint_every=10,
            bucket_step=2,
            lr_decay_every=10, pull_start=0.01, pull_factor=2.0, pull_cap=0.02,
            **{'grid.curriculum_bound': (1.01, 0.0), 'grid.learning_rate': (0.003,)})


@pytest.fixture(scope='module')
def many_seeds_run(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp('seeds'))
  config = tiny_config(**GRID)
  results = train.train_and_evaluate(config, workdir, log=lambda s: None)
  return config, workdir, results


def test_members_take_seeds_and_grid_combinations():
  members = seeds.member_configs(tiny_config(**GRID))
  assert [m.seed for m in members] == [0, 1, 2, 3]
  assert [m.curriculum_bound for m in members] == [1.01, 0.0, 1.01, 0.0]
  assert all(m.learning_rate == 0.003 and m.num_seeds == 1 for m in members)


@pytest.mark.parametrize('k', [0, 1])
def test_member_trains_as_its_one_seed_run(many_seeds_run, tmp_path, k):
  config, workdir, _ = many_seeds_run
  members = seeds.load_members(workdir)
  single = str(tmp_path / 'single')
  train.train_and_evaluate(seeds.member_configs(config)[k], single, log=lambda s: None)
  expected = ngpu_jax.load(single)
  assert members[k].step == expected.step == 30
  # Float rounding only (reductions over wider buckets in another order): 1e-5 after 30 steps.
  chex.assert_trees_all_close(members[k].params, expected.params, atol=1e-5, rtol=1e-5)


def test_members_padded_to_the_widest_train_as_in_groups(many_seeds_run, tmp_path):
  config, workdir, _ = many_seeds_run
  padded = str(tmp_path / 'padded')
  train.train_and_evaluate(tiny_config(**GRID, seeds_group_by_width=False), padded,
                           log=lambda s: None)
  for a, b in zip(seeds.load_members(padded), seeds.load_members(workdir)):
    # Float rounding only (reductions over wider buckets in another order), as above.
    chex.assert_trees_all_close(a.params, b.params, atol=1e-5, rtol=1e-5)


def test_merged_and_unmerged_members_side_by_side(many_seeds_run):
  _, workdir, _ = many_seeds_run
  members = seeds.load_members(workdir)
  sets = [m.params['gates_bias'].shape[0] for m in members]
  assert sets == [1, 3, 1, 3]


def test_best_member_is_the_runs_model(many_seeds_run):
  config, workdir, results = many_seeds_run
  with open(os.path.join(workdir, 'seeds.json')) as f:
    table = json.load(f)
  ranked = sorted(table['members'], key=lambda m: seeds.rank_key(m['results']))
  assert table['best_seed'] == ranked[0]['seed']
  best = ngpu_jax.load(workdir)
  assert best.config.seed == table['best_seed'] and best.config.num_seeds == 1
  with open(os.path.join(workdir, 'eval.json')) as f:
    assert json.load(f) == json.loads(json.dumps(results))
  x = np.array([[2, 1, 11, 2, 1, 0, 0]])
  assert best.predict(x).shape == (1, 7)


def test_resume_continues_exactly(many_seeds_run, tmp_path):
  config, workdir, _ = many_seeds_run
  resumed = str(tmp_path / 'resumed')
  first = tiny_config(**{**GRID, 'num_train_steps': 13})  # stops inside an interval
  train.train_and_evaluate(first, resumed, log=lambda s: None)
  train.train_and_evaluate(tiny_config(**GRID), resumed, log=lambda s: None)
  for a, b in zip(seeds.load_members(resumed), seeds.load_members(workdir)):
    chex.assert_trees_all_equal(a.params, b.params)


def test_branch_of_a_many_seeds_run_resumes_at_the_new_rate(many_seeds_run, tmp_path):
  """experiments/branch_run.py on a many-seeds run: every member's checkpoint, each member's
  learning rate replaced, Adam's moments kept; the program resumes from it."""
  branch_run = load_experiment('branch_run')
  config, workdir, _ = many_seeds_run
  target = str(tmp_path / 'branch')
  assert branch_run.branch(workdir, target, step=20, learning_rate=2.5e-4) == 20
  members = seeds.member_configs(config)
  template = seeds.initial_state(members, seeds.optimizer(members))

  def read(run):
    ckpts = checkpoint.Checkpoints(run, read_only=True)
    params, opt_state = ckpts.restore(20, template['params'], template['opt_state'])
    progress = ckpts.progress(20)
    ckpts.close()
    return params, opt_state, progress

  params, opt_state, progress = read(target)
  old_params, old_opt_state, old_progress = read(workdir)
  chex.assert_trees_all_equal(params, old_params)
  assert progress == old_progress
  np.testing.assert_allclose(seeds._learning_rates(opt_state), [2.5e-4] * 4, rtol=1e-6)
  assert not np.allclose(seeds._learning_rates(old_opt_state), 2.5e-4)
  chex.assert_trees_all_equal(opt_state.inner_state[0], old_opt_state.inner_state[0])
  with pytest.raises(ValueError, match='needs a one-seed run'):
    branch_run.branch(workdir, str(tmp_path / 'mean'), average=[10, 20])
  train.train_and_evaluate(tiny_config(**GRID), target, log=lambda s: None)
  assert checkpoint.Checkpoints(target, read_only=True).latest_step() == 30


@pytest.mark.parametrize('overrides,message', [
    (dict(num_seeds=3, **{'grid.learning_rate': (0.001, 0.003)}), 'multiple of the grid'),
    (dict(num_seeds=1, **{'grid.learning_rate': (0.001, 0.003)}), 'needs num_seeds > 1'),
    (dict(num_seeds=0), 'num_seeds must be an integer >= 1'),
    (dict(num_seeds=2, **{'grid.learning_rate': (-1.0, 0.1)}), 'seed 0'),
])
def test_bad_seed_configs(tmp_path, overrides, message):
  with pytest.raises(ValueError, match=message):
    train.train_and_evaluate(tiny_config(**overrides), str(tmp_path), log=lambda s: None)


def test_load_before_the_end_says_why(tmp_path):
  config = tiny_config(num_seeds=2)
  train.save_config(str(tmp_path), config)
  with pytest.raises(ValueError, match='has not ended yet'):
    ngpu_jax.load(str(tmp_path))


def run_eval_members_on_its_own_lengths(config, workdir, out, *flags):
  """experiments/eval_members.py on the run's eval lengths, examples and batch, JSON to out."""
  return subprocess.run(
      [sys.executable, 'experiments/eval_members.py', f'--workdir={workdir}',
       '--digits=' + ','.join(map(str, config.eval_digits)),
       f'--examples={config.eval_examples[0]}', f'--batch_size={config.eval_batch_size}',
       f'--json={out}', *flags], capture_output=True, text=True, timeout=300)


def test_eval_members_script_repeats_the_programs_evaluation(many_seeds_run, tmp_path):
  """experiments/eval_members.py on the run's own lengths and examples gives every member's
  rates in seeds.json (same examples: each member's seed as the evaluation seed)."""
  config, workdir, _ = many_seeds_run
  out = tmp_path / 'members.json'
  result = run_eval_members_on_its_own_lengths(config, workdir, out)
  assert result.returncode == 0, result.stderr[-2000:]
  with open(os.path.join(workdir, 'seeds.json')) as f:
    expected = json.load(f)['members']
  members = json.loads(out.read_text())['members']
  assert [m['seed'] for m in members] == [m['seed'] for m in expected] == [0, 1, 2, 3]
  assert all(m['step'] == 30 for m in members)
  assert [m['results'] for m in members] == [m['results'] for m in expected]


def test_eval_members_script_tests_the_chosen_seeds(many_seeds_run, tmp_path):
  """--seeds: only those members, with the rates they have in the whole run's evaluation."""
  config, workdir, _ = many_seeds_run
  out = tmp_path / 'members.json'
  result = run_eval_members_on_its_own_lengths(config, workdir, out, '--seeds=3,1')
  assert result.returncode == 0, result.stderr[-2000:]
  with open(os.path.join(workdir, 'seeds.json')) as f:
    expected = {m['seed']: m['results'] for m in json.load(f)['members']}
  members = json.loads(out.read_text())['members']
  assert [m['seed'] for m in members] == [1, 3]
  assert [m['results'] for m in members] == [expected[1], expected[3]]
  result = subprocess.run(
      [sys.executable, 'experiments/eval_members.py', f'--workdir={workdir}', '--digits=2',
       '--seeds=1,9'], capture_output=True, text=True, timeout=300)
  assert result.returncode != 0 and 'the run has seeds [0, 1, 2, 3]' in result.stderr


def test_load_members_at_a_kept_checkpoint(many_seeds_run, tmp_path):
  """seeds.load_members(workdir, step) and eval_members.py --step: the members of that
  checkpoint, not the newest; a step that is not kept is refused."""
  config, workdir, _ = many_seeds_run
  at_20, newest = seeds.load_members(workdir, 20), seeds.load_members(workdir)
  assert [m.step for m in at_20] == [20] * 4 and [m.step for m in newest] == [30] * 4
  members = seeds.member_configs(config)
  template = seeds.initial_state(members, seeds.optimizer(members))
  ckpts = checkpoint.Checkpoints(workdir, read_only=True)
  params_20 = ckpts.restore(20, template['params'])[0]
  merged_20 = [p['curriculum']['merged'] for p in ckpts.progress(20)['members']]
  ckpts.close()
  for k, member in enumerate(at_20):
    chex.assert_trees_all_equal(member.params,
                                seeds.member_model({'params': params_20}, k, merged_20[k]))
  with pytest.raises(ValueError, match='has no checkpoint 15; it has'):
    seeds.load_members(workdir, 15)
  out = tmp_path / 'members.json'
  result = subprocess.run(
      [sys.executable, 'experiments/eval_members.py', f'--workdir={workdir}', '--digits=2',
       '--examples=8', '--step=20', f'--json={out}'], capture_output=True, text=True,
      timeout=300)
  assert result.returncode == 0, result.stderr[-2000:]
  assert [m['step'] for m in json.loads(out.read_text())['members']] == [20] * 4


def test_eval_members_script_refuses_a_one_seed_run(tiny_run):
  result = subprocess.run(
      [sys.executable, 'experiments/eval_members.py', f'--workdir={tiny_run}', '--digits=2'],
      capture_output=True, text=True, timeout=300)
  assert result.returncode != 0 and 'holds no many-seeds run' in result.stderr


def test_ensemble_of_a_runs_members(many_seeds_run):
  """experiments/eval_ensemble.py: WORKDIR@members is every member of the run, each the
  member eval_members loads (mixed merged and unmerged ones)."""
  _, workdir, _ = many_seeds_run
  eval_ensemble = load_experiment('eval_ensemble')
  names, members = eval_ensemble.load_members([f'{workdir}@members'])
  assert names == [f'{workdir}@seed{k}' for k in range(4)]
  for mine, theirs in zip(members, seeds.load_members(workdir)):
    chex.assert_trees_all_equal(mine.params, theirs.params)
  rows = eval_ensemble.evaluate_ensemble(names, members, [2], [8], 5, 8, log=lambda s: None)
  assert [r['member'] for r in rows] == names + ['ensemble']
  # A member's name is a spec that loads it alone.
  names, members = eval_ensemble.load_members([f'{workdir}@seed3', f'{workdir}@seed1'])
  assert [m.config.seed for m in members] == [3, 1]
  with pytest.raises(ValueError, match=r'the run has seeds \[0, 1, 2, 3\]'):
    eval_ensemble.load_members([f'{workdir}@seed9', f'{workdir}@seed1'])
