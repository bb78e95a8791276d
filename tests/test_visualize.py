"""Pictures of a (tiny, briefly trained) model: every file is written and is a real image."""

import os

import numpy as np
import pytest

import ngpu_jax
from ngpu_jax import visualize


@pytest.fixture
def workdir(tiny_run):
  return tiny_run


def test_trace_of_one_example(workdir):
  predictor = ngpu_jax.load(workdir)
  traced = visualize.trace_text(predictor, '101+11')  # n = 7
  f = predictor.model_config.height * predictor.model_config.nmaps
  assert traced['states'].shape == (7, 7, f)
  assert traced['update'].shape == (7, predictor.model_config.layers, 7, f)
  assert traced['logits'].shape == (7, 7, 14)
  np.testing.assert_array_equal(traced['targets'][:4], [1, 1, 1, 2])  # 5 + 3 = 1000b, LSD first


def test_write_all(workdir, tmp_path):
  paths = visualize.write_all(ngpu_jax.load(workdir), '1101+0111', str(tmp_path),
                              os.path.join(workdir, 'metrics.jsonl'))
  names = sorted(os.path.basename(p) for p in paths)
  assert names == ['gates.png', 'learning_curves.png', 'readout.png', 'state.gif', 'state.png']
  for path in paths:
    head = open(path, 'rb').read(8)
    assert head.startswith(b'\x89PNG') or head.startswith(b'GIF8'), path
    assert os.path.getsize(path) > 2000


def test_bad_input_text(workdir, tmp_path):
  with pytest.raises(ValueError, match="joined by '\\+'"):
    visualize.write_all(ngpu_jax.load(workdir), '101', str(tmp_path))
