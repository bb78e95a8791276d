import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ngpu_jax import model, tasks

CFG = model.ModelConfig(nmaps=8, relax_sets=3)


def _params(cfg=CFG, seed=0):
  return model.init_params(jax.random.key(seed), cfg)


def _batch(digits=3, batch=4, task='badd', seed=0):
  x, y = tasks.sample(tasks.get(task), digits, batch, np.random.default_rng(seed))
  return jnp.asarray(x), jnp.asarray(y), jnp.full((batch,), x.shape[1], jnp.int32)


def test_shapes_and_parameter_count():
  cfg = model.ModelConfig()  # the paper's m = 24, h = 4, r = 6
  params = _params(cfg)
  chex.assert_shape(params['gates_kernel'], (6, 2, 3, 3, 24, 48))
  chex.assert_shape(params['cand_kernel'], (6, 2, 3, 3, 24, 24))
  per_set = sum(params[k][0].size for k in model.RELAXED)
  assert 30_000 <= per_set <= 32_000  # "about 30k parameters per CGRU parameter set"
  x, _, lengths = _batch()
  chex.assert_shape(model.forward(params, x, lengths, cfg), (4, 7, 14))


def test_init_ranges():
  params = _params(model.ModelConfig())
  limit = 1.8 * np.sqrt(3 / (3 * 3 * 24))
  assert float(jnp.abs(params['gates_kernel']).max()) <= limit
  assert float(jnp.abs(params['gates_kernel']).max()) > 0.9 * limit
  assert float(jnp.abs(params['embedding']).max()) <= 1.7
  assert float(jnp.abs(params['gates_bias']).max()) == 0.0


def test_gate_cutoff():
  x = jnp.array([-100.0, 0.0, 100.0])
  np.testing.assert_allclose(model.gate(x, 1.2), [0.0, 0.5, 1.0], atol=1e-6)


@pytest.mark.parametrize('height,kh', [(4, 3), (3, 1), (5, 5)])
def test_banded_form_equals_lax_conv(height, kh):
  key1, key2 = jax.random.split(jax.random.key(1))
  s = jax.random.normal(key1, (2, 9, height * 5))
  kernel = jax.random.normal(key2, (3, kh, 5, 6))
  for groups in (1, 2):
    ref = model.conv_reference(s, kernel, height, groups)
    band = model.banded_kernel(kernel, height, groups)
    chex.assert_trees_all_close(model.conv_banded(s, band, 3), ref, atol=1e-4, rtol=1e-5)
    # The form the backward pass uses: shifted copies times the banded matrix.
    chex.assert_trees_all_close(model.shift_concat(s, 3) @ band, ref, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize('kernel_batched', [True, False])
def test_conv1d_under_vmap_equals_each_member_alone(kernel_batched):
  """Under vmap conv1d uses its own rule (shifted copies times a batched matmul)."""
  x = jax.random.normal(jax.random.key(0), (3, 2, 9, 4))
  w = jax.random.normal(jax.random.key(1), (3, 3, 4, 6))
  if kernel_batched:
    out = jax.vmap(model.conv1d)(x, w)
    expected = [model.conv1d(x[k], w[k]) for k in range(3)]
  else:
    out = jax.vmap(model.conv1d, (0, None))(x, w[0])
    expected = [model.conv1d(x[k], w[0]) for k in range(3)]
  chex.assert_trees_all_close(out, jnp.stack(expected), atol=1e-5)


@pytest.mark.parametrize('kernel_width', [1, 3, 5])
def test_conv_banded_transpose_is_its_adjoint(kernel_width):
  s = jax.random.normal(jax.random.key(0), (2, 7, 4))
  w = jax.random.normal(jax.random.key(1), (4 * kernel_width, 6))
  g = jax.random.normal(jax.random.key(2), (2, 7, 6))
  _, vjp = jax.vjp(lambda v: model.shift_concat(v, kernel_width) @ w, s)
  chex.assert_trees_all_close(model.conv_banded_transpose(g, w, kernel_width), vjp(g)[0],
                              atol=1e-5)


@pytest.mark.parametrize('steps_per_symbol,extra_steps,layers,dropout,batch', [
    (1, 0, 2, 0.1, 5), (2, 0, 1, 0.0, 5), (1, 0, 3, 0.5, 5), (1, 0, 2, 0.1, 8), (2, 0, 1, 0.0, 6),
    (1, 3, 2, 0.1, 6)])
def test_forward_and_gradients_match_reference(steps_per_symbol, extra_steps, layers, dropout,
                                               batch):
  """The banded form with its hand-written VJP and autodiff of the lax.conv_general_dilated
  form agree on outputs and on the gradient of every parameter (fp32, tolerance 1e-5
  absolute and 1e-4 relative), with mixed lengths (frozen examples, padded positions).
  Batches of 5 and of 6 or 8 run on a CPU in 1 and 2 parts (`model.batch_groups`)."""
  cfg = model.ModelConfig(nmaps=8, relax_sets=4, layers=layers, steps_per_symbol=steps_per_symbol,
                          extra_steps=extra_steps)
  params = _params(cfg)
  x, y, _ = _batch(digits=4, batch=batch)  # n = 9; 4 relaxed sets do not divide 9 steps
  lengths = jnp.array([9, 7, 3, 9, 1, 4, 9, 2][:batch], jnp.int32)
  key = jax.random.key(3)

  def loss(p, impl):
    logits = model.forward(p, x, lengths, cfg, dropout_rate=dropout, dropout_key=key,
                           conv_impl=impl)
    return jnp.mean(jax.nn.log_softmax(logits)[..., 2] * jnp.arange(9.0)), logits

  if jax.default_backend() == 'cpu':
    assert model.batch_groups(batch) == {5: 1, 6: 2, 8: 2}[batch]

  (l1, o1), g1 = jax.value_and_grad(loss, has_aux=True)(params, 'banded')
  (l2, o2), g2 = jax.value_and_grad(loss, has_aux=True)(params, 'reference')
  chex.assert_trees_all_close(o1, o2, atol=1e-5, rtol=1e-5)
  chex.assert_trees_all_close(g1, g2, atol=1e-5, rtol=1e-4)
  assert all(float(jnp.abs(g).max()) > 0 for g in jax.tree.leaves(g1))


@pytest.mark.parametrize('steps_per_symbol,extra_steps', [(1, 0), (2, 0), (1, 3)])
def test_bucket_padding_does_not_change_outputs(steps_per_symbol, extra_steps):
  cfg = model.ModelConfig(nmaps=8, relax_sets=3, steps_per_symbol=steps_per_symbol,
                          extra_steps=extra_steps)
  params = _params(cfg)
  x, _, lengths = _batch(digits=3)  # n = 7
  own = model.forward(params, x, lengths, cfg)
  wide = model.forward(params, jnp.pad(x, ((0, 0), (0, 9))), lengths, cfg)  # bucket 16
  chex.assert_trees_all_close(wide[:, :7], own, atol=1e-5)


def test_mixed_lengths_in_one_batch():
  """Each row gets its own number of steps: a batch of rows of widths 3, 5 and 9 padded to 9
  gives each row what it gives alone."""
  params = _params()
  rows, outs = [], []
  for digits in (1, 2, 4):
    x, _, lengths = _batch(digits=digits, batch=1, seed=digits)
    outs.append(model.forward(params, x, lengths, CFG)[0])
    rows.append(np.pad(np.asarray(x[0]), (0, 9 - x.shape[1])))
  lengths = jnp.array([3, 5, 9])
  batch = model.forward(params, jnp.asarray(np.stack(rows)), lengths, CFG)
  for i, out in enumerate(outs):
    chex.assert_trees_all_close(batch[i, :out.shape[0]], out, atol=1e-5)


def test_step_count_is_the_length():
  """An example of width n is read after n steps: the trace's states show that one more
  step would change the output; its last readout is the forward pass's output."""
  params = _params()
  x, _, lengths = _batch(digits=2)  # n = 5
  logits = model.forward(params, x, lengths, CFG)
  traced = model.trace(params, x, lengths, CFG)
  f = CFG.height * CFG.nmaps
  chex.assert_shape(traced['states'], (5, 4, 5, f))
  chex.assert_shape([traced['update'], traced['reset']], [(5, CFG.layers, 4, 5, f)] * 2)
  chex.assert_shape(traced['logits'], (5, 4, 5, 14))
  chex.assert_trees_all_close(traced['logits'][-1], logits, atol=1e-5)
  assert not np.allclose(traced['states'][-2], traced['states'][-1])
  assert float(traced['update'].min()) >= 0.0 and float(traced['update'].max()) <= 1.0


@pytest.mark.parametrize('extra_steps', [1, 4])
def test_extra_steps_read_the_state_after_n_plus_k_steps(extra_steps):
  """model.extra_steps = K: an example of width n is read after n + K steps, the relaxed sets
  still cycling t mod r: the readout of step n + K of a longer trace."""
  params = _params()
  x, _, lengths = _batch(digits=2)  # n = 5
  out = model.forward(params, x, lengths, dataclasses.replace(CFG, extra_steps=extra_steps))
  traced = model.trace(params, x, lengths, dataclasses.replace(CFG, steps_per_symbol=2))
  chex.assert_trees_all_close(out, traced['logits'][5 + extra_steps - 1], atol=1e-5)
  assert not np.allclose(out, model.forward(params, x, lengths, CFG))


def test_relaxed_set_of_step_t_is_t_mod_r():
  """Making set 1 different changes the output only when step 1 exists."""
  params = _params()
  changed = dict(params)
  changed['cand_bias'] = params['cand_bias'].at[1].add(1.0)
  x1, _, l1 = _batch(digits=1, task='copy')  # n = 1: only step 0 (set 0)
  chex.assert_trees_all_close(model.forward(params, x1, l1, CFG),
                              model.forward(changed, x1, l1, CFG))
  x2, _, l2 = _batch(digits=2, task='copy')  # n = 2: steps 0, 1
  assert not np.allclose(model.forward(params, x2, l2, CFG), model.forward(changed, x2, l2, CFG))


def test_dropout_is_keyed():
  params = _params()
  x, _, lengths = _batch()
  f = lambda k: model.forward(params, x, lengths, CFG, dropout_rate=0.5, dropout_key=k)
  chex.assert_trees_all_close(f(jax.random.key(1)), f(jax.random.key(1)))
  assert not np.allclose(f(jax.random.key(1)), f(jax.random.key(2)))
  assert not np.allclose(f(jax.random.key(1)), model.forward(params, x, lengths, CFG))


@pytest.mark.parametrize('keep_prob,f', [(0.9, 96), (0.5, 7)])
def test_dropout_masks_keep_rate_and_do_not_depend_on_width(keep_prob, f):
  key = jax.random.key(3)
  wide = model.dropout_masks(key, keep_prob, 12, 4, 20, f)
  narrow = model.dropout_masks(key, keep_prob, 5, 4, 9, f)
  chex.assert_shape(wide, (12, 4, 20, f))
  np.testing.assert_array_equal(wide[:5, :, :9], narrow)
  # 12 * 4 * 20 * f Bernoulli draws: the mean within 5 standard deviations.
  count = wide.size
  assert abs(float(wide.mean()) - keep_prob) < 5 * np.sqrt(keep_prob * (1 - keep_prob) / count)


def test_dropout_masks_are_uncorrelated_across_steps_positions_rows_and_maps():
  """The hashed mask words (model._mix32) look independent: neighbouring steps, positions,
  batch rows and maps agree as often as independent draws would (within 5 standard
  deviations), and different keys give different masks."""
  keep_prob = 0.5  # the largest variance: agreement 0.5 for independent draws
  keep = np.asarray(model.dropout_masks(jax.random.key(5), keep_prob, 16, 8, 16, 32))
  for axis in range(4):  # every mask value against its neighbour along T, B, N or F
    along = np.moveaxis(keep, axis, 0)
    agree = float((along[:-1] == along[1:]).mean())
    assert abs(agree - 0.5) < 5 * np.sqrt(0.25 / along[1:].size), (axis, agree)
  other = np.asarray(model.dropout_masks(jax.random.key(6), keep_prob, 16, 8, 16, 32))
  assert abs(float((keep == other).mean()) - 0.5) < 5 * np.sqrt(0.25 / keep.size)


def test_flax_module_wraps_forward():
  params = _params()
  x, _, lengths = _batch()
  out = model.NeuralGPU(CFG).apply({'params': params}, x, lengths)
  chex.assert_trees_all_close(out, model.forward(params, x, lengths, CFG))


@pytest.mark.parametrize('field,value', [('nmaps', 0), ('height', -1), ('kernel_width', 2),
                                         ('relax_sets', 1.5), ('extra_steps', -1)])
def test_bad_model_config(field, value):
  with pytest.raises(ValueError, match=f'model.{field}'):
    model.ModelConfig(**{field: value})
