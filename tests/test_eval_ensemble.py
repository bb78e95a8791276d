"""experiments/eval_ensemble.py: each member's rows equal the library's evaluation of it, the
ensemble answers with the symbol of highest mean probability, and bad members are refused."""

import json
import subprocess
import sys

import jax
import numpy as np
import pytest

import ngpu_jax
from ngpu_jax import evaluate, model, tasks
from conftest import load_experiment

eval_ensemble = load_experiment('eval_ensemble')


def test_predict_probabilities_agree_with_predict(tiny_run):
  predictor = ngpu_jax.load(tiny_run, 20)
  inputs, _ = evaluate.sample_eval(tasks.get('badd'), 5, 11, seed=2)
  probabilities = evaluate.predict_probabilities(predictor.params, inputs,
                                                 predictor.model_config, 4)
  assert probabilities.shape == inputs.shape + (predictor.model_config.vocab_size,)
  np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
  predictions = evaluate.predict(predictor.params, inputs, predictor.model_config, 4)
  np.testing.assert_array_equal(probabilities.argmax(-1), predictions)


def test_members_and_ensemble(tiny_run):
  specs = [f'{tiny_run}@10', f'{tiny_run}@20', tiny_run]  # the last: the newest, step 20
  names, members = eval_ensemble.load_members(specs)
  assert names == specs and [m.step for m in members] == [10, 20, 20]
  digits, examples, seed = [2, 6], [8, 5], 7
  rows = eval_ensemble.evaluate_ensemble(specs, members, digits, examples, seed, 4,
                                         log=lambda s: None)
  assert [(r['member'], r['digits']) for r in rows] == [
      (s, d) for d in digits for s in specs + ['ensemble']]
  task = tasks.get('badd')
  for d, e in zip(digits, examples):
    for spec, member in zip(specs, members):
      row, = [r for r in rows if r['member'] == spec and r['digits'] == d]
      expected = evaluate.evaluate_lengths(member.params, member.model_config, task, [d], [e],
                                           4, seed, log=lambda s: None)[d]
      assert {k: row[k] for k in expected} == expected
    # The ensemble by hand: softmax of each member's logits, averaged, argmax.
    inputs, targets = evaluate.sample_eval(task, d, e, seed)
    lengths = np.full((e,), inputs.shape[1])
    mean = np.mean([jax.nn.softmax(model.predict_logits(m.params, inputs, lengths,
                                                        m.model_config)) for m in members], 0)
    expected = evaluate.rates(evaluate.error_counts(mean.argmax(-1), targets, lengths))
    row, = [r for r in rows if r['member'] == 'ensemble' and r['digits'] == d]
    assert {k: row[k] for k in expected} == expected


def test_subsets(tiny_run):
  """Subsets of 1 are the members, the one subset of all is the whole ensemble."""
  specs = [f'{tiny_run}@10', f'{tiny_run}@20', f'{tiny_run}@10']
  names, members = eval_ensemble.load_members(specs)
  for k in (1, 2, 3):
    rows = eval_ensemble.evaluate_ensemble(names, members, [5], [16], 2, 8, subsets=k,
                                           log=lambda s: None)
    subsets = rows[-1]
    assert subsets['member'] == f'subsets of {k}'
    assert subsets['subsets'] == {1: 3, 2: 3, 3: 1}[k] == len(subsets['seq_errors'])
    assert subsets['exact_subsets'] == subsets['seq_errors'].count(0.0)
    if k == 1:
      assert subsets['seq_errors'] == [r['seq_error'] for r in rows[:3]]
    if k == 3:
      assert subsets['seq_errors'] == [rows[3]['seq_error']]
  with pytest.raises(ValueError, match='subsets must be between 0 and the 3 members'):
    eval_ensemble.evaluate_ensemble(names, members, [5], [16], 2, 8, subsets=4)


def test_an_ensemble_of_one_model_twice_is_that_model(tiny_run):
  specs = [f'{tiny_run}@10'] * 2
  rows = eval_ensemble.evaluate_ensemble(*eval_ensemble.load_members(specs), [4], [16], 3, 8,
                                         log=lambda s: None)
  assert rows[0]['seq_error'] > 0  # the tiny model errs at 4 digits, so the check has teeth
  for key in ('seq_error', 'seq_error_lenient', 'symbol_error'):
    assert rows[2][key] == rows[0][key]


def test_wrong_examples_are_the_strict_errors(tiny_run):
  """Each row names its wrong examples: as many as its strict errors, and for an ensemble of
  one model twice, the model's own."""
  specs = [f'{tiny_run}@10'] * 2
  rows = eval_ensemble.evaluate_ensemble(*eval_ensemble.load_members(specs), [4], [16], 3, 8,
                                         log=lambda s: None)
  member = ngpu_jax.load(tiny_run, 10)
  inputs, targets = evaluate.sample_eval(tasks.get('badd'), 4, 16, 3)
  wrong = np.flatnonzero((member.predict(inputs, 8) != targets).any(axis=1)).tolist()
  assert wrong  # the tiny model errs at 4 digits
  for row in rows:
    assert row['wrong_examples'] == wrong
    assert len(row['wrong_examples']) == round(row['seq_error'] * row['examples'])


def test_extra_steps(tiny_run):
  """--extra_steps runs every member that many steps longer, as ngpu_jax.load does."""
  specs = [f'{tiny_run}@10', f'{tiny_run}@20']
  names, members = eval_ensemble.load_members(specs, extra_steps=2)
  assert [m.model_config.extra_steps for m in members] == [2, 2]
  rows = eval_ensemble.evaluate_ensemble(names, members, [4], [16], 3, 8, log=lambda s: None)
  for spec, step, row in zip(specs, (10, 20), rows):
    longer = ngpu_jax.load(tiny_run, step, extra_steps=2)
    expected = evaluate.evaluate_lengths(longer.params, longer.model_config, tasks.get('badd'),
                                         [4], [16], 8, 3, log=lambda s: None)[4]
    assert row['member'] == spec and {k: row[k] for k in expected} == expected
  plain = eval_ensemble.load_members(specs)[1]
  assert [m.model_config.extra_steps for m in plain] == [0, 0]


def test_command_line(tiny_run, tmp_path):
  out = tmp_path / 'ensemble.json'
  result = subprocess.run(
      [sys.executable, 'experiments/eval_ensemble.py', f'--members={tiny_run}@10,{tiny_run}',
       '--digits=3', '--examples=8', '--batch_size=8', f'--json={out}', '--extra_steps=1'],
      capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-2000:]
  assert 'ensemble of 2 @3 (8 ex.)' in result.stdout
  report = json.loads(out.read_text())
  assert [r['member'] for r in report['rows']] == [f'{tiny_run}@10', tiny_run, 'ensemble']
  assert all(isinstance(r['wrong_examples'], list) for r in report['rows'])


@pytest.mark.parametrize('specs, message', [
    (['RUN@10'], 'at least two members'),
    (['RUN@10', 'RUN@15'], 'has no checkpoint 15'),
    (['RUN@10', 'RUN@x'], "a step number, 'members' or 'seedS'"),
    (['RUN@members'], 'holds no many-seeds run'),
    (['RUN', 'pretrained/copy'], 'cannot take copy examples'),
    (['RUN', 'no/such/dir'], 'holds no trained model'),
])
def test_bad_members(tiny_run, specs, message):
  with pytest.raises(ValueError, match=message):
    eval_ensemble.load_members([s.replace('RUN', tiny_run) for s in specs])
