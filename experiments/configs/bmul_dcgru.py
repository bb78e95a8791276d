"""bmul with the improved cell of Freivalds & Liepins 2017 ('dcgru', SPEC.md section 7).

  python -m ngpu_jax.main --config=experiments/configs/bmul_dcgru.py --workdir=runs/bmul_dcgru_s0

Their bmul setting: a 1-row state of m = 96 maps, one diagonal CGRU per step, no relaxation,
no curriculum, dropout 0.1 on the candidate, AdaMax at 0.01 * 48 / m, saturation cost; they
report bmul learned in about 800 steps. Differences here as in badd_dcgru.py.
Measured (2-core CPU, seed 0, 2026-11-27, code d23781c, --config.train_minutes=35): stopped
at step 9,111 (34 min) without learning: 28.9% sequence errors at 5 digits, 100% at 20.
On their form of the task (--config.task=bmul_full, the product's high zeros written out)
with --config.train_lengths=all --config.train_steps=own (2026-12-04, code aa05f50): 7%
wrong at 20 bits and 7.8% at 40 after 7,000 steps (60 min), 100% at 200. The paper's bmul
with the same two flags (2026-12-04, code ee3eaa8, --config.train_minutes=95): 1.2% wrong at
20 bits and 0.8% at 40 after 13,050 steps (95 min), 15.6% at 50, 100% at 100 and 200.
experiments/RESULTS.md (DCGRU section).
"""

from ngpu_jax.config import base_config, dcgru_recipe


def get_config():
  c = base_config()
  c.task = 'bmul'
  c.max_train_digits = 20
  c.num_train_steps = 20000
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 8)
  return dcgru_recipe(c, nmaps=96, learning_rate=0.005, dropout=0.1)
