"""dmul_bcd (beyond the paper): decimal multiplication with every decimal digit written as
its 4 bits (binary-coded decimal, ngpu_jax/tasks.py), as Freivalds & Liepins (2017) did to
learn decimal multiplication; operands of up to 20 decimal digits in training (80 bits each,
input length n = 161), tested up to 2000 digits (n = 16001).

  python -m ngpu_jax.main --config=experiments/configs/dmul_bcd.py --workdir=runs/dmul_bcd_s0 \
      --config.seed=0

The paper's cell and the bmul recipe (m = 24, relaxation, curriculum), which learned bmul
here; width 161 costs about (161 / 41)^2 = 15 times a bmul step (n = 41), so this is a run for an
accelerator. Measured: not run yet (experiments/RESULTS.md lists what has been).
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'dmul_bcd'
  c.max_train_digits = 20
  c.num_train_steps = 60000
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 8)
  return c
