import types

import jax
import numpy as np

from ngpu_jax import evaluate, model, tasks


def test_strict_and_lenient_counts():
  targets = np.array([[2, 1, 0, 0], [2, 2, 0, 0], [1, 0, 0, 0]])
  predictions = np.array([[2, 1, 0, 0],   # right
                          [2, 2, 0, 3],   # garbage after the answer: strict error only
                          [2, 0, 0, 0]])  # wrong digit: both
  counts = evaluate.error_counts(predictions, targets, np.array([4, 4, 4]))
  assert counts == {'seq_errors': 2, 'seq_errors_lenient': 1, 'symbol_errors': 1,
                    'symbols': 5, 'examples': 3}
  rates = evaluate.rates(counts)
  assert rates['seq_error'] == 2 / 3 and rates['seq_error_lenient'] == 1 / 3
  assert rates['symbol_error'] == 1 / 5
  # Positions past an example's length are not counted.
  counts = evaluate.error_counts(predictions, targets, np.array([4, 3, 4]))
  assert counts['seq_errors'] == 1


def test_predict_in_chunks_equals_one_batch():
  cfg = model.ModelConfig(nmaps=8, relax_sets=2)
  params = model.init_params(jax.random.key(0), cfg)
  x, _ = tasks.sample(tasks.get('badd'), 3, 10, np.random.default_rng(0))
  np.testing.assert_array_equal(evaluate.predict(params, x, cfg, 4),
                                evaluate.predict(params, x, cfg, 10))


def test_evaluate_lengths_and_table(tmp_path):
  cfg = model.ModelConfig(nmaps=8, relax_sets=2)
  params = model.init_params(jax.random.key(0), cfg)
  task = tasks.get('badd')
  results = evaluate.evaluate_lengths(params, cfg, task, (2, 5), (6, 3), 4, 0, log=lambda s: None)
  assert set(results) == {2, 5}
  assert set(results[2]) == {'seq_error', 'seq_error_lenient', 'symbol_error', 'examples'}
  assert results[5]['examples'] == 3
  table = evaluate.format_table(task, results)
  assert 'seq_error' in table and '11' in table  # n = 11 at 5 digits
  path = evaluate.write_json(str(tmp_path), results)
  import json
  assert json.load(open(path))['2']['examples'] == 6


def test_long_predictions_report_progress(monkeypatch):
  clock = iter(range(0, 10_000, 40))  # each of evaluate's clock readings is 40 s later
  monkeypatch.setattr(evaluate, 'time', types.SimpleNamespace(time=lambda: next(clock)))
  cfg = model.ModelConfig(nmaps=8, relax_sets=2)
  params = model.init_params(jax.random.key(0), cfg)
  x, _ = tasks.sample(tasks.get('badd'), 3, 12, np.random.default_rng(0))
  lines = []
  evaluate.predict(params, x, cfg, 4, log=lines.append)
  assert lines == ['  width 7: 4 of 12 examples done, about 160 s left',
                   '  width 7: 8 of 12 examples done, about 60 s left']
