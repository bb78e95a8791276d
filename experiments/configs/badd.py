"""badd: binary addition, trained on operands of up to 20 bits, tested up to 2000 bits.

  python -m ngpu_jax.main --config=experiments/configs/badd.py --workdir=runs/badd_s0 --config.seed=0

The paper's setting (SPEC.md): m = 24, h = 4, 2 CGRUs per step, 6 relaxed sets, Adam 1e-3,
clip 1, dropout 10%, curriculum from 1 to 20 digits; strict sequence error at 20, 25, 200 and
2000 operand digits.
Measured (2-core CPU, 2026-11-27; experiments/RESULTS.md, badd section, has every run):
seed 0, 27,000 steps in 144 minutes of training: strict sequence error 0% at 20, 25 and 200
bits (512 examples each), 0.49% (5 of 1024, evaluated on an H100) at 2000 bits; trained on
from there at learning rate 1e-4 (experiments/branch_run.py) to step 33,000 (170 minutes in
all): 0% at 20, 25, 200 (512 each) and 2000 bits (64), shipped as pretrained/badd (later,
on an H200, 2026-12-04: 2 of 1024 fresh 2000-bit sums wrong, 0.2%);
seeds 1 and 2, stopped at 19,500 and 15,850 steps (95 minutes): exact or nearly at 20 bits,
100% at 200; seed 3 (2026-12-04, the batch-halves code): 20 digits and the merge after 18.6
minutes of training, stopped at 26,691 steps (64 minutes), 100% wrong at 200 bits (64 sums).
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'badd'
  c.max_train_digits = 20
  c.num_train_steps = 30000
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 8)
  # Keep every checkpoint: long-length accuracy swings between them (RESULTS.md, badd seed
  # 0 continued); choose the model with --mode=eval --step=S. About 0.7 MB each.
  c.keep_checkpoint_every = c.checkpoint_every
  return c
