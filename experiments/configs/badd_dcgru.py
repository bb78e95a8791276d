"""badd with the improved cell of Freivalds & Liepins 2017 ('dcgru', SPEC.md section 7).

  python -m ngpu_jax.main --config=experiments/configs/badd_dcgru.py --workdir=runs/badd_dcgru_s0

Their badd setting: a 1-row state of m = 48 maps, one diagonal CGRU per step, no relaxation,
no curriculum (every length up to 20 bits from the first step), examples trained in length
bins (run for the bin's length in steps), dropout 0.5 on the candidate, AdaMax at 0.01 (b2
rising from 0.99, learning rate x 0.7 on stalls down to 1/60 of it), saturation cost. Differences here: the
saturation weight is constant (they adapt it to the loss:
--config.adapt_saturation_weight=True), each batch has one length drawn
by the curriculum's sampler with its length at the maximum (they train every length bin in
every step: --config.train_lengths=bins "--config.train_bins=(8,12,16,20,25,28,31,36,41)",
or every length: --config.train_lengths=all), the embedding is the paper's linear one (theirs:
--config.model.hard_input=True), each position's loss counts the same (they weigh the
lengths the same: --config.loss_per_example=True), no gradient noise, optax's AdaMax (theirs
clips each gradient entry to 1.2x its running maximum: --config.optimizer=adamax_fl), 32
examples a step (theirs: 9 length bins x 32).
Measured (2-core CPU, seed 0, 2026-11-27, code d23781c): 20,000 steps in 30 min of training;
strict sequence error 0% at 20 and 25 bits, 100% at 200 and 2000; seed 1 (2026-12-05,
code 321913e, 17,800 steps in 30 min): 0% at 20 and 25 bits, 100% at 30 and 200; seeds 2
and 3 (2026-12-05, code 3079f2b, 20,000 steps in 32 and 41 min): 0% at 20 bits, 84.2% and
74.6% at 25, 99.8% and 100% at 30, 100% at 200. No seed of four generalises; with
--config.train_lengths=all also not (2026-12-04, code cf5adb8, with
--config.train_lengths=all --config.train_steps=own, 7,800 steps in 25 min: 0% at 20 bits,
91.2% at 25, 100% at 30 and 200; 2026-12-05: that with --config.batch_size=288, 4,050 steps
in 90 min, 38.1% at 25 and 100% at 30; this config with --config.optimizer=adamax_fl, code
7c50df6, 18,550 steps in 32 min, 0% at 20, 87.5% at 25, 99.8% at 30; with
--config.adapt_saturation_weight=True, code a9c4e29, 15,750 steps in 30 min, 0% at 20, 88.7%
at 25, 100% at 30 and 200; with their length bins as above, --config.batch_size=36 and
--config.loss_per_example=True, code d1eab60, 20,000 steps in 55 min, 0% at 20, 61.7% at
25, 100% at 30 and 200). Every run:
experiments/RESULTS.md (DCGRU section).
"""

from ngpu_jax.config import base_config, dcgru_recipe


def get_config():
  c = base_config()
  c.task = 'badd'
  c.max_train_digits = 20
  c.num_train_steps = 20000
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 8)
  return dcgru_recipe(c, nmaps=48, learning_rate=0.01, dropout=0.5)
