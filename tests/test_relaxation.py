import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ngpu_jax import model, relaxation

CFG = model.ModelConfig(nmaps=8, relax_sets=3)


def _params():
  return model.init_params(jax.random.key(0), CFG)


def test_pull_penalty_formula():
  params = _params()
  expected = 0.0
  for name in model.RELAXED:
    v = np.asarray(params[name], np.float64)
    expected += ((v - v.mean(0, keepdims=True))**2).sum()
  np.testing.assert_allclose(float(relaxation.pull_penalty(params)), expected, rtol=1e-5)
  assert float(relaxation.pull_penalty(relaxation.average_sets(params))) < 1e-8


def test_pull_schedule_grows_to_cap():
  pull = relaxation.pull_schedule(0.0005, 1.2, 0.1)
  np.testing.assert_allclose(float(pull(0)), 0.0005, rtol=1e-6)
  np.testing.assert_allclose(float(pull(3)), 0.0005 * 1.2**3, rtol=1e-6)
  np.testing.assert_allclose(float(pull(100)), 0.1, rtol=1e-6)


def test_merge_gives_one_set_with_the_same_function():
  params = _params()
  merged = relaxation.merge(params)
  assert relaxation.num_sets(merged) == 1
  chex.assert_shape(merged['gates_kernel'], (1,) + params['gates_kernel'].shape[1:])
  chex.assert_trees_all_equal(merged['embedding'], params['embedding'])
  x = jnp.array([[2, 1, 2, 11, 1, 2, 2]])
  lengths = jnp.array([7])
  chex.assert_trees_all_close(model.forward(merged, x, lengths, CFG),
                              model.forward(relaxation.average_sets(params), x, lengths, CFG),
                              atol=1e-5)


def test_merge_maps_optimizer_moments():
  params = _params()
  tx = optax.adam(1e-3)
  state = tx.init(params)
  state = jax.tree.map(lambda x: x + 1.0 if x.ndim else x, state)
  merged = relaxation.merge(state)
  mu = merged[0].mu
  assert mu['gates_kernel'].shape[0] == 1 and mu['embedding'].shape == params['embedding'].shape
  # The merged state fits the merged params.
  new_params = relaxation.merge(params)
  updates, _ = tx.update(jax.tree.map(jnp.ones_like, new_params), merged, new_params)
  chex.assert_trees_all_equal_shapes(updates, new_params)
