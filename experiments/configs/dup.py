"""dup on binary symbols, trained on sequences of length up to 41, tested up to 4001.

  python -m ngpu_jax.main --config=experiments/configs/dup.py --workdir=runs/dup_s0

Measured: not yet run with this version of the project (see experiments/RESULTS.md).
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'dup'
  c.max_train_digits = 41  # for the sequence tasks "digits" is the length n
  c.curriculum_start = 2
  c.num_train_steps = 20000
  c.eval_digits = (41, 51, 401, 4001)
  c.eval_examples = (512, 512, 512, 8)
  return c
