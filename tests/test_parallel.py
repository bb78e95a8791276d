"""Data parallelism on 1, 2 and 4 simulated CPU devices gives what one device gives.

The checks run in a subprocess (tests/multidevice_check.py) because the device count is
fixed when JAX starts. Tolerances: 1e-6 on the loss, 1e-5 on gradients and on the
parameters after 3 Adam steps (float32; the batch mean is summed in another order across
devices), 1e-4 after 30 steps of the full training loop.
"""

import json
import os
import subprocess
import sys

import pytest

from ngpu_jax import parallel

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope='module')
def results():
  env = dict(os.environ, JAX_PLATFORMS='cpu',
             XLA_FLAGS='--xla_force_host_platform_device_count=4')
  proc = subprocess.run([sys.executable, os.path.join(HERE, 'multidevice_check.py')], env=env,
                        capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize('devices', ['1', '2', '4'])
def test_same_loss_gradients_and_parameters(results, devices):
  r = results[devices]
  assert r['batch_devices'] == int(devices) and r['param_devices'] == int(devices)
  assert r['loss_diff'] <= 1e-6
  assert r['grad_diff'] <= 1e-5
  assert r['params_diff_after_3_steps'] <= 1e-5


@pytest.mark.parametrize('move', ['restore_4_to_1', 'restore_1_to_2'])
def test_checkpoint_restores_on_another_device_count(results, move):
  assert results[move]['equal'] and results[move]['devices'] == int(move[-1])


def test_training_loop_on_two_devices(results):
  assert results['train_and_evaluate_params_diff_2_vs_1'] <= 1e-4


def test_batch_must_divide_across_devices(results):
  assert 'must be divisible by the number of devices (4)' in results['indivisible_batch_error']


def test_bad_num_devices():
  with pytest.raises(ValueError, match='num_devices must be between 0'):
    parallel.data_mesh(99)
