"""Data parallelism on 1, 2 and 4 simulated CPU devices gives what one device gives.

The checks run in a subprocess (tests/multidevice_check.py) because the device count is
fixed when JAX starts. Tolerances: 1e-6 on the loss, 1e-5 on gradients and on the
parameters after 3 Adam steps (float32; the batch mean is summed in another order across
devices), 1e-4 after 30 steps of the full training loop (20 for a two-seeds program).
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


def test_many_seeds_on_two_devices(results):
  assert results['seeds_params_diff_2_vs_1'] <= 1e-4


def test_batch_must_divide_across_devices(results):
  assert 'must be divisible by the number of devices (4)' in results['indivisible_batch_error']


def test_bad_num_devices():
  with pytest.raises(ValueError, match='num_devices must be between 0'):
    parallel.data_mesh(99)


def test_two_processes_train_like_one_process_with_two_devices(tmp_path):
  """Two local processes (1 CPU device each, gloo collectives, jax.distributed on 127.0.0.1)
  train together and end with the parameters of one process with 2 devices."""
  import socket

  import numpy as np

  import ngpu_jax

  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
  args = [sys.executable, '-m', 'ngpu_jax.main', '--config=experiments/configs/default.py',
          '--config.num_train_steps=30', '--config.max_train_digits=3', '--config.batch_size=8',
          '--config.curriculum_every=10', '--config.checkpoint_every=10',
          '--config.lr_decay_every=10', '--config.eval_digits=(2,4)',
          '--config.eval_examples=(8,8)', '--config.model.nmaps=8', '--config.model.relax_sets=2']
  root = os.path.dirname(HERE)
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  procs = [subprocess.Popen(args + [f'--workdir={tmp_path / "two"}',
                                    f'--coordinator_address=127.0.0.1:{port}',
                                    '--num_processes=2', f'--process_id={i}'],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True) for i in range(2)]
  outputs = [p.communicate(timeout=300) for p in procs]
  for p, (out, err) in zip(procs, outputs):
    assert p.returncode == 0, err[-3000:]
  assert '2 device(s)' in outputs[0][0]
  assert 'training' not in outputs[1][0]  # process 1 logs nothing (gloo prints its own line)
  env['XLA_FLAGS'] = '--xla_force_host_platform_device_count=2'
  one = subprocess.run(args + [f'--workdir={tmp_path / "one"}'], cwd=root, env=env,
                       capture_output=True, text=True, timeout=300)
  assert one.returncode == 0, one.stderr[-3000:]
  two, single = (ngpu_jax.load(str(tmp_path / d)).params for d in ('two', 'one'))
  assert max(float(np.abs(np.asarray(two[k]) - np.asarray(single[k])).max()) for k in two) <= 1e-6
