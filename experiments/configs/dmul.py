"""dmul, trained on operands of up to 20 digits, tested up to 2000 digits.

  python -m ngpu_jax.main --config=experiments/configs/dmul.py --workdir=runs/dmul_s0

The config (m = 128, 60,000 steps) has not been run. Measured (2-core CPU, 2026-11-28;
experiments/RESULTS.md, dmul section): a probe at m = 24 (--config.model.nmaps=24), seed 0,
27,900 steps in 70 minutes of training, reached 2 digits of the curriculum at step 300 and
stayed there (no check under 65% strict error; 10% advances); 100% wrong at 20, 25 and 200
digits. Not learned, as in the paper.
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'dmul'
  c.max_train_digits = 20
  c.num_train_steps = 60000
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 8)
  c.model.nmaps = 128  # the paper learned decimal addition only with m = 128
  return c
