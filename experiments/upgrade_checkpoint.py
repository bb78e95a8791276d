"""Copies a checkpoint written before commit 691561b into a new workdir that today's code resumes.

Before 691561b the optimizer was clip -> noise -> Adam; since then the same chain is wrapped in
`optax.apply_if_finite`, whose state holds the chain's state plus three counters. This script
restores the old checkpoint's parameters and Adam state onto the old layout, puts them inside
a fresh apply_if_finite state (counters at zero), and saves them with the old progress (step,
curriculum, learning-rate history) and config into NEW_WORKDIR. Training then resumes there with

  python -m ngpu_jax.main --config=experiments/configs/badd.py --workdir=NEW_WORKDIR \
      --config.seed=SEED --config.train_minutes=...

Usage: python experiments/upgrade_checkpoint.py OLD_WORKDIR NEW_WORKDIR
"""

import os
import sys

import optax

from ngpu_jax import checkpoint, train
from ngpu_jax.config import base_config


def main(old_workdir, new_workdir):
  old_config = train.read_config(old_workdir)
  if old_config is None:
    sys.exit(f'{old_workdir} has no config.json')
  # Fields added since (optimizer, cell...) take today's defaults, which are the old behaviour.
  config = base_config()
  for field, value in old_config.items():
    if field == 'model':
      config.model.update(value)
    else:
      config[field] = value
  if os.path.exists(os.path.join(new_workdir, 'checkpoints')):
    sys.exit(f'{new_workdir} already holds checkpoints; choose a new workdir')
  cfg = train.model_config(config)
  tx = train.make_optimizer(config)
  old = checkpoint.Checkpoints(old_workdir, read_only=True)
  step = old.latest_step()
  progress = old.progress(step)
  state = train.initial_state(config, cfg, tx, progress['curriculum']['merged'])
  new_opt_state = state['opt_state']
  # The old layout is the chain inside apply_if_finite, with the same leaves.
  params, old_opt_state = old.restore(step, state['params'], new_opt_state.inner_state)
  new_opt_state = new_opt_state._replace(inner_state=old_opt_state)
  assert isinstance(new_opt_state, optax.ApplyIfFiniteState)
  os.makedirs(new_workdir, exist_ok=True)
  train.save_config(new_workdir, config)
  new = checkpoint.Checkpoints(new_workdir)
  new.save(step, params, new_opt_state, progress)
  new.wait()
  new.close()
  print(f'step {step} of {old_workdir} saved in {new_workdir} (learning rate '
        f'{train.learning_rate(new_opt_state):.3g})')


if __name__ == '__main__':
  if len(sys.argv) != 3:
    sys.exit(__doc__)
  main(*sys.argv[1:])
