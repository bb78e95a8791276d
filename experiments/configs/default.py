"""Default: a small binary-addition run that finishes in minutes on a laptop CPU.

  python -m ngpu_jax.main --config=experiments/configs/default.py --workdir=/tmp/ngpu_default

Trains badd up to 8-digit operands and evaluates at 8, 16 and 64 digits.
Measured: (filled in below once measured)
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'badd'
  c.max_train_digits = 8
  c.num_train_steps = 3000
  c.eval_digits = (8, 16, 64)
  c.eval_examples = (512, 512, 128)
  return c
