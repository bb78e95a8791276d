"""Where a model's answers go wrong: the fraction of examples wrong at each position of the
output row, by test length. A model that learned a rule tied to the distance from the ends
of the input, not a local one, shows its errors in a band of positions.

  python experiments/errors_by_position.py --model=runs/badd3_s1 --digits=3,4,5 \
      --examples=256,256,256 [--step=N] [--seed=1234] [--json=positions.json]

The examples are those of `--mode=eval --config.seed=SEED`, so the sequence errors line up
with an evaluation on the same seed. Positions count from 0 at the row's left end (the
least significant digit for arithmetic tasks); the strict metric, padding included. Each
row prints one character per position: '.' for none wrong, else the tenths wrong (0-9).
"""

import json

from absl import app, flags
import numpy as np

from ngpu_jax import evaluate, inference, tasks

FLAGS = flags.FLAGS


def wrong_by_position(predictions_BxN, targets_BxN) -> np.ndarray:
  """Fraction of examples wrong at each position [N]."""
  return np.mean(np.asarray(predictions_BxN) != np.asarray(targets_BxN), axis=0)


def row_text(fractions_N) -> str:
  """One character per position: '.' where nothing is wrong, else the tenths wrong (a
  fraction in (0, 0.1) prints 0, 1.0 prints 9)."""
  return ''.join('.' if f == 0 else str(min(9, int(f * 10))) for f in fractions_N)


def main(argv):
  del argv
  if len(FLAGS.digits) != len(FLAGS.examples):
    raise ValueError('--digits and --examples need one entry each per test length')
  predictor = inference.load(FLAGS.model, FLAGS.step)
  task = tasks.get(predictor.config.task)
  print(f'{FLAGS.model} ({task.name}) step {predictor.step}, eval seed {FLAGS.seed}; '
        'position 0 first, tenths wrong', flush=True)
  out = {}
  for digits, examples in zip(map(int, FLAGS.digits), map(int, FLAGS.examples)):
    inputs, targets = evaluate.sample_eval(task, digits, examples, FLAGS.seed)
    predictions = evaluate.predict(predictor.params, inputs, predictor.model_config,
                                   FLAGS.batch_size)
    fractions = wrong_by_position(predictions, targets)
    seq_error = float(np.mean(np.any(predictions != targets, axis=1)))
    out[digits] = {'examples': examples, 'seq_error': seq_error,
                   'wrong_by_position': [float(f) for f in fractions]}
    print(f'{digits:>5} digits ({examples} ex., {seq_error:.1%} wrong) {row_text(fractions)}',
          flush=True)
  if FLAGS.json:
    with open(FLAGS.json, 'w') as f:
      json.dump({'model': FLAGS.model, 'step': predictor.step, 'seed': FLAGS.seed,
                 'lengths': out}, f, indent=1)


def define_flags():
  """The flags, defined only when run as a script: tests import the helpers above into a
  process that holds other scripts' flags of the same names."""
  flags.DEFINE_string('model', None, 'Workdir of the trained run, or pretrained/NAME.',
                      required=True)
  flags.DEFINE_integer('step', None, 'Checkpoint step (default: the newest).')
  flags.DEFINE_list('digits', None, 'Test lengths (the task\'s digits).', required=True)
  flags.DEFINE_list('examples', None, 'Examples per test length.', required=True)
  flags.DEFINE_integer('seed', 1234, 'Seeds the test examples.')
  flags.DEFINE_integer('batch_size', 32, 'Evaluation batch.')
  flags.DEFINE_string('json', '', 'Write the fractions to this file.')


if __name__ == '__main__':
  define_flags()
  app.run(main)
