"""badd3 (beyond the paper): three-operand binary addition a + b + c, operands of up to 20
bits in training (input length 3d + 2 = 62), tested up to 2000 bits (n = 6002).

  python -m ngpu_jax.main --config=experiments/configs/badd3.py --workdir=runs/badd3 \
      --config.num_seeds=8

The badd settings otherwise. Measured (2-core CPU, 2026-11-28, one seed, `--config.seed=0`
without num_seeds): after 14,018 steps (50 minutes) the curriculum was still at 4 digits,
63-97% wrong there, where badd had all 20 at 11,250 steps; stopped, not learned yet
(experiments/RESULTS.md, "Three-operand addition").
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'badd3'
  c.max_train_digits = 20
  c.num_train_steps = 30000
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 8)
  return c
