"""badd with the improved cell and as much of Freivalds & Liepins' own recipe as this library
has, all at once (SPEC.md section 7; their DNGPU_trainer.py with its badd settings).

  python -m ngpu_jax.main --config=experiments/configs/badd_dcgru_theirs.py \
      --workdir=runs/badd_dcgru_theirs_s0

`badd_dcgru.py` plus: 288 examples a step (their 9 length bins x 32), every length of 1-20
bits in every batch (uniform over the digits; theirs: 32 from each bin), each example run
for its own width in steps (theirs: its bin's width, up to 7 more, and 5% of a bin's
examples come from shorter bins; --config.train_lengths=bins with their
--config.train_bins and --config.train_steps=bucket gives that), each example's mean loss
counting the same (they weigh the bins the same), their input layer (a hard tanh with
dropout and its own saturation cost), their AdaMax (each gradient entry clipped to 1.2x its
running maximum, no bias correction) and their adaptive saturation weight, for their 20,000
steps. Still different: the training examples are drawn fresh (theirs: a fixed set of 10,000
per length), no gradient noise (theirs: lr x 1e-4; at least 36 times below AdaMax's running
maximum of every cell weight's gradient at the end of this run, so negligible), the
learning-rate decay's stall test (ours: a 200-step window's loss above each of the 3 before
it; theirs: the last two above the one before), and the embedding's form (tanh(E[i]) @ K +
b; theirs: a 1x1 convolution of the one-hot symbol).
Measured (2-core CPU, jax 0.10.2, fp32, seed 0, 2026-12-05): 0.65 steps/s, so the 20,000
steps take about 8.5 hours here. Stopped at 85 minutes of training (3,250 steps, code
a9c4e29): 80.9% wrong at 20 bits, 99.6% at 25, 100% at 30 and 200. Resumed (code 222fcc7,
--config.train_minutes=225) and stopped by SIGTERM at step 7,759 (201 minutes in all):
training sequence error 2.2%, the learning rate decayed once (0.007), 97.9% wrong at 20 bits
in eval mode (at best 76.6%, step 7,000) but 5% with training's dropout on, and 0% with the
candidate scaled by 1.3 at every step instead; 100% wrong at 25 bits in eval mode, 63.5% at
scale 1.3; 28-100% at 30 bits at every scale tried. Resumed again (code 2fd8e7c,
--config.train_minutes=340, 0.75 steps/s) and stopped by SIGTERM at step 13,008 (320
minutes in all): training error 0.9%, learning rate 0.0024; still 89-95% wrong at 20 bits
and 100% at 25 in eval mode (steps 8,000-13,008); with the candidate scaled by 1.3-1.5, 0-1.2%
at 20 bits, at best 0.4% at 25 (step 12,000), 7.0% at 30 (step 10,000) and 91% at 40. Resumed
once more (code 6eab7bd, --config.train_minutes=480, 0.83 steps/s) to the 20,000 steps
(464 minutes of training in all): training error 0.5%, learning rate 0.0004; its final
evaluation 86.5% wrong at 20 bits, 100% at 25, 30 and 200; with the candidate scaled, at best
0-0.8% at 20 bits, 0.8-3.5% at 25, 16-41% at 30 and 99.6-100% at 40 (checkpoints 14,000,
16,000, 18,000 and 20,000). Not generalised. The final checkpoint is kept in
experiments/runs/2026-12-05_cpu_badd_dcgru_theirs_s0. experiments/RESULTS.md (DCGRU section,
"Their whole recipe at once").
"""

from ngpu_jax.config import base_config, dcgru_recipe


def get_config():
  c = base_config()
  c.task = 'badd'
  c.max_train_digits = 20
  c.num_train_steps = 20000
  c.eval_digits = (20, 25, 30, 200)
  c.eval_examples = (512, 512, 512, 64)
  c = dcgru_recipe(c, nmaps=48, learning_rate=0.01, dropout=0.5)
  c.batch_size = 288
  c.train_lengths = 'all'
  c.train_steps = 'own'
  c.loss_per_example = True
  c.optimizer = 'adamax_fl'
  c.adapt_saturation_weight = True
  c.model.hard_input = True
  c.keep_checkpoint_every = 1000
  return c
