"""sort on binary symbols, trained on sequences of length up to 41, tested up to 4001.

  python -m ngpu_jax.main --config=experiments/configs/sort.py --workdir=runs/sort_s0

Measured (2-core CPU, fp32, 2026-11-28; experiments/RESULTS.md, "Sequence tasks at the paper's
length"): seed 0 reached length 41 and merged at step 3,600; exact on 64 at 401 at step 5,500;
step 6,450 (45 minutes of training) made 0 errors on 512 at 41, 51 and 401 and 8 at 4001, and
0 on 512 at 41 and 51, 128 at 401 and 16 at 4001 when shipped as pretrained/sort.
Seed 1 (2026-11-28, 45 minutes, 6,900 steps, merged at step 2,900): 0 errors on 512 at 41, 51
and 401 and 8 at 4001.
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'sort'
  c.max_train_digits = 41  # for the sequence tasks "digits" is the length n
  c.curriculum_start = 2
  c.num_train_steps = 20000
  c.eval_digits = (41, 51, 401, 4001)
  c.eval_examples = (512, 512, 512, 8)
  return c
