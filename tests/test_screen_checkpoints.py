"""experiments/screen_checkpoints.py: many kept checkpoints evaluated in one process give the
same error rates as the library's evaluation of each, stop at the first length with an
error, and refuse bad arguments."""

import json
import re
import subprocess
import sys

import pytest

import ngpu_jax
from ngpu_jax import evaluate, tasks


@pytest.fixture
def trained(tiny_run):
  return tiny_run


def screen(*args):
  return subprocess.run([sys.executable, 'experiments/screen_checkpoints.py', *args],
                        capture_output=True, text=True, timeout=300)


def test_rows_match_the_library_evaluation(trained, tmp_path):
  out = tmp_path / 'screen.json'
  result = screen(f'--model={trained}', '--digits=2,30', '--examples=8,4', '--seed=7',
                  '--precisions=highest,bfloat16', '--batch_size=8', f'--json={out}')
  assert result.returncode == 0, result.stderr[-2000:]
  rows = json.loads(out.read_text())['rows']
  assert sorted({r['step'] for r in rows}) == [10, 20]  # every kept checkpoint
  for step in (10, 20):
    predictor = ngpu_jax.load(str(trained), step)
    expected = evaluate.evaluate_lengths(predictor.params, predictor.model_config,
                                         tasks.get('badd'), [2, 30], [8, 4], 8, 7,
                                         log=lambda s: None)
    for precision in ('highest', 'bfloat16'):
      mine = [r for r in rows if r['step'] == step and r['precision'] == precision]
      # lengths in order, stopping after the first with an error
      assert [r['digits'] for r in mine] == ([2, 30] if mine[0]['seq_error'] == 0 else [2])
      for r in mine:
        if precision == 'highest':  # the CPU computes fp32 whatever is asked; compare fp32
          for key in ('seq_error', 'seq_error_lenient', 'symbol_error'):
            assert r[key] == expected[r['digits']][key]
        else:
          assert 0 <= r['differs_from_first'] <= r['examples']


def test_another_task_with_the_same_symbols(trained, tmp_path):
  """--task=badd_carry tests the badd model on carry-heavy sums: the library's evaluation of
  that task's examples."""
  out = tmp_path / 'screen.json'
  result = screen(f'--model={trained}', '--steps=20', '--digits=30,5', '--examples=8,16',
                  '--seed=3', '--task=badd_carry', '--keep_going', f'--json={out}')
  assert result.returncode == 0, result.stderr[-2000:]
  report = json.loads(out.read_text())
  assert report['task'] == 'badd_carry'
  predictor = ngpu_jax.load(str(trained), 20)
  expected = evaluate.evaluate_lengths(predictor.params, predictor.model_config,
                                       tasks.get('badd_carry'), [30, 5], [8, 16], 32, 3,
                                       log=lambda s: None)
  assert expected[30]['seq_error'] > 0  # the tiny model fails at 30 digits: --keep_going on
  assert [r['digits'] for r in report['rows']] == [30, 5]
  for row in report['rows']:
    assert {k: row[k] for k in expected[row['digits']]} == expected[row['digits']]


def test_one_length_with_two_counts(trained, tmp_path):
  """--digits=5,5 --examples=8,16: each row is the library's evaluation with its own count
  (the examples of --mode=eval with that count; a crash before the fix)."""
  out = tmp_path / 'screen.json'
  result = screen(f'--model={trained}', '--steps=20', '--digits=5,5', '--examples=8,16',
                  '--seed=3', '--keep_going', '--precisions=highest,bfloat16', f'--json={out}')
  assert result.returncode == 0, result.stderr[-2000:]
  rows = json.loads(out.read_text())['rows']
  assert [(r['digits'], r['examples']) for r in rows] == [(5, 8), (5, 16)] * 2
  predictor = ngpu_jax.load(str(trained), 20)
  for row in rows[:2]:
    expected = evaluate.evaluate_lengths(predictor.params, predictor.model_config,
                                         tasks.get('badd'), [5], [row['examples']], 32, 3,
                                         log=lambda s: None)[5]
    assert {k: row[k] for k in expected} == expected
  assert all(0 <= r['differs_from_first'] <= r['examples'] for r in rows[2:])


def test_extra_steps(trained, tmp_path):
  """--extra_steps=K: the library's evaluation of the model loaded with extra_steps=K."""
  out = tmp_path / 'screen.json'
  result = screen(f'--model={trained}', '--steps=20', '--digits=5', '--examples=16', '--seed=3',
                  '--extra_steps=2', f'--json={out}')
  assert result.returncode == 0, result.stderr[-2000:]
  assert 'step 20 highest +2 steps @5 (16 ex.)' in result.stdout
  [row] = json.loads(out.read_text())['rows']
  predictor = ngpu_jax.load(str(trained), 20, extra_steps=2)
  expected = evaluate.evaluate_lengths(predictor.params, predictor.model_config,
                                       tasks.get('badd'), [5], [16], 32, 3, log=lambda s: None)
  assert row['extra_steps'] == 2
  assert {k: row[k] for k in expected[5]} == expected[5]
  bad = screen(f'--model={trained}', '--digits=5', '--examples=16', '--extra_steps=-1')
  assert bad.returncode != 0 and 'extra_steps' in bad.stderr


def test_a_shipped_model(tmp_path):
  out = tmp_path / 'screen.json'
  result = screen('--model=pretrained/copy', '--digits=7', '--examples=8', f'--json={out}')
  assert result.returncode == 0, result.stderr[-2000:]
  row, = json.loads(out.read_text())['rows']
  assert row['step'] == ngpu_jax.load('pretrained/copy').step and row['examples'] == 8
  result = screen('--model=pretrained/copy', '--steps=5', '--digits=7', '--examples=8')
  assert result.returncode != 0 and 'a shipped model (no steps)' in result.stderr


@pytest.mark.parametrize('args, message', [
    (['--task=bmul'], 'a badd model cannot take bmul examples'),
    (['--task=badd4'], "unknown task 'badd4'"),
    (['--steps=15'], 'not kept checkpoints'),
    (['--steps=100:200'], 'no kept checkpoint in 100:200'),
    (['--examples=8'], 'one --examples count per --digits'),
    (['--precisions=fp8'], 'unknown precisions'),
    (['--digits=10000000', '--examples=1'], r'evaluating 10000000 digits .* needs about'),
])
def test_bad_arguments(trained, args, message):
  base = {'--digits': '2,3', '--examples': '8,8'}
  for arg in args:
    base[arg.split('=')[0]] = arg.split('=', 1)[1]
  result = screen(f'--model={trained}', *(f'{k}={v}' for k, v in base.items()))
  assert result.returncode != 0
  assert re.search(message, result.stderr)
