"""experiments/ship_model.py refuses a model that makes errors on random examples: a plain
message, exit status 1, nothing written into ngpu_jax/pretrained/; --extra_steps tests and
ships a model run longer."""

import json
import os
import shutil
import subprocess
import sys

from ngpu_jax import inference


def ship(*args):
  return subprocess.run([sys.executable, 'experiments/ship_model.py', *args],
                        capture_output=True, text=True, timeout=300)


def test_a_model_with_errors_is_refused(tiny_run):
  workdir = tiny_run  # 20 steps of the tiny config: far from exact on 30-digit sums
  name = 'test_refused_model'
  result = ship(f'--model={workdir}', f'--name={name}', '--digits=30', '--examples=32',
                '--hard_examples=0')
  assert result.returncode == 1, result.stderr[-2000:]
  assert 'not shipped' in result.stderr
  assert '--hard_examples' not in result.stderr  # a result, not the flags' help text
  assert not os.path.exists(os.path.join(inference.PRETRAINED_DIR, name))


def test_extra_steps_are_tested_and_shipped():
  # pretrained/copy stays exact 2 steps past its inputs; pretrained/rev does not (it is 100%
  # wrong so: the reversal goes on moving), so the flag must reach the evaluation.
  name = 'test_shipped_with_extra_steps'
  directory = os.path.join(inference.PRETRAINED_DIR, name)
  try:
    result = ship('--model=pretrained/copy', f'--name={name}', '--digits=8', '--examples=16',
                  '--extra_steps=2')
    assert result.returncode == 0, result.stderr[-2000:]
    assert inference.load(f'pretrained/{name}').model_config.extra_steps == 2
    with open(os.path.join(directory, 'info.json')) as f:
      assert json.load(f)['extra_steps'] == 2
  finally:
    shutil.rmtree(directory, ignore_errors=True)
  refused = ship('--model=pretrained/rev', f'--name={name}', '--digits=8', '--examples=16',
                 '--extra_steps=2')
  assert refused.returncode == 1 and 'not shipped' in refused.stderr
  assert not os.path.exists(directory)


def test_a_negative_extra_steps_is_a_usage_error():
  result = ship('--model=pretrained/copy', '--name=test_never_shipped', '--digits=8',
                '--examples=16', '--extra_steps=-1')
  assert result.returncode != 0 and 'extra_steps' in result.stderr
  assert not os.path.exists(os.path.join(inference.PRETRAINED_DIR, 'test_never_shipped'))
