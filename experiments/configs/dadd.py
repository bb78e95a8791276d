"""dadd, trained on operands of up to 20 digits, tested up to 2000 digits.

  python -m ngpu_jax.main --config=experiments/configs/dadd.py --workdir=runs/dadd_s0

Measured (2-core CPU, jax 0.10.2, fp32, seed 0, 2026-11-28; experiments/RESULTS.md, dadd
section): not learned in two probes. This config (m = 128) took 77 minutes for 2,450 steps
(0.3-0.9 steps/s) and was still at 3 digits of the curriculum, 100% wrong at 20 and 25 digits;
with --config.model.nmaps=24, 21,900 steps in 48 minutes reached 4 digits (at step 11,950),
100% wrong at 20, 25 and 200 digits. The full 60,000 steps at m = 128 would take days on
that CPU; on a lent GPU use experiments/train_on_gpu.sh (one checkpoint is 57 MB: it comes
back in 4 parts).
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'dadd'
  c.max_train_digits = 20
  c.num_train_steps = 60000
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 8)
  c.model.nmaps = 128  # the paper learned decimal addition only with m = 128
  return c
