"""Error rates by length (SPEC.md section 5).

strict sequence error  : fraction of examples with any wrong symbol at any position of their
                         width, padding included (the headline metric);
lenient sequence error : the original code's: only positions whose target is not padding;
symbol error           : wrong symbols over target symbols (positions whose target is not
                         padding).

Long lengths run in chunks of `batch_size` examples; a forward pass keeps only the current
state, so memory does not grow with the number of steps.
"""

import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from ngpu_jax import model, tasks

EVAL_STREAM = 1  # seeds eval data apart from training data: default_rng([seed, EVAL_STREAM, d])
HARD_STREAM = 3  # hard-input examples: default_rng([seed, HARD_STREAM, family index, d])


def error_counts(predictions_BxN, targets_BxN, lengths_B) -> dict:
  """Counts (numpy) of strict and lenient sequence errors and symbol errors."""
  predictions_BxN, targets_BxN = np.asarray(predictions_BxN), np.asarray(targets_BxN)
  n = targets_BxN.shape[1]
  inside = np.arange(n)[None, :] < np.asarray(lengths_B)[:, None]
  wrong = (predictions_BxN != targets_BxN) & inside
  answer = (targets_BxN != tasks.PAD) & inside
  return {
      'seq_errors': int(wrong.any(axis=1).sum()),
      'seq_errors_lenient': int((wrong & answer).any(axis=1).sum()),
      'symbol_errors': int((wrong & answer).sum()),
      'symbols': int(answer.sum()),
      'examples': int(predictions_BxN.shape[0]),
  }


def rates(counts: dict) -> dict:
  examples = max(counts['examples'], 1)
  return {
      'seq_error': counts['seq_errors'] / examples,
      'seq_error_lenient': counts['seq_errors_lenient'] / examples,
      'symbol_error': counts['symbol_errors'] / max(counts['symbols'], 1),
      'examples': counts['examples'],
  }


def _over_chunks(compute, inputs_BxN, batch_size: int, log) -> np.ndarray:
  """compute(chunk [b, N], lengths [b]) -> [b, N, ...] for every `batch_size` rows of the
  inputs, each row at the full width N; the results stacked on the host.

  The last chunk is padded with copies of its first row so every chunk has one shape
  (one compilation per width). With `log`, long runs report progress every 30 s or so.
  """
  inputs_BxN = np.asarray(inputs_BxN, np.int32)
  b, n = inputs_BxN.shape
  out = None
  start_time = last_report = time.time()
  for start in range(0, b, batch_size):
    now = time.time()
    if log and start and now - last_report > 30:
      left = (now - start_time) / start * (b - start)
      log(f'  width {n}: {start} of {b} examples done, about {left:.0f} s left')
      last_report = now
    chunk = inputs_BxN[start:start + batch_size]
    rows = chunk.shape[0]
    if rows < batch_size and b > batch_size:
      chunk = np.concatenate([chunk, np.repeat(chunk[:1], batch_size - rows, axis=0)])
    lengths = jnp.full((chunk.shape[0],), n, jnp.int32)
    result = np.asarray(compute(jnp.asarray(chunk), lengths))[:rows]
    if out is None:
      out = np.zeros((b,) + result.shape[1:], result.dtype)
    out[start:start + rows] = result
  return out


def predict(params, inputs_BxN, cfg: model.ModelConfig, batch_size: int, log=None) -> np.ndarray:
  """Argmax predictions [B, N], every example at the full width N, `batch_size` at a time."""
  def argmax(chunk, lengths):
    return jnp.argmax(model.predict_logits(params, chunk, lengths, cfg), axis=-1)
  return _over_chunks(argmax, inputs_BxN, batch_size, log).astype(np.int32)


def predict_probabilities(params, inputs_BxN, cfg: model.ModelConfig, batch_size: int,
                          log=None) -> np.ndarray:
  """Softmax probabilities [B, N, V] of every symbol at every position, as `predict`."""
  def softmax(chunk, lengths):
    return jax.nn.softmax(model.predict_logits(params, chunk, lengths, cfg), axis=-1)
  return _over_chunks(softmax, inputs_BxN, batch_size, log)


def sample_eval(task: tasks.Task, digits: int, examples: int, seed: int):
  """The evaluation examples (inputs, targets) at one length: a stream apart from training's."""
  return tasks.sample(task, digits, examples, np.random.default_rng([seed, EVAL_STREAM, digits]))


def evaluate_digits(params, cfg, task: tasks.Task, digits: int, examples: int, batch_size: int,
                    seed: int, log=None) -> dict:
  """Error rates at one length on `examples` fresh random examples."""
  inputs, targets = sample_eval(task, digits, examples, seed)
  predictions = predict(params, inputs, cfg, batch_size, log)
  lengths = np.full((examples,), inputs.shape[1])
  return rates(error_counts(predictions, targets, lengths))


# Peak bytes of a compiled forward pass over the bytes of one [B, N, H * M] float32 state:
# 12.2-12.9 measured with XLA's memory_analysis at m = 24, h = 4, B 8-32, N 401-4001
# (experiments/benchmark.py reports it); 14 leaves a margin.
STATE_COPIES = 14


def forward_bytes(cfg: model.ModelConfig, batch: int, n: int, examples: int = 0) -> int:
  """Estimated peak memory of evaluating `examples` examples of width n, `batch` at a time:
  the forward pass on the device plus inputs, targets and predictions on the host."""
  state = batch * n * cfg.height * cfg.nmaps * 4
  return STATE_COPIES * state + 3 * 4 * examples * n + 2**21


def available_bytes():
  """Memory free for a forward pass: the accelerator's free memory, or the host's available
  memory (MemAvailable) on CPU; None where it cannot be read."""
  device = jax.devices()[0]
  if device.platform != 'cpu':
    stats = device.memory_stats() or {}
    if 'bytes_limit' in stats:
      return stats['bytes_limit'] - stats.get('bytes_in_use', 0)
    return None
  try:
    with open('/proc/meminfo') as f:
      fields = dict(line.split(':', 1) for line in f)
    return int(fields['MemAvailable'].split()[0]) * 1024
  except (OSError, KeyError, ValueError):
    return None


def check_fits(cfg: model.ModelConfig, n: int, batch: int, examples: int = 0,
               what: str = 'evaluating') -> None:
  """Raises ValueError, with the numbers, when the estimate exceeds the available memory."""
  needed, free = forward_bytes(cfg, batch, n, examples), available_bytes()
  if free is not None and needed > free:
    raise ValueError(f'{what} at width n={n} with batch {batch} needs about '
                     f'{needed / 2**30:.1f} GiB but only {free / 2**30:.1f} GiB is available; '
                     'use a smaller eval_batch_size (batch) or shorter lengths')


def evaluate_lengths(params, cfg, task, digits_list, examples_list, batch_size, seed,
                     log=print) -> dict:
  """{digits: rates} for every length; logs one line per length as it finishes.

  Checks first that every length fits in memory (ValueError with the estimate otherwise).
  """
  if len(digits_list) != len(examples_list):
    raise ValueError(f'eval_digits has {len(digits_list)} entries but eval_examples has '
                     f'{len(examples_list)}; give one example count per length')
  for digits, examples in zip(digits_list, examples_list):
    check_fits(cfg, task.length(digits), min(batch_size, examples), examples,
               f'evaluating {digits} digits')
  results = {}
  for digits, examples in zip(digits_list, examples_list):
    start = time.time()
    results[int(digits)] = evaluate_digits(params, cfg, task, digits, examples, batch_size, seed,
                                           log)
    r = results[int(digits)]
    log(f'eval {task.name} digits={digits} (n={task.length(digits)}): '
        f'seq_error={r["seq_error"]:.4f} on {examples} examples ({time.time() - start:.1f} s)')
  return results


def evaluate_hard(params, cfg, task: tasks.Task, digits_list, examples: int, batch_size: int,
                  seed: int, log=print, families=()) -> dict:
  """{family: {digits: rates}} on `examples` examples of every hard-input family of the task
  (tasks.HARD_FAMILIES), or of those named in `families`, at every length. A family's
  examples are the same whichever others are chosen."""
  for digits in digits_list:
    check_fits(cfg, task.length(digits), min(batch_size, examples), examples,
               f'evaluating hard inputs at {digits} digits')
  results = {}
  for family in tasks.choose_hard_families(task, families):
    index = tasks.HARD_FAMILIES[task.kind].index(family)
    results[family] = {}
    for digits in digits_list:
      rng = np.random.default_rng([seed, HARD_STREAM, index, digits])
      inputs, targets = tasks.sample_hard(task, family, digits, examples, rng)
      predictions = predict(params, inputs, cfg, batch_size)
      lengths = np.full((examples,), inputs.shape[1])
      results[family][int(digits)] = rates(error_counts(predictions, targets, lengths))
    log(f'hard inputs {family}: seq_error ' + ', '.join(
        f'{r["seq_error"]:.4f} @{d}' for d, r in results[family].items()))
  return results


def format_hard_table(results: dict) -> str:
  digits = list(next(iter(results.values())))
  lines = [f'{"family":>14} ' + ' '.join(f'{"@" + str(d):>9}' for d in digits)
           + '  (strict sequence error on hard inputs)']
  for family, by_digits in results.items():
    lines.append(f'{family:>14} ' + ' '.join(f'{by_digits[d]["seq_error"]:>9.4f}' for d in digits))
  return '\n'.join(lines)


def format_table(task: tasks.Task, results: dict) -> str:
  lines = [f'{"digits":>7} {"n":>6} {"examples":>8} {"seq_error":>10} {"lenient":>8} '
           f'{"symbol_err":>10}  ({task.name}, strict sequence error is the headline)']
  for digits, r in results.items():
    lines.append(f'{digits:>7} {task.length(int(digits)):>6} {r["examples"]:>8} '
                 f'{r["seq_error"]:>10.4f} {r["seq_error_lenient"]:>8.4f} '
                 f'{r["symbol_error"]:>10.6f}')
  return '\n'.join(lines)


def write_json(workdir: str, results: dict, name: str = 'eval.json') -> str:
  """workdir/eval.json: {"digits": {seq_error, seq_error_lenient, symbol_error, examples}};
  eval_hard.json: {"family": {"digits": ...}}."""
  path = os.path.join(workdir, name)
  payload = json.loads(json.dumps(results))  # int keys become strings
  tmp = path + '.tmp'
  with open(tmp, 'w') as f:
    json.dump(payload, f, indent=1)
  os.replace(tmp, path)
  return path
