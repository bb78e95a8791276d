"""badd_carry (beyond the paper): binary addition with long carry chains. Each bit of the
second operand is, with chance 0.85, the complement of the first's (a position that passes
a carry on), else random: a carry runs on for 25.3 positions on average against 4.0 for
uniform operands (64 pairs of 2000 bits; ngpu_jax/tasks.py). Operands of up to 20 bits in training (n = 41), tested on the same
distribution up to 2000 bits.

  python -m ngpu_jax.main --config=experiments/configs/badd_carry.py --workdir=runs/badd_carry \
      --config.seed=0

The badd settings otherwise. Measured: not trained yet. A badd model on this distribution
(no training on it): `python experiments/screen_checkpoints.py --model=pretrained/badd
--task=badd_carry ...`, in experiments/RESULTS.md.
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'badd_carry'
  c.max_train_digits = 20
  c.num_train_steps = 30000
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 64)
  return c
