"""bmul, trained on operands of up to 20 digits, tested up to 2000 digits.

  python -m ngpu_jax.main --config=experiments/configs/bmul.py --workdir=runs/bmul_s0

Measured (2-core CPU, fp32, 2026-11-27; experiments/RESULTS.md, bmul section): seed 0 reached
20 digits and merged its relaxed sets at step 31,700 (53 minutes of training; the paper:
about 30k steps); stopped at step 48,021 (129 minutes, not finished). Kept checkpoints from
39,500 to 48,000: 10 of 18 exact on 128 random products at 20 and 25 bits, those 10 1.6-42%
wrong on 64 at 200 bits (step 46,000: 1 of 64). Trained on from step 46,000 at learning rate
1e-4 (experiments/branch_run.py; 77 minutes to step 59,407) and from 58,000 at 2e-5 (27
minutes to 63,246): every kept checkpoint exact at 20 and 25 bits, the best 0.6% wrong on 512
at 200 bits (3 of 512); none exact at 200 bits on 512, 2000 not tested, not shipped.
Seed 1 on one H200 (2026-11-28, experiments/train_on_gpu.sh): merged at step 39,950 (393 s),
52,404 steps in 501 s; exact at 20 and 25 bits (128) from 49,000 on, at best 28% wrong on 512
at 200 bits (23% after 5,700 more steps at 1e-4). Seed 2 on the CPU (2026-12-03): merged at
step 38,350 (85 minutes); 14-94% wrong on 64 at 200 bits at steps 44,000-52,500; trained on
from 52,000 at 1e-4 to 64,816 (206 minutes in all): exact at 20 bits, at best 3.9% wrong on
128 at 200 bits; then from 63,000 with --config.max_train_digits=40 (76 minutes to 70,000):
steps 69,000 and 69,500 exact on 512 at 200 bits (69,500: 37.5% wrong on 64 at 2000), but
every checkpoint at least 1 of 512 wrong at 20 bits (a product with a long run of zeros); not
shipped; its workdir is kept in experiments/runs/2026-12-03_cpu_bmul_s2_len40. From 69,500 with
a quarter of the training products holding 10+ zeros in a row (2026-12-04, 55 minutes to
74,512, --config.train_hard_families="('zero_runs',)"): the same products still wrong, 0-37.5%
wrong on 64 at 200 bits; continued from 70,000 on plain products instead (22 minutes to
72,018): steps 70,500, 71,000 and 72,000 exact on 512 at 200 bits, 72,000 3.1% wrong on 64 at
2000 bits, the short products still wrong (kept in the same folder). On plain products to
78,125 (2026-12-04, 70 minutes more): 1-13 of 64 wrong at 200 bits from 74,000. From 73,500
at learning rate 2e-5 (experiments/branch_run.py, 32 minutes to 76,100): every checkpoint
exact on 64 at 200 bits, 74,000 and 76,000 exact on 16 at 2000 bits, but 74,000 12 of 64
wrong there; 76,000 exact on 512 at 200 bits; still 1 of 512 wrong at 20 bits; not shipped
(kept in experiments/runs/2026-12-04_cpu_bmul_s2_lr2). Runs past 60,000 steps need
--config.num_train_steps.
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'bmul'
  c.max_train_digits = 20
  c.num_train_steps = 60000
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 8)
  # Keep every checkpoint: long-length accuracy swings between them (RESULTS.md, badd seed
  # 0 continued); choose the model with --mode=eval --step=S. About 0.7 MB each.
  c.keep_checkpoint_every = c.checkpoint_every
  return c
