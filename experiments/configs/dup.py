"""dup on binary symbols, trained on sequences of length up to 41, tested up to 4001.

  python -m ngpu_jax.main --config=experiments/configs/dup.py --workdir=runs/dup_s0

Measured (2-core CPU, fp32, 2026-11-28; experiments/RESULTS.md, "Sequence tasks at the paper's
length"): seed 0 reached length 41 and merged at step 2,050; step 3,000 (20 minutes of
training) made 0 errors on 512 at 41 and 51 and 128 at 401, but 11 of 16 wrong at 4001; step
7,400 (--config.train_minutes=55, 55 minutes) made 0 errors on 512 at 41 and 51, 128 at 401
and 16 at 4001: shipped as pretrained/dup. Seed 1 (--config.seed=1 --config.train_minutes=55):
merged at step 2,100; step 8,400 (55 minutes) made 0 errors on 512 at 41, 51 and 401 and 8 at
4001. Keep checkpoints with --config.keep_checkpoint_every=500.
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'dup'
  c.max_train_digits = 41  # for the sequence tasks "digits" is the length n
  c.curriculum_start = 2
  c.num_train_steps = 20000
  c.eval_digits = (41, 51, 401, 4001)
  c.eval_examples = (512, 512, 512, 8)
  return c
