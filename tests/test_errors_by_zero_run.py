"""experiments/errors_by_zero_run.py: the zero run at a position, the table's counts against
the library's evaluation of the same examples, and its refusals."""

import json
import subprocess
import sys

import numpy as np
import pytest

import ngpu_jax
from conftest import load_experiment
from ngpu_jax import evaluate, tasks

script = load_experiment('errors_by_zero_run')


@pytest.mark.parametrize('digits,i,run', [
    ([1, 0, 0, 0, 1], 2, 3),  # inside a run of three zeros
    ([1, 0, 0, 0, 1], 4, 3),  # right after it
    ([1, 0, 0, 0, 1], 0, 0),  # neither
    ([0, 0, 1], 0, 2),
    ([1, 1, 0], 3, 1),  # past the answer, right after its last digit (a zero)
    ([1, 1], 5, 0),
])
def test_zero_run_at(digits, i, run):
  assert script.zero_run_at(np.array(digits), i) == run


def test_table_counts_by_longest_run():
  task = tasks.get('bmul')
  # answers 2^11 (a run of 11 zeros), 3 (none), 2^5 + 1 (a run of 4)
  targets = tasks.solve(task, tasks.encode_text(task, '100000000000*1').repeat(3, axis=0))
  targets[1] = tasks.solve(task, tasks.encode_text(task, '000000000011*1'))[0]
  targets[2] = tasks.solve(task, tasks.encode_text(task, '000000100001*1'))[0]
  predictions = targets.copy()
  predictions[0, 3] = 2  # a wrong 1 inside the run of 11
  predictions[2, 0] = 1  # a wrong 0 at the lowest bit, not at a zero run
  result = script.table(task, predictions, targets)
  by_runs = {row['runs']: (row['wrong'], row['examples']) for row in result['buckets']}
  assert by_runs['0-4'] == (1, 2) and by_runs['11-12'] == (1, 1)
  assert sum(e for _, e in by_runs.values()) == 3
  assert result['first_error_zero_runs'] == [11, 0]


def test_cli_matches_the_library_evaluation(tiny_run, tmp_path):
  out = tmp_path / 'runs.json'
  result = subprocess.run([sys.executable, 'experiments/errors_by_zero_run.py',
                           f'--model={tiny_run}', '--digits=2,6', '--examples=16,8', '--seed=3',
                           f'--json={out}'], capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-2000:]
  tables = json.loads(out.read_text())['tables']
  predictor = ngpu_jax.load(str(tiny_run))
  expected = evaluate.evaluate_lengths(predictor.params, predictor.model_config,
                                       tasks.get('badd'), [2, 6], [16, 8], 32, 3,
                                       log=lambda s: None)
  for digits, examples in ((2, 16), (6, 8)):
    rows = tables[str(digits)]['buckets']
    assert sum(r['examples'] for r in rows) == examples
    wrong = sum(r['wrong'] for r in rows)
    assert wrong == round(expected[digits]['seq_error'] * examples)
    assert len(tables[str(digits)]['first_error_zero_runs']) == wrong


def test_cli_refuses_mismatched_lengths(tiny_run):
  result = subprocess.run([sys.executable, 'experiments/errors_by_zero_run.py',
                           f'--model={tiny_run}', '--digits=2,6', '--examples=16'],
                          capture_output=True, text=True, timeout=300)
  assert result.returncode != 0 and 'one entry each per test length' in result.stderr
