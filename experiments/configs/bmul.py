"""bmul, trained on operands of up to 20 digits, tested up to 2000 digits.

  python -m ngpu_jax.main --config=experiments/configs/bmul.py --workdir=runs/bmul_s0

Measured (2-core CPU, fp32, 2026-11-27 to 2026-12-04; every command in experiments/RESULTS.md,
bmul section): a seed reaches the 20-bit stage and merges its relaxed sets after 31,700
(seed 0, 53 minutes) or 38,350 steps (seed 2, 85 minutes; the paper: about 30k). Trained with
this config and then at lower learning rates (experiments/branch_run.py), no seed multiplies
200-bit numbers exactly: seed 0 at best 3 of 512 wrong (215 minutes in all), seed 1 (one
H200, 2026-11-28, 52,404 steps in 8.4 minutes, then 5,700 at 1e-4) 23%, seed 2 3.9% of 128.
Seed 2 trained on from step 63,000 with --config.max_train_digits=40 (beyond the paper) and
from 73,500 at learning rate 2e-5: steps 69,000, 69,500, 70,500, 71,000, 72,000 and 76,000
exact on 512 at 200 bits, 72,000 and 76,000 2 and 3 of 64 wrong at 2000 bits (on an H200,
2026-12-04: 30 and 106 of 1024, 2.9% and 10.4%), but every
checkpoint screened from 67,000 to 81,000 at least 1 of 512 wrong at 20 bits; not shipped. Workdirs kept in
experiments/runs/2026-12-03_cpu_bmul_s2_len40 and experiments/runs/2026-12-04_cpu_bmul_s2_lr2.
Seed 3 (2026-12-05) merged only at step 66,550 (104 minutes) and was 2-10% wrong at 20 bits
(256 ex.) at 70,000-74,064; trained on with this config to 109,059 (249 minutes), four
checkpoints from 96,000 to 109,000 were 0.4-0.5% wrong on 1024 at 20 bits and 5.5-15% on 128 at 200; workdir
kept in experiments/runs/2026-12-05_cpu_bmul_s3. From 96,000 with --config.max_train_digits=40 (2026-12-06,
125 minutes, to 106,205): at best 1.6% wrong on 128 at 200 bits, 0.3% on 1024 at 20; workdir kept in
experiments/runs/2026-12-06_cpu_bmul_s3_len40.
Those 20-bit errors are a lack of steps (2026-12-06): evaluated 3 steps past each input's
length (--mode=eval --config.model.extra_steps=3, not in the paper), seed 2's step 72,000
makes no error on 512 random products at 20, 25, 30, 40 and 200 bits, but still 2 of 64 at
2000 bits. From 72,000 with --config.max_train_digits=80 (2026-12-06, 54 minutes, stopped at
73,709 with the curriculum at 74 bits): those two right, but 8 of the 64 wrong and 1-2 of 512
at 30 and 40 bits; continued to 76,530 (about 180 minutes in all): 2-19 of 128 wrong at 200
bits at each of 7 checkpoints, no better; workdir kept in
experiments/runs/2026-12-06_cpu_bmul_s2_len80. From its step 75,500 at learning rate 2e-5
(97 minutes, to 77,550): step 77,000 with 3 extra steps exact on 512 at 20-40 bits, 256 at
80 and 128 at 200, but 2 of 512 wrong at 200 and 1 of 64 at 2000; workdir kept in
experiments/runs/2026-12-06_cpu_bmul_s2_len80_lr2.
Runs past 60,000 steps need --config.num_train_steps.
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
