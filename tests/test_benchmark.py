"""experiments/benchmark.py: what it refuses before timing anything (the timings themselves
are its output, not something a test can check)."""

import importlib.util
import subprocess
import sys

import pytest


@pytest.mark.skipif(importlib.util.find_spec('torch') is not None, reason='torch is installed')
def test_pytorch_flag_without_torch_is_refused():
  result = subprocess.run([sys.executable, 'experiments/benchmark.py', '--pytorch'],
                          capture_output=True, text=True, timeout=120)
  assert result.returncode != 0
  assert '--pytorch needs torch' in result.stderr
  assert 'matmul' not in result.stdout  # refused before the first measurement
