"""dadd with the improved cell of Freivalds & Liepins 2017 ('dcgru', SPEC.md section 7) and
the paper's length curriculum.

  python -m ngpu_jax.main --config=experiments/configs/dadd_dcgru.py --workdir=runs/dadd_dcgru_s0

bmul_dcgru.py's settings (1 row of m = 96 maps, AdaMax 0.005, dropout 0.1) with the recipe
that made the DCGRU learn bmul, every length in every batch (train_lengths 'all', uniform
up to the curriculum's length) and each example run for its own width in steps
(train_steps 'own'), plus the length curriculum from 1 digit, which Freivalds & Liepins do
not use.
Measured (2-core CPU, seed 0, 2026-12-04, code f1ffa84 with this file): 20 digits reached at
step 2,800 (255 s of training), training sequence error below 1% at step 4,000 (728 s);
SIGTERM at step 5,170 (1,181 s): at step 5,000, 45% wrong at 25 digits (64 examples), 100% at
40 and 100; continued unchanged to step 6,850 (30 min): 0% wrong at 20 digits (512
examples), 70% at 25, 100% at 30. Seed 1 (--config.seed=1, 2026-12-04, code 321913e):
20 digits at step 2,900, after 30 min 0% wrong at 20 digits, 48% at 25, 100% at 30 and
200. Without the curriculum (--config.curriculum_start=20) it did not learn: training
sequence error never below 94% in 3,290 steps (21 min). With --config.task=badd3: 0.59% wrong
at 20 digits after 30 min, 97.7% at 25; with --config.task=dmul: 3 digits in 20,000 steps,
100% wrong at 5. experiments/RESULTS.md (dadd, dmul and three-operand addition sections).
"""

from ngpu_jax.config import base_config, dcgru_recipe


def get_config():
  c = base_config()
  c.task = 'dadd'
  c.max_train_digits = 20
  c.num_train_steps = 20000
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 8)
  c = dcgru_recipe(c, nmaps=96, learning_rate=0.005, dropout=0.1)
  c.curriculum_start = 1
  c.train_lengths = 'all'
  c.train_steps = 'own'
  return c
