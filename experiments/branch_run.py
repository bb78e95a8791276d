"""Start a new run from a kept checkpoint of another one, e.g. to train the best checkpoint
on at a lower learning rate:

  python experiments/branch_run.py --source=runs/badd_s0_long_all --step=27000 \
      --target=runs/badd_s0_ft --learning_rate=1e-4
  python -m ngpu_jax.main --config=experiments/configs/badd.py --workdir=runs/badd_s0_ft \
      --config.seed=0 --config.train_minutes=...

TARGET gets SOURCE's checkpoint STEP (default: the newest) with its parameters, optimizer
state and progress (step, curriculum, learning-rate history, training time), and SOURCE's
config; training there resumes from that step with whatever config the command gives
(task and model must match). --task switches to another task in the same symbols, e.g. to
train a badd model on carry-heavy sums:

  python experiments/branch_run.py --source=runs/badd_s0_ft --step=33000 \
      --target=runs/badd_carry_ft --task=badd_carry --learning_rate=1e-4
  python -m ngpu_jax.main --config=experiments/configs/badd_carry.py \
      --workdir=runs/badd_carry_ft --config.seed=0 --config.train_minutes=...

--average=S1,S2,... gives TARGET the mean of those checkpoints' parameters (the optimizer
state, progress and step of STEP, by default the last of them), to screen and ship as any
checkpoint:

  python experiments/branch_run.py --source=runs/bmul_s0_ft2 --average=59000,59500,60000 \
      --target=runs/bmul_s0_ft2_avg

--learning_rate replaces the learning rate kept in the optimizer state (the config's
learning_rate is only the starting rate of a fresh run).

A many-seeds run (`--config.num_seeds=K`) branches as a whole: every member's checkpoint,
each member's learning rate set to --learning_rate (--average is for one-seed runs):

  python experiments/branch_run.py --source=runs/badd_seeds8 --target=runs/badd_seeds8_lr1 \
      --learning_rate=1e-4
  python -m ngpu_jax.main --config=experiments/configs/badd.py --workdir=runs/badd_seeds8_lr1 \
      --config.num_seeds=8 --config.seed=0 --config.train_minutes=...

Checkpoints written before commit 691561b, whose optimizer state lacks the
`optax.apply_if_finite` wrapper, are carried into today's layout (counters at zero).
"""

import os

from absl import app, flags
import jax
import optax

from ngpu_jax import checkpoint, seeds, tasks, train
from ngpu_jax.config import base_config

FLAGS = flags.FLAGS


def define_flags():  # only when run as a script: the tests import branch() beside main.py's flags
  flags.DEFINE_string('source', None, 'Workdir to branch from.', required=True)
  flags.DEFINE_string('target', None, 'New workdir (must hold no checkpoints).', required=True)
  flags.DEFINE_integer('step', None, 'Checkpoint of SOURCE to start from (default: newest).')
  flags.DEFINE_float('learning_rate', None, 'New learning rate, of every member in a many-seeds '
                    'run (default: the saved one).')
  flags.DEFINE_list('average', [], 'Checkpoints of SOURCE whose parameters TARGET gets the '
                    'mean of (default: only STEP).')
  flags.DEFINE_string('task', None, "Train on this task from now on (same symbols as SOURCE's "
                      "task, e.g. badd -> badd_carry; default: SOURCE's task).")


def source_config(workdir: str):
  """SOURCE's config, with fields added since it was written at today's defaults (which
  are the old behaviour)."""
  saved = train.read_config(workdir)
  if saved is None:
    raise ValueError(f'{workdir} holds no run (no config.json)')
  config = base_config()
  for field, value in saved.items():
    if field == 'model':
      config.model.update(value)
    else:
      config[field] = value
  return config


def restore(ckpts, step: int, state: dict):
  """(params, opt_state) of checkpoint `step` in today's optimizer layout."""
  try:
    return ckpts.restore(step, state['params'], state['opt_state'])
  except checkpoint.CheckpointDamaged as today:
    try:  # before 691561b: the same chain's state, not yet inside apply_if_finite
      params, inner = ckpts.restore(step, state['params'], state['opt_state'].inner_state)
    except checkpoint.CheckpointDamaged:
      raise today from None
    return params, state['opt_state']._replace(inner_state=inner)


def branch(source: str, target: str, step=None, learning_rate=None, task=None,
           average=()) -> int:
  """Writes checkpoint `step` of `source` into `target`, whose config says `task` if given
  and whose parameters are the mean of checkpoints `average` if given; returns the step."""
  if os.path.exists(os.path.join(target, 'checkpoints')):
    raise ValueError(f'{target} already holds checkpoints; choose a new workdir')
  if learning_rate is not None and not 0 < learning_rate < float('inf'):
    raise ValueError(f'learning_rate must be a positive number, got {learning_rate}')
  config = source_config(source)
  if task is not None:
    config.task = tasks.check_same_symbols(tasks.get(config.task), tasks.get(task)).name
  old = checkpoint.Checkpoints(source, read_only=True)
  try:
    kept = sorted(old.manager.all_steps())
    if not kept:
      raise ValueError(f'{source} holds no checkpoint')
    if step is None:
      step = max(average) if average else kept[-1]
    if len(set(average)) != len(average):
      raise ValueError(f'average lists a step twice: {average}')
    for s in [step, *average]:
      if s not in kept:
        raise ValueError(f'{source} has no checkpoint {s}; it has {kept}')
    progress = old.progress(step)
    if config.num_seeds > 1:
      if average:
        raise ValueError(f'--average needs a one-seed run; {source} trains '
                         f'{config.num_seeds} seeds in one program')
      _, members = seeds.check_config(config)
      tx = seeds.optimizer(members)
      state = seeds.initial_state(members, tx)  # merged members keep their shape
    else:
      merged = progress['curriculum']['merged']
      if any(old.progress(s)['curriculum']['merged'] != merged for s in average):
        raise ValueError('checkpoints to average must all be before or all after the merge '
                         'of the relaxed parameter sets')
      tx = train.make_optimizer(config)
      state = train.initial_state(config, train.model_config(config), tx, merged)
    params, opt_state = restore(old, step, state)
    if average:
      kept_params = [restore(old, s, state)[0] for s in average]
      params = jax.tree.map(lambda *p: sum(p) / len(p), *kept_params)
  finally:
    old.close()
  assert isinstance(opt_state, optax.ApplyIfFiniteState)
  if learning_rate is not None:
    opt_state = train.set_learning_rate(opt_state, learning_rate)
  os.makedirs(target, exist_ok=True)
  train.save_config(target, config)
  new = checkpoint.Checkpoints(target)
  new.save(step, params, opt_state, progress)
  new.wait()
  new.close()
  return step


def main(argv):
  del argv
  try:
    average = [int(s) for s in FLAGS.average]
    step = branch(FLAGS.source, FLAGS.target, FLAGS.step, FLAGS.learning_rate, FLAGS.task,
                  average)
  except ValueError as e:
    raise app.UsageError(str(e)) from None
  what = (f'the mean of steps {",".join(FLAGS.average)}, as step {step},' if FLAGS.average
          else f'step {step}')
  print(f'{what} of {FLAGS.source} saved in {FLAGS.target}'
        + (f' with learning rate {FLAGS.learning_rate:g}' if FLAGS.learning_rate else '')
        + (f' for task {FLAGS.task}' if FLAGS.task else ''))


if __name__ == '__main__':
  define_flags()
  app.run(main)
