"""bmul, trained on operands of up to 20 digits, tested up to 2000 digits.

  python -m ngpu_jax.main --config=experiments/configs/bmul.py --workdir=runs/bmul_s0

Measured: not yet run with this version of the project (see experiments/RESULTS.md).
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'bmul'
  c.max_train_digits = 20
  c.num_train_steps = 60000
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 8)
  # Keep every checkpoint: long-length accuracy swings between them (RESULTS.md, badd seed
  # 0 continued); choose the model with --mode=eval --step=S. About 0.7 MB each.
  c.keep_checkpoint_every = c.checkpoint_every
  return c
