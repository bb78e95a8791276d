"""Evaluate an ensemble of trained models against each of its members, on the same examples.

  python experiments/eval_ensemble.py \
      --members=runs/bmul_s2_len40@68500,runs/bmul_s2_len40@69000,runs/bmul_s2_len40@70000 \
      --digits=20,25,200 --examples=128,128,512 [--subsets=2] [--seed=4321] [--batch_size=64] \
      [--json=F] [--extra_steps=3]
  python experiments/eval_ensemble.py --members=runs/small_rev@members --subsets=5 \
      --digits=16,32 --examples=128,128

A member is WORKDIR@STEP (that kept checkpoint), WORKDIR (its newest) or pretrained/NAME;
WORKDIR@members stands for every member of a many-seeds run (`--config.num_seeds=K`) at its
newest checkpoint, WORKDIR@seedS for its member of seed S. The members may be different
runs, seeds and sizes of one task (or tasks in the same symbols).

The ensemble's answer at each position is the symbol of highest mean softmax probability over
its members: the paper's ensembles ("ensembles of 5 models almost always generalise" on the
binary tasks, SPEC.md section 3). Every length is tested, with the strict metric on the
examples of `--mode=eval --config.seed=SEED` for the first member's task; each member costs
one forward pass per example. `--subsets=k` also tests every ensemble of k of the members
from the same forward passes and counts the exact ones. Prints a line per member and length
and one for the ensemble (and the subsets); --json gets every row (rates as `evaluate.rates`,
and `wrong_examples`: the indices of the examples with a strict error). --extra_steps=K runs
every member K steps past each input's length (model.extra_steps; default: as it was trained).
"""

import itertools
import json
import time

from absl import app, flags
import numpy as np

import ngpu_jax
from ngpu_jax import evaluate, inference, seeds, tasks

FLAGS = flags.FLAGS
flags.DEFINE_list('members', None, 'Models of the ensemble: WORKDIR@STEP, WORKDIR or '
                  'pretrained/NAME, at least two.', required=True)
flags.DEFINE_list('digits', None, 'Test lengths, in order.', required=True)
flags.DEFINE_list('examples', None, 'Examples per test length.', required=True)
flags.DEFINE_integer('seed', 4321, 'Seeds the test examples.')
flags.DEFINE_integer('batch_size', 32, 'Evaluation batch.')
flags.DEFINE_integer('subsets', 0, 'Also test the ensembles of every SUBSETS of the members '
                     '(how many are exact), from the same forward passes; 0: off.')
flags.DEFINE_string('json', '', 'Write every row to this file (rewritten after each length).')
flags.DEFINE_integer('extra_steps', None, 'Run each member this many steps past the length of '
                     'its input (model.extra_steps); default: as it was trained.', lower_bound=0)


def load_member(spec: str, extra_steps=None) -> list:
  """[(name, Predictor)] named by WORKDIR@STEP, WORKDIR or pretrained/NAME, or the members of
  a many-seeds run for WORKDIR@members (all) and WORKDIR@seedS (one); ValueError otherwise.
  extra_steps: as ngpu_jax.load's."""
  workdir, _, what = spec.partition('@')
  if what == 'members' or (what.startswith('seed') and what[4:].isdigit()):
    named = [(f'{workdir}@seed{m.config.seed}', inference.with_extra_steps(m, extra_steps))
             for m in seeds.load_members(workdir)]
    chosen = [(name, m) for name, m in named if what in ('members', name.rpartition('@')[2])]
    if not chosen:
      raise ValueError(f'member {spec!r}: the run has seeds '
                       f'{[m.config.seed for _, m in named]}')
    return chosen
  if what and not what.isdigit():
    raise ValueError(f"member {spec!r}: after @ comes a step number, 'members' or 'seedS'")
  return [(spec, ngpu_jax.load(workdir, int(what) if what else None, extra_steps))]


def load_members(specs: list, extra_steps=None) -> tuple:
  """(names, Predictors) of the members; ValueError unless there are two or more, of tasks in
  the same symbols with the same vocabulary. extra_steps: as ngpu_jax.load's."""
  named = [pair for spec in specs for pair in load_member(spec, extra_steps)]
  if len(named) < 2:
    raise ValueError(f'an ensemble needs at least two members, got {len(named)}')
  names, members = [name for name, _ in named], [m for _, m in named]
  first = members[0]
  for name, member in zip(names[1:], members[1:]):
    tasks.check_same_symbols(tasks.get(first.task), tasks.get(member.task))
    if member.model_config.vocab_size != first.model_config.vocab_size:
      raise ValueError(f'member {name!r} has vocabulary {member.model_config.vocab_size}, '
                       f'the first member {first.model_config.vocab_size}')
  return names, members


def wrong_ones(row: dict, shown: int = 20) -> str:
  """' wrong: [i, ...]' for a log line, the first `shown` indices; '' when none is wrong."""
  wrong = row['wrong_examples']
  if not wrong:
    return ''
  return f" wrong: {wrong[:shown]}{' ...' if len(wrong) > shown else ''}"


def evaluate_ensemble(names, members, digits, examples, seed, batch_size, subsets=0, log=print,
                      on_rows=lambda rows: None) -> list:
  """Rows {member (its name from load_members, or 'ensemble'), step, digits, examples,
  seconds, rates..., wrong_examples (indices of the examples with a strict error)}, each
  member's and then the ensemble's at every length; with `subsets` = k, also a row
  {member: 'subsets of k', subsets, exact_subsets, seq_errors} for the ensembles of every k
  of the members, on the same examples."""
  if not 0 <= subsets <= len(members):
    raise ValueError(f'subsets must be between 0 and the {len(members)} members, got {subsets}')
  task = tasks.get(members[0].task)
  for member in members:  # refuse lengths that would not fit before evaluating any
    for d, e in zip(digits, examples):
      evaluate.check_fits(member.model_config, task.length(d), min(batch_size, e), e,
                          f'evaluating {d} digits')
  rows = []
  for d, e in zip(digits, examples):
    inputs, targets = evaluate.sample_eval(task, d, e, seed)
    lengths = np.full((e,), inputs.shape[1])
    def errors(probabilities_BxNxV):
      predictions_BxN = probabilities_BxNxV.argmax(-1)
      # The strict metric over the whole width: every row is as long as the inputs.
      wrong_B = (predictions_BxN != targets).any(axis=1)
      return {**evaluate.rates(evaluate.error_counts(predictions_BxN, targets, lengths)),
              'wrong_examples': np.flatnonzero(wrong_B).tolist()}
    probabilities_K = []  # each member's [B, N, V]
    start_length = time.time()
    for name, member in zip(names, members):
      start = time.time()
      probabilities_K.append(evaluate.predict_probabilities(
          member.params, inputs, member.model_config, min(batch_size, e)))
      rows.append({'member': name, 'step': member.step, 'digits': d, 'examples': e,
                   'seconds': time.time() - start, **errors(probabilities_K[-1])})
      log(f"{name} (step {member.step}) @{d} ({e} ex.): strict {rows[-1]['seq_error']:.4f} "
          f"symbol {rows[-1]['symbol_error']:.5f} ({rows[-1]['seconds']:.1f} s)"
          + wrong_ones(rows[-1]))
    rows.append({'member': 'ensemble', 'step': None, 'digits': d, 'examples': e,
                 'seconds': time.time() - start_length, **errors(sum(probabilities_K))})
    log(f"ensemble of {len(members)} @{d} ({e} ex.): strict {rows[-1]['seq_error']:.4f} "
        f"lenient {rows[-1]['seq_error_lenient']:.4f} symbol {rows[-1]['symbol_error']:.5f}"
        + wrong_ones(rows[-1]))
    if subsets:
      seq_errors = [errors(sum(probabilities_K[k] for k in chosen))['seq_error']
                    for chosen in itertools.combinations(range(len(members)), subsets)]
      rows.append({'member': f'subsets of {subsets}', 'step': None, 'digits': d,
                   'examples': e, 'subsets': len(seq_errors),
                   'exact_subsets': seq_errors.count(0.0), 'seq_errors': seq_errors})
      log(f'ensembles of {subsets} of the {len(members)} @{d}: {seq_errors.count(0.0)} of '
          f'{len(seq_errors)} exact; strict error median {np.median(seq_errors):.4f}, '
          f'max {max(seq_errors):.4f}')
    on_rows(rows)
  return rows


def main(argv):
  del argv
  digits, examples = [int(d) for d in FLAGS.digits], [int(e) for e in FLAGS.examples]
  if len(digits) != len(examples):
    raise app.UsageError('give one --examples count per --digits length')
  if min(examples) < 1 or FLAGS.batch_size < 1:
    raise app.UsageError('--examples and --batch_size must be positive')
  try:
    names, members = load_members(FLAGS.members, FLAGS.extra_steps)
    for d in digits:
      tasks.check_digits(tasks.get(members[0].task), d)
  except ValueError as e:
    raise app.UsageError(str(e)) from None

  def write(rows):
    if FLAGS.json:
      with open(FLAGS.json, 'w') as f:
        json.dump({'members': names, 'seed': FLAGS.seed, 'rows': rows}, f, indent=1)

  try:
    evaluate_ensemble(names, members, digits, examples, FLAGS.seed, FLAGS.batch_size,
                      FLAGS.subsets, log=lambda s: print(s, flush=True), on_rows=write)
  except ValueError as e:  # a length too long for memory, or a bad --subsets
    raise app.UsageError(str(e)) from None


if __name__ == '__main__':
  app.run(main)
