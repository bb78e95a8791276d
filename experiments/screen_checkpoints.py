"""Evaluate many kept checkpoints of one run in one process, optionally at several matmul
precisions, to find the ones that generalise (and whether lower precision changes answers).

  python experiments/screen_checkpoints.py --model=runs/badd_s0_long_all --steps=23000:32057 \
      --digits=200,2000 --examples=512,256 [--precisions=highest,tensorfloat32,bfloat16] \
      [--seed=4321] [--batch_size=256] [--json=screen.json] [--task=badd_carry] [--keep_going]
      [--extra_steps=3]

For every step (every kept one by default, a list, or a FIRST:LAST range; a shipped model,
`--model=pretrained/NAME`, has one) and every matmul precision
(`jax.default_matmul_precision`: highest = fp32, tensorfloat32 and bfloat16 use an
accelerator's matrix units with fp32 accumulation and fp32 state; a CPU computes fp32
whatever is asked), the step is evaluated at --digits in order, with the strict metric on
fresh examples (--seed, the examples of `--mode=eval --config.seed=SEED`), and stops at the
first length with an error (unless --keep_going): longer lengths cost more and the step
is out. Compilation happens once per width and precision, not once per step as with one
`--mode=eval` call per step. With several precisions, every row after the first
precision's also counts the examples whose predicted sequence differs from the first
precision's on the same examples. --extra_steps=K runs every model K steps past each input's
length (model.extra_steps; default: as the run was trained).
Prints one line per evaluation as it finishes and rewrites --json after each.
"""

import json
import os
import time

from absl import app, flags
import jax
import numpy as np

import ngpu_jax
from ngpu_jax import checkpoint, evaluate, inference, tasks

FLAGS = flags.FLAGS
flags.DEFINE_string('model', None, 'Workdir of the trained run.', required=True)
flags.DEFINE_string('steps', '', 'Steps to evaluate: "S1,S2,...", "FIRST:LAST" (every kept '
                    'step in the range, both ends included) or empty for every kept step.')
flags.DEFINE_list('digits', None, 'Test lengths, in order.', required=True)
flags.DEFINE_list('examples', None, 'Examples per test length.', required=True)
flags.DEFINE_list('precisions', ['highest'], 'Matmul precisions, each a value of '
                  'jax.default_matmul_precision; the first is the reference for differences.')
flags.DEFINE_integer('seed', 4321, 'Seeds the test examples.')
flags.DEFINE_bool('keep_going', False, 'Evaluate every length even after one with an error.')
flags.DEFINE_string('task', '', "Test on this task's examples instead of the model's own (same "
                    'symbols: kind, base, operands and BCD; e.g. badd_carry for a badd model).')
flags.DEFINE_integer('batch_size', 32, 'Evaluation batch.')
flags.DEFINE_integer('extra_steps', None, 'Run each model this many steps past the length of '
                     'its input (model.extra_steps); default: as it was trained.', lower_bound=0)
flags.DEFINE_string('json', '', 'Write every row to this file (rewritten after each).')

PRECISIONS = ('highest', 'float32', 'high', 'bfloat16_3x', 'tensorfloat32', 'default',
              'bfloat16')


def select_steps(kept: list, spec: str) -> list:
  """The kept steps named by `spec` ('' all, 'A,B' those, 'A:B' the kept ones in [A, B]).
  ValueError for a named step that is not kept or a range with none."""
  if not spec:
    return kept
  if ':' in spec:
    first, last = (int(s) for s in spec.split(':'))
    chosen = [s for s in kept if first <= s <= last]
    if not chosen:
      raise ValueError(f'no kept checkpoint in {first}:{last}; kept: {kept}')
    return chosen
  chosen = [int(s) for s in spec.split(',')]
  missing = [s for s in chosen if s not in kept]
  if missing:
    raise ValueError(f'steps {missing} are not kept checkpoints; kept: {kept}')
  return chosen


def examples_task(model_task: str, name: str) -> tasks.Task:
  """The task whose examples test a model of `model_task`: itself, or `name` if it poses the
  same kind of question in the same symbols."""
  own = tasks.get(model_task)
  return tasks.check_same_symbols(own, tasks.get(name)) if name else own


def screen(model_dir, steps, digits, examples, precisions, seed, batch_size, log=print,
           on_row=lambda rows: None, task_name='', keep_going=False, extra_steps=None) -> list:
  """Rows {step, precision, extra_steps, digits, examples, seconds, rates...,
  differs_from_first}. `task_name`: test on that task's examples (see examples_task), default
  the model's own. extra_steps: as ngpu_jax.load's."""
  task = None
  # (digits, examples) -> (inputs, targets): one draw shared by every step and precision; a
  # length given twice with other counts gets the draws of --mode=eval with each count
  samples = {}
  first_predictions = {}  # (step, digits, examples) -> predictions at precisions[0]
  rows = []
  for step in steps:  # None: a shipped model's one set of parameters
    predictor = ngpu_jax.load(model_dir, step, extra_steps)
    step = predictor.step
    if task is None:  # refuse lengths that would not fit in memory before evaluating any
      task = examples_task(predictor.task, task_name)
      for d, e in zip(digits, examples):
        evaluate.check_fits(predictor.model_config, task.length(d), min(batch_size, e), e,
                            f'evaluating {d} digits')
    for precision in precisions:
      for d, e in zip(digits, examples):
        if (d, e) not in samples:
          samples[d, e] = evaluate.sample_eval(task, d, e, seed)
        inputs, targets = samples[d, e]
        start = time.time()
        with jax.default_matmul_precision(precision):
          predictions = evaluate.predict(predictor.params, inputs, predictor.model_config,
                                         min(batch_size, e))
        row = {'step': step, 'precision': precision,
               'extra_steps': predictor.model_config.extra_steps, 'digits': d, 'examples': e,
               'seconds': time.time() - start,
               **evaluate.rates(evaluate.error_counts(
                   predictions, targets, np.full((e,), inputs.shape[1])))}
        if precision == precisions[0]:
          first_predictions[step, d, e] = predictions
        elif (step, d, e) in first_predictions:
          row['differs_from_first'] = int(
              (predictions != first_predictions[step, d, e]).any(axis=1).sum())
        rows.append(row)
        on_row(rows)
        log(f"step {step} {precision} "
            + (f"+{row['extra_steps']} steps " if row['extra_steps'] else '')
            + f"@{d} ({e} ex.): strict {row['seq_error']:.4f} "
            f"lenient {row['seq_error_lenient']:.4f} symbol {row['symbol_error']:.5f}"
            + (f" differs from {precisions[0]}: {row['differs_from_first']}"
               if 'differs_from_first' in row else '') + f" ({row['seconds']:.1f} s)")
        if row['seq_error'] > 0 and not keep_going:
          break
  return rows


def main(argv):
  del argv
  digits, examples = [int(d) for d in FLAGS.digits], [int(e) for e in FLAGS.examples]
  if len(digits) != len(examples):
    raise app.UsageError('give one --examples count per --digits length')
  unknown = [p for p in FLAGS.precisions if p not in PRECISIONS]
  if unknown:
    raise app.UsageError(f'unknown precisions {unknown}; choose from {PRECISIONS}')
  try:
    model_dir = inference.resolve(FLAGS.model)
    if os.path.isfile(os.path.join(model_dir, 'params.npz')):  # shipped: one set of parameters
      if FLAGS.steps:
        raise ValueError(f'{FLAGS.model} is a shipped model (no steps); leave out --steps')
      steps = [None]
    else:
      ckpts = checkpoint.Checkpoints(model_dir, read_only=True)
      kept = sorted(ckpts.manager.all_steps())
      ckpts.close()
      if not kept:
        raise ValueError(f'{FLAGS.model} holds no checkpoints')
      steps = select_steps(kept, FLAGS.steps)
  except ValueError as e:
    raise app.UsageError(str(e)) from None
  device = jax.devices()[0]
  print(f'screening {len(steps)} checkpoints of {FLAGS.model} on {device.platform}: '
        f'{device.device_kind}', flush=True)

  def write(rows):
    if FLAGS.json:
      with open(FLAGS.json, 'w') as f:
        json.dump({'model': FLAGS.model, 'task': FLAGS.task or None, 'seed': FLAGS.seed,
                   'device': device.device_kind, 'jax': jax.__version__, 'rows': rows}, f,
                  indent=1)

  try:
    screen(FLAGS.model, steps, digits, examples, FLAGS.precisions, FLAGS.seed,
           FLAGS.batch_size, log=lambda s: print(s, flush=True), on_row=write,
           task_name=FLAGS.task, keep_going=FLAGS.keep_going, extra_steps=FLAGS.extra_steps)
  except ValueError as e:  # a length too long for memory, or a --task the model cannot take
    raise app.UsageError(str(e)) from None


if __name__ == '__main__':
  app.run(main)
