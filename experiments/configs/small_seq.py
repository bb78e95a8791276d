"""Small, fast runs of the sequence tasks (copy, rev, dup, sort): 8 seeds in one program,
sequences of length up to 8, the learning test's recipe (tests/test_learning.py).

  python -m ngpu_jax.main --config=experiments/configs/small_seq.py --config.task=copy \
      --workdir=runs/small_copy

Trained on lengths <= 8 (the paper's sequence tasks use 41: experiments/configs/copy.py etc.),
tested at 8, 16, 32 and 401 (128 examples each, every member). Measured: see
experiments/RESULTS.md ("Sequence tasks, small models"), every run of this config.

The small badd ablations (RESULTS.md, "Ablations ... on badd, small models") use it too, 4
seeds per program (seeds 0-3, and 4-7 with --config.seed=4), operands of up to 8 bits (n = 17),
18-29 minutes of training per program on the 2-core CPU (2026-11-29, code f17c955 and fa62bb7
and the unchanged library of 3516d31):

  python -m ngpu_jax.main --config=experiments/configs/small_seq.py --config.task=badd \
      --config.num_seeds=4 '--config.eval_digits=(8,16,32,64)' \
      '--config.eval_examples=(128,128,128,128)' --workdir=runs/abl/base [--config.dropout=0.0]

there, over seeds 0-7, the full recipe was 1-7% wrong at 8 bits and 3-85% at 16; dropout off
0-2% and 5-77%; relaxation off 3-67% and 27-100%; gradient noise 1e-4 2-81% and 6-100%;
curriculum and relaxation off 97-100% at 8 bits (not learned).

The small bmul ablations (RESULTS.md, "On bmul, small models") use it with --config.task=bmul
and --config.num_train_steps=6000, 4 seeds per program, 37-42 minutes each (2026-11-29): no
member reached 8 bits; at 5 bits the full recipe was 15-48% wrong, relaxation off 37-50%,
dropout off 2-14%, gradient noise 1e-4 19-38%, curriculum and relaxation off 69-76%
(experiments/eval_members.py, 128 products per member).
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'copy'
  c.num_seeds = 8
  c.max_train_digits = 8
  c.curriculum_start = 2
  c.num_train_steps = 3000
  c.batch_size = 16
  c.learning_rate = 0.003
  c.curriculum_every = 25
  c.lr_decay_every = 100
  c.checkpoint_every = 500
  c.eval_digits = (8, 16, 32, 401)
  c.eval_examples = (128, 128, 128, 128)
  c.eval_batch_size = 64
  c.model.nmaps = 24
  c.model.relax_sets = 3
  return c
