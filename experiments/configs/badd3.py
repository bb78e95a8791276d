"""badd3 (beyond the paper): three-operand binary addition a + b + c, operands of up to 20
bits in training (input length 3d + 2 = 62), tested up to 2000 bits (n = 6002).

  python -m ngpu_jax.main --config=experiments/configs/badd3.py --workdir=runs/badd3 \
      --config.num_seeds=8

The badd settings otherwise. Measured on the 2-core CPU, one seed at a time without
num_seeds (experiments/RESULTS.md, "Three-operand addition"): not learned. Seed 0
(2026-11-28, 50 minutes, 14,018 steps) and seed 1 (2026-12-04, 38 minutes, 23,689 steps)
stalled at 4 digits of the curriculum, where badd has all 20 by about 11,000 steps; seed 1
with `--config.model.nmaps=48` (65 minutes, 13,300 steps; 100% wrong at 20 bits after) and
with `--config.train_lengths=all` (28 minutes, 28,408 steps) stalled there too. The m = 24
and 48 models get the top few answer positions right at every length and guess the rest.
The improved cell with the curriculum learned it to 20 digits (dadd_dcgru.py with
--config.task=badd3, seed 0, 2026-12-04: 0.59% wrong at 20 digits after 30 minutes, 97.7% at
25, 100% at 200).
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'badd3'
  c.max_train_digits = 20
  c.num_train_steps = 30000
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 8)
  return c
