"""rev on binary symbols, trained on sequences of length up to 41, tested up to 4001.

  python -m ngpu_jax.main --config=experiments/configs/rev.py --workdir=runs/rev_s0

Measured (2-core CPU, fp32, 2026-11-28; experiments/RESULTS.md, "Sequence tasks at the paper's
length"): seed 0 reached length 41 and merged at step 2,350; exact on 64 at 401 from step
3,000; step 4,500 (24 minutes of training) made 0 errors on 512 at 41 and 51, 128 at 401 and
16 at 4001, shipped as pretrained/rev. Seed 1 (--config.train_minutes=28): merged at step
2,400; step 5,300 made 0 errors on 512 at 41, 51 and 401 and 8 at 4001. Keep checkpoints with
--config.keep_checkpoint_every=500.
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'rev'
  c.max_train_digits = 41  # for the sequence tasks "digits" is the length n
  c.curriculum_start = 2
  c.num_train_steps = 20000
  c.eval_digits = (41, 51, 401, 4001)
  c.eval_examples = (512, 512, 512, 8)
  return c
