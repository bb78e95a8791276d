"""experiments/torch_step.py, the PyTorch eager step that `benchmark.py --pytorch` times: it
must compute what the JAX train step computes (logits, gradients and the parameters after
an Adam step, dropout off), or the comparison would not be of the same step.

Skipped where torch is not installed (the project does not depend on it; CI does not
install it). Tolerances: float32 sums in another order: 1e-5 of the largest value compared,
1e-3 of the largest change for the parameters' change in one Adam step (about the learning
rate, 1e-3, for every element).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip('torch')

from conftest import load_experiment  # pylint: disable=g-import-not-at-top
from ngpu_jax import config as config_lib
from ngpu_jax import model, relaxation, train

torch_step = load_experiment('torch_step')

# kernel (kw, kh) = (5, 3): a kernel that is not square shows a swapped axis.
CONFIGS = [model.ModelConfig(nmaps=8), model.ModelConfig(nmaps=8, kernel_width=5)]


def _batch(cfg, b=3, n=9):
  rng = np.random.default_rng(0)
  return (rng.integers(1, cfg.vocab_size, (b, n)), rng.integers(0, cfg.vocab_size, (b, n)),
          np.full((b,), n, np.int32))


def _jax_kernel_layout(name, grad):
  """A torch gradient in the JAX parameter's layout."""
  grad = grad.numpy()
  return grad.transpose(0, 1, 5, 4, 3, 2) if name in ('gates_kernel', 'cand_kernel') else grad


def _close(actual, expected, tolerance=1e-5):
  np.testing.assert_allclose(actual, expected, rtol=0,
                             atol=tolerance * max(float(np.abs(expected).max()), 1e-3))


@pytest.mark.parametrize('cfg', CONFIGS, ids=['k3x3', 'k5x3'])
def test_logits_and_gradients_equal_jax(cfg):
  params = model.init_params(jax.random.key(1), cfg)
  inputs, targets, lengths = _batch(cfg)
  pull = 0.1

  def loss(params):
    logits = model.forward(params, jnp.asarray(inputs), jnp.asarray(lengths), cfg)
    return (train.masked_cross_entropy(logits, jnp.asarray(targets), jnp.asarray(lengths))
            + pull * relaxation.pull_penalty(params))

  p = torch_step.to_torch(params)
  logits = torch_step.forward(p, torch.from_numpy(inputs), cfg)
  _close(logits.detach().numpy(),
         np.asarray(model.forward(params, jnp.asarray(inputs), jnp.asarray(lengths), cfg)))
  ce = torch.nn.functional.cross_entropy(logits.reshape(-1, cfg.vocab_size),
                                         torch.from_numpy(targets).reshape(-1))
  (ce + pull * torch_step.pull_penalty(p)).backward()
  grads = jax.grad(loss)(params)
  for name, grad in grads.items():
    _close(_jax_kernel_layout(name, p[name].grad), np.asarray(grad))


def test_one_step_updates_parameters_as_jax():
  cfg = CONFIGS[0]
  config = config_lib.base_config()
  config.dropout = 0.0  # the two draw dropout from different generators
  params = model.init_params(jax.random.key(2), cfg)
  inputs, targets, lengths = _batch(cfg)
  tx = train.make_optimizer(config)
  step_fn = train.train_step_fn(cfg, tx, config.dropout)
  state, _ = jax.jit(step_fn)({'params': params, 'opt_state': tx.init(params)},
                              jnp.asarray(inputs), jnp.asarray(targets), jnp.asarray(lengths),
                              jax.random.key(0), jnp.float32(0.01), jnp.float32(0.0),
                              jnp.int32(1))
  torch_train = torch_step.make_train_step(params, cfg, config)
  torch_train(torch.from_numpy(inputs), torch.from_numpy(targets), 0.01)
  p = torch_train.params
  for name, value in state['params'].items():
    jax_change = np.asarray(value) - np.asarray(params[name])
    torch_change = _jax_kernel_layout(name, p[name].detach()) - np.asarray(params[name])
    assert np.abs(jax_change).max() > 0  # Adam moved every parameter: not a no-op compared
    _close(torch_change, jax_change, tolerance=1e-3)
