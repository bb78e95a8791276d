"""badd_carry (beyond the paper): binary addition with long carry chains. Each bit of the
second operand is, with chance 0.85, the complement of the first's (a position that passes
a carry on), else random: a carry runs on for 25.3 positions on average against 4.0 for
uniform operands (64 pairs of 2000 bits; ngpu_jax/tasks.py). Operands of up to 20 bits in training (n = 41), tested on the same
distribution up to 2000 bits.

  python -m ngpu_jax.main --config=experiments/configs/badd_carry.py --workdir=runs/badd_carry \
      --config.seed=0

The badd settings otherwise. Measured (2-core CPU, 2026-11-28): not trained from scratch
yet. The shipped badd model (no training on these sums) gets 26% of 200-bit ones wrong;
trained on from it (`experiments/branch_run.py --source=runs/badd_s0_ft --step=33000
--target=runs/badd_carry_ft --task=badd_carry --learning_rate=1e-4`, then the command above
with that workdir) for 7,000 steps (39 minutes), it made no error on 512 carry-heavy and 512
uniform 200-bit sums, and ships as `pretrained/badd_carry` (experiments/RESULTS.md,
"Carry-heavy sums").
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
