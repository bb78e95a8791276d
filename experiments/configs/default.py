"""Default: a small binary-addition run that finishes in minutes on a laptop CPU.

  python -m ngpu_jax.main --config=experiments/configs/default.py --workdir=/tmp/ngpu_default

Trains badd with the curriculum up to 8-digit operands for 3000 steps, then evaluates at 4, 8
and 16 digits. It shows the curriculum at work, not generalisation: that takes the full
badd.py config (an hour or more).
Measured 2026-11-27, seed 0, 2-core CPU, code 4b0d3e3 (banded form with its own VJP): 7 min
26 s in all (427 s of training) while another training and the test suite shared the two
cores (the run got about half a core: 3 min 52 s of user time); the curriculum reached 6
digits; strict sequence error 3.3% at 4 digits (lenient 0%: the errors are symbols written
after the answer), 97.7% at 8, 100% at 16 (512, 512, 128 examples). Earlier code (691561b,
JAX's own gradient) under lighter sharing: 6 min 43 s, 6 digits, 4.7% / 95.3% / 100%.
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
