"""SIGKILL at random moments, restart on the same workdir: the run ends bitwise identical to
an uninterrupted one (experiments/kill_resume.py, 2 cycles on a short run)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_two_kill_resume_cycles_end_identical(tmp_path):
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  result = subprocess.run(
      [sys.executable, 'experiments/kill_resume.py', '--cycles=2', '--num_train_steps=150',
       '--checkpoint_every=10', '--max_kill_s=3', f'--workdir={tmp_path}', '--json'],
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stdout + result.stderr
  summary = json.loads(result.stdout.strip().splitlines()[-1])
  assert summary['resumed'] == 2 and summary['identical'] and summary['final_step'] == 150
  assert summary['from_checkpoint'] >= 1  # the second restart continued the first one's run
