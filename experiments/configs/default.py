"""Default: a small binary-addition run that finishes in minutes on a laptop CPU.

  python -m ngpu_jax.main --config=experiments/configs/default.py --workdir=/tmp/ngpu_default

Trains badd with the curriculum up to 8-digit operands for 3000 steps, then evaluates at 4, 8
and 16 digits. It shows the curriculum at work, not generalisation: that takes the full
badd.py config (an hour or more).
Measured 2026-11-27, seed 0, 2-core CPU shared with another training run (code of
commit 691561b): 6 min 43 s in all (392 s of training); the curriculum reached 6 digits; strict
sequence error 4.7% at 4 digits, 95.3% at 8, 100% at 16 (512, 512, 128 examples).
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'badd'
  c.max_train_digits = 8
  c.num_train_steps = 3000
  c.eval_digits = (4, 8, 16)
  c.eval_examples = (512, 512, 128)
  return c
