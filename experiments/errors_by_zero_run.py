"""A model's errors grouped by the longest run of zeros in the right answer, and where the
first wrong symbol sits: inside a run of zeros, right after one, or elsewhere.

  python experiments/errors_by_zero_run.py --model=runs/bmul_s2_zr --step=73000 \
      --digits=20,200 --examples=512,512 [--seed=1234] [--json=zero_runs.json]

The examples are those of `--mode=eval --config.seed=SEED` (random operands, strict metric),
so the figures line up with an evaluation on the same seed. Arithmetic tasks only.
"""

import json

from absl import app, flags
import numpy as np

from ngpu_jax import evaluate, inference, tasks

FLAGS = flags.FLAGS

# Longest zero run in the answer, bucketed: [low, high] digits, both ends included.
BUCKETS = ((0, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 10**9))


def answer_digits(task: tasks.Task, target_row) -> np.ndarray:
  """The answer's digit values, least significant first (the row up to its padding)."""
  row = np.asarray(target_row)
  end = np.flatnonzero(row == tasks.PAD)
  return tasks.symbols_to_digits(task, row[:end[0]] if end.size else row)


def zero_run_at(digits: np.ndarray, i: int) -> int:
  """Length of the run of zeros that holds position i, or that ends just before it (0 when
  neither)."""
  j = i if i < digits.size and digits[i] == 0 else i - 1
  if j < 0 or j >= digits.size or digits[j] != 0:
    return 0
  start, end = j, j
  while start > 0 and digits[start - 1] == 0:
    start -= 1
  while end + 1 < digits.size and digits[end + 1] == 0:
    end += 1
  return end - start + 1


def table(task, predictions, targets) -> dict:
  """{'buckets': [{runs, examples, wrong}], 'first_error_zero_runs': [run length per wrong
  example]}: the strict errors per bucket of the answer's longest zero run, and for every
  wrong example the zero run at its first wrong answer position (0: not at a zero run)."""
  rows = [{'runs': f'{low}-{high}' if high < 10**9 else f'>={low}', 'examples': 0, 'wrong': 0}
          for low, high in BUCKETS]
  at_runs = []
  for predicted, target in zip(predictions, targets):
    digits = answer_digits(task, target)
    longest = tasks.longest_zero_run(tasks.digits_to_int(digits, task.base), task.base)
    bucket = next(k for k, (low, high) in enumerate(BUCKETS) if low <= longest <= high)
    rows[bucket]['examples'] += 1
    wrong = np.flatnonzero(predicted != target)
    if wrong.size:
      rows[bucket]['wrong'] += 1
      # Symbols per digit: BCD answers have 4 per digit.
      at_runs.append(zero_run_at(digits, int(wrong[0]) // task.symbols_per_digit))
  return {'buckets': rows, 'first_error_zero_runs': at_runs}


def main(argv):
  del argv
  predictor = inference.load(FLAGS.model, FLAGS.step)
  task = tasks.get(predictor.config.task)
  if not task.is_arithmetic:
    raise ValueError(f'{FLAGS.model} is a {task.name} model; this script is for arithmetic')
  if len(FLAGS.digits) != len(FLAGS.examples):
    raise ValueError('--digits and --examples need one entry each per test length')
  print(f'{FLAGS.model} step {predictor.step}, eval seed {FLAGS.seed}', flush=True)
  out = {}
  for digits, examples in zip(map(int, FLAGS.digits), map(int, FLAGS.examples)):
    inputs, targets = evaluate.sample_eval(task, digits, examples, FLAGS.seed)
    predictions = evaluate.predict(predictor.params, inputs, predictor.model_config,
                                   FLAGS.batch_size)
    out[digits] = result = table(task, predictions, targets)
    print(f'@{digits} digits, {examples} examples: longest zero run in the answer -> wrong')
    for row in result['buckets']:
      print(f'  {row["runs"]:>6}: {row["wrong"]:>4} of {row["examples"]:>4}')
    print(f'  zero run at each wrong example\'s first error: {result["first_error_zero_runs"]}',
          flush=True)
  if FLAGS.json:
    with open(FLAGS.json, 'w') as f:
      json.dump({'model': FLAGS.model, 'step': predictor.step, 'seed': FLAGS.seed,
                 'tables': out}, f, indent=1)


def define_flags():
  """The flags, defined only when run as a script: tests import the helpers above into a
  process that holds other scripts' flags of the same names."""
  flags.DEFINE_string('model', None, 'Workdir of the trained run, or pretrained/NAME.',
                      required=True)
  flags.DEFINE_integer('step', None, 'Checkpoint step (default: the newest).')
  flags.DEFINE_list('digits', None, 'Test lengths.', required=True)
  flags.DEFINE_list('examples', None, 'Examples per test length.', required=True)
  flags.DEFINE_integer('seed', 1234, 'Seeds the test examples.')
  flags.DEFINE_integer('batch_size', 32, 'Evaluation batch.')
  flags.DEFINE_string('json', '', 'Write the tables to this file.')


if __name__ == '__main__':
  define_flags()
  app.run(main)
