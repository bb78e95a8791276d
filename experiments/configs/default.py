"""Default: a small binary-addition run that finishes in minutes on a laptop CPU.

  python -m ngpu_jax.main --config=experiments/configs/default.py --workdir=/tmp/ngpu_default

Trains badd with the curriculum up to 8-digit operands for 3000 steps, then evaluates at 4, 8
and 16 digits. It shows the curriculum at work, not generalisation: that takes the full
badd.py config (an hour or more).
Measured 2026-11-27, seed 0, idle 2-core CPU, code f5b5f0d (dropout masks keyed by step and
position): 2 min 45 s in all (157 s of training, 4 min 20 s of user time); the curriculum
reached 7 digits; strict sequence error 0.6% at 4 digits (lenient 0%: the errors are symbols
written after the answer), 83.0% at 8, 100% at 16 (512, 512, 128 examples). Earlier code
(4b0d3e3, masks from jax.random.bernoulli) on a shared CPU: 7 min 26 s, 6 digits, 3.3% /
97.7% / 100%. Code 9a7b989 (the input gradient as a 1-D convolution: gradients equal to
1e-9, but the run takes another path), 2026-11-29, a fresh clone on the 2-core CPU at about
half its usual speed: 314 s of training, 6 min 43 s with the install; the curriculum reached
6 digits; 2.1% (lenient 1.6%) / 96.5% / 100%. Code c58a98c (hashed dropout masks, another
random stream), 2026-11-29, a fresh clone: 279 s of training, 5 min 58 s with the install; 6
digits; 4.9% (lenient 4.9%) / 99.4% / 100%. Again with a fresh clone of d4f99c7 (same
library), 2026-11-29: the same rates, 303 s of training, 6 min 29 s with the install. A fresh
clone of 5124e75 (the same training code), 2026-12-03, the machine running fast: 189 s of
training, 3 min 50 s with the install; 6 digits; 7.2% (lenient 7.2%) / 99.2% / 100%: not the
same run step for step as on 2026-11-29. Rerun on the same machine, code 80250fb, 2026-12-03
(287 s of training, another job sharing the CPU): the same 7.2% / 99.2% / 100%, and its log
first differs from c58a98c's at step 350, loss 0.2078 against 0.2077, the same losses to four
decimals before: a rounding-sized difference between the two machines' CPUs, grown by
training (experiments/logs/2026-12-03_cpu_default_80250fb.log). A fresh clone of 5cbdfe8
(the batch in two halves, so the gradients are summed in another order), 2026-12-04: 132 s
of training, 163 s with the install; 6 digits; 0% / 99.2% / 100% (its losses first differ
from 80250fb's at step 450; experiments/logs/2026-12-04_cpu_default_5cbdfe8.log). The same
training code later that day on this machine at half speed (code 455bbdf, the development
venv): 219 s of training; 6 digits; 2.1% (lenient 2.1%) / 99.2% / 100%; its log first
differs from 5cbdfe8's at step 300 and equals cf5adb8's on that machine: the machine again.
A fresh clone of 222fcc7 (the same training code), 2026-12-05: 301 s of training, 6 min 0 s
with the install; 6 digits; 2.1% (lenient 2.1%) / 99.2% / 100%; its log's steps equal
455bbdf's (experiments/logs/2026-12-05_cpu_default_222fcc7.log). A fresh clone of 5e9988f
(model.extra_steps added, 0 here), 2026-12-06: 135 s of training, 166 s with the install; 6
digits; 0% / 99.2% / 100%; its losses equal 5cbdfe8's at every step, and 8fcc181 gave the same
metrics on this machine that day (experiments/logs/2026-12-06_cpu_default_5e9988f.log).
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'badd'
  c.max_train_digits = 8
  c.num_train_steps = 3000
  c.eval_digits = (4, 8, 16)
  c.eval_examples = (512, 512, 128)
  return c
