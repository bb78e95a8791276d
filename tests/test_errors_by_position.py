"""experiments/errors_by_position.py: the fractions per position, their printed row, the
sequence errors against the library's evaluation of the same examples, and its refusals."""

import json
import subprocess
import sys

import numpy as np
import pytest

import ngpu_jax
from conftest import load_experiment
from ngpu_jax import evaluate, tasks

script = load_experiment('errors_by_position')


def test_wrong_by_position():
  targets = np.array([[2, 1, 0, 0], [1, 1, 2, 0], [2, 2, 0, 0], [1, 2, 1, 0]])
  predictions = targets.copy()
  predictions[0, 0] = 1  # position 0 wrong in one example of 4
  predictions[1, 3] = 2  # garbage in the padding counts (strict metric)
  predictions[2, 0] = 1  # position 0 wrong in a second example
  np.testing.assert_array_equal(script.wrong_by_position(predictions, targets),
                                [0.5, 0.0, 0.0, 0.25])


@pytest.mark.parametrize('fractions,text', [
    ([0.0, 0.05, 0.1, 0.49, 0.99, 1.0], '.01499'),
    ([0.0, 0.0], '..'),
])
def test_row_text(fractions, text):
  assert script.row_text(fractions) == text


def test_cli_matches_the_library_evaluation(tiny_run, tmp_path):
  out = tmp_path / 'positions.json'
  result = subprocess.run([sys.executable, 'experiments/errors_by_position.py',
                           f'--model={tiny_run}', '--digits=2,6', '--examples=16,8', '--seed=3',
                           f'--json={out}'], capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-2000:]
  lengths = json.loads(out.read_text())['lengths']
  predictor = ngpu_jax.load(str(tiny_run))
  expected = evaluate.evaluate_lengths(predictor.params, predictor.model_config,
                                       tasks.get('badd'), [2, 6], [16, 8], 32, 3,
                                       log=lambda s: None)
  for digits in (2, 6):
    row = lengths[str(digits)]
    assert row['seq_error'] == pytest.approx(expected[digits]['seq_error'])
    assert len(row['wrong_by_position']) == tasks.get('badd').length(digits)
    # No position can be wrong in more examples than are wrong at all.
    assert max(row['wrong_by_position']) <= row['seq_error'] + 1e-9
    assert f'{digits} digits' in result.stdout


def test_cli_refuses_mismatched_lengths(tiny_run):
  result = subprocess.run([sys.executable, 'experiments/errors_by_position.py',
                           f'--model={tiny_run}', '--digits=2,6', '--examples=16'],
                          capture_output=True, text=True, timeout=300)
  assert result.returncode != 0 and 'one entry each per test length' in result.stderr
