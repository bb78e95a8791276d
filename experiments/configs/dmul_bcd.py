"""dmul_bcd (beyond the paper): decimal multiplication with every decimal digit written as
its 4 bits (binary-coded decimal, ngpu_jax/tasks.py), as Freivalds & Liepins (2017) did to
learn decimal multiplication; operands of up to 20 decimal digits in training (80 bits each,
input length n = 161), tested up to 2000 digits (n = 16001).

  python -m ngpu_jax.main --config=experiments/configs/dmul_bcd.py --workdir=runs/dmul_bcd_s0 \
      --config.seed=0

The paper's cell and the bmul recipe (m = 24, relaxation, curriculum), which learned bmul
here; width 161 costs about (161 / 41)^2 = 15 times a bmul step (n = 41), so this is a run for an
accelerator. Measured (2-core CPU, seed 0, 2026-11-29; experiments/RESULTS.md, dmul_bcd): 0.31
steps/s over the first 100 steps, since one batch in five is drawn at up to n = 161 (stopped at
step 127); with --config.max_train_digits=5 (n = 41), 6,250 steps in 30 minutes reached 2 digits
of the curriculum and were 100% wrong at 5 and 10 digits: not learned.
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
