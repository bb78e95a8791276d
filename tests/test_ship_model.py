"""experiments/ship_model.py refuses a model that makes errors on random examples: a plain
message, exit status 1, nothing written into ngpu_jax/pretrained/."""

import os
import subprocess
import sys

from ngpu_jax import inference


def test_a_model_with_errors_is_refused(tiny_run):
  workdir = tiny_run  # 20 steps of the tiny config: far from exact on 30-digit sums
  name = 'test_refused_model'
  result = subprocess.run(
      [sys.executable, 'experiments/ship_model.py', f'--model={workdir}', f'--name={name}',
       '--digits=30', '--examples=32', '--hard_examples=0'],
      capture_output=True, text=True, timeout=300)
  assert result.returncode == 1, result.stderr[-2000:]
  assert 'not shipped' in result.stderr
  assert '--hard_examples' not in result.stderr  # a result, not the flags' help text
  assert not os.path.exists(os.path.join(inference.PRETRAINED_DIR, name))
