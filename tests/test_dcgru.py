"""The improved cell of Freivalds & Liepins 2017 (model.cell = 'dcgru') and what its recipe
adds to training: AdaMax, a learning-rate floor, examples run for their bucket's width."""

import dataclasses
import json

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ngpu_jax import config as config_lib
from ngpu_jax import inference, model, tasks, train
from conftest import tiny_config

CFG = model.ModelConfig(cell='dcgru', nmaps=9, height=1, kernel_height=1, layers=1,
                        relax_sets=1, init_scale=1.0)


def _params(cfg=CFG, seed=0):
  return model.init_params(jax.random.key(seed), cfg)


def _batch(digits=3, batch=4, seed=0):
  x, y = tasks.sample(tasks.get('badd'), digits, batch, np.random.default_rng(seed))
  return jnp.asarray(x), jnp.asarray(y), jnp.full((batch,), x.shape[1], jnp.int32)


def test_diagonal_shift_moves_a_third_each_way():
  s = np.arange(2 * 5 * 2 * 7, dtype=np.float32).reshape(2, 5, 2 * 7)  # H = 2 rows of M = 7
  out = np.asarray(model.diagonal_shift(jnp.asarray(s), 7))
  expected = np.zeros_like(s)
  for h in range(2):
    for c in range(7):
      f = h * 7 + c
      for i in range(5):
        src = i if c < 3 else i - 1 if c < 5 else i + 1  # k = 2: maps 3-4 from i-1, 5-6 from i+1
        expected[:, i, f] = s[:, src, f] if 0 <= src < 5 else 0.0
  np.testing.assert_array_equal(out, expected)


def test_one_cell_against_numpy():
  """One DCGRU on a 1-row state, written out per position in numpy (no dropout)."""
  params = _params()
  m, n = CFG.nmaps, 6
  s = np.asarray(jax.random.normal(jax.random.key(1), (2, n, m)))
  w = jax.tree.map(lambda x: x[0, 0], model.prepare_weights(params, CFG))
  new, _, cost = model.dcgru(jnp.asarray(s), w, CFG, None, 0.0, jnp.ones((2, n, 1)))

  gk = np.asarray(params['gates_kernel'][0, 0, :, 0])  # [kw, M, 2M]
  ck = np.asarray(params['cand_kernel'][0, 0, :, 0])
  gb = np.asarray(params['gates_bias'][0, 0]) + np.repeat([0.7, 0.5], m)
  cb = np.asarray(params['cand_bias'][0, 0])
  at = lambda x, i: x[:, i] if 0 <= i < n else np.zeros_like(x[:, 0])
  conv = lambda x, kernel, bias: np.stack(
      [sum(at(x, i + dx - 1) @ kernel[dx] for dx in range(3)) + bias for i in range(n)], axis=1)
  hsig = lambda x: np.clip(0.5 * x + 0.5, 0, 1)
  k = m // 3
  gpre_all = conv(s, gk, gb)  # [u, r]
  r_all = hsig(gpre_all[..., m:])
  cpre_all = conv(r_all * s, ck, cb)
  u_all, c_all = hsig(gpre_all[..., :m]), np.clip(cpre_all, -1, 1)
  shifted = np.concatenate([s[..., :m - 2 * k],
                            np.pad(s[:, :-1, m - 2 * k:m - k], ((0, 0), (1, 0), (0, 0))),
                            np.pad(s[:, 1:, m - k:], ((0, 0), (0, 1), (0, 0)))], axis=-1)
  expected = u_all * shifted + (1 - u_all) * c_all
  expected_cost = (np.maximum(np.abs(gpre_all) - 0.9, 0).sum()
                   + np.maximum(np.abs(cpre_all) - 0.9, 0).sum())
  np.testing.assert_allclose(np.asarray(new), expected, atol=1e-5)
  np.testing.assert_allclose(float(cost), expected_cost, rtol=1e-5, atol=1e-5)


def test_input_layer_is_a_hard_tanh_with_its_own_saturation_cost():
  """Freivalds & Liepins' input layer: s0 = hard tanh of the linear embedding, whose
  pre-activations beyond 0.9 cost once per step of their example (per position-step)."""
  cfg = dataclasses.replace(CFG, hard_input=True)
  params = _params()
  params = dict(params, in_kernel=params['in_kernel'] * 8.0)  # saturate the input layer
  for name in ('gates_kernel', 'cand_kernel', 'gates_bias', 'cand_bias'):  # cells cost 0
    params[name] = jnp.zeros_like(params[name])
  x, _, _ = _batch(digits=3)  # n = 7
  lengths = jnp.array([7, 7, 5, 3], jnp.int32)
  pre = model.embed_linear(params, x)
  np.testing.assert_allclose(model.embed(params, x, cfg), np.clip(pre, -1, 1))
  np.testing.assert_allclose(model.embed(params, x, CFG), pre)  # the paper's, unbounded
  live = np.arange(7)[None, :] < np.asarray(lengths)[:, None]
  excess = np.maximum(np.abs(np.asarray(pre)) - 0.9, 0).sum(-1)  # [B, N]
  steps = np.asarray(lengths)
  expected = (excess * live * steps[:, None]).sum() / (steps * steps).sum()
  assert expected > 0
  cost = model.forward_with_saturation(params, x, lengths, cfg)[1]
  np.testing.assert_allclose(float(cost), expected, rtol=1e-5)
  assert float(model.forward_with_saturation(params, x, lengths, CFG)[1]) == 0.0
  with pytest.raises(ValueError, match='hard_input'):
    model.ModelConfig(hard_input=True)  # the paper's cell has no such layer


def test_conv_banded_vjp_equals_autodiff_of_the_matmul_form():
  x = jax.random.normal(jax.random.key(0), (3, 7, 8))
  w = jax.random.normal(jax.random.key(1), (3 * 8, 5))
  g = jax.random.normal(jax.random.key(2), (3, 7, 5))
  out, vjp = jax.vjp(lambda a, b: model.conv_banded(a, b, 3), x, w)
  ref_out, ref_vjp = jax.vjp(lambda a, b: model.shift_concat(a, 3) @ b, x, w)
  chex.assert_trees_all_close(out, ref_out, atol=1e-5)
  chex.assert_trees_all_close(vjp(g), ref_vjp(g), atol=1e-4)


@pytest.mark.parametrize('height,kernel_height,layers,hard_input',
                         [(1, 1, 1, True), (2, 3, 2, False)])
def test_forward_saturation_and_gradients_match_reference(height, kernel_height, layers,
                                                          hard_input):
  """The banded form (conv VJP by matmuls) and autodiff of the 2-D lax.conv form agree on
  outputs, saturation cost and every gradient (fp32; 1e-5 absolute and 1e-4 relative), with
  mixed lengths, dropout, 2 relaxed sets and a loss that includes the cost."""
  cfg = model.ModelConfig(cell='dcgru', nmaps=9, height=height, kernel_height=kernel_height,
                          layers=layers, relax_sets=2, init_scale=1.5, hard_input=hard_input)
  params = _params(cfg)
  x, _, _ = _batch(digits=4, batch=5)  # n = 9
  lengths = jnp.array([9, 7, 3, 9, 1], jnp.int32)
  key = jax.random.key(3)

  def loss(p, impl):
    logits, cost = model.forward_with_saturation(p, x, lengths, cfg, dropout_rate=0.3,
                                                 dropout_key=key, conv_impl=impl)
    return jnp.mean(jax.nn.log_softmax(logits)[..., 2] * jnp.arange(9.0)) + cost, (logits, cost)

  (_, (o1, c1)), g1 = jax.value_and_grad(loss, has_aux=True)(params, 'banded')
  (_, (o2, c2)), g2 = jax.value_and_grad(loss, has_aux=True)(params, 'reference')
  chex.assert_trees_all_close(o1, o2, atol=1e-5, rtol=1e-5)
  chex.assert_trees_all_close(c1, c2, atol=1e-6, rtol=1e-5)
  assert float(c1) > 0  # init_scale 1.5 saturates some pre-activations
  chex.assert_trees_all_close(g1, g2, atol=1e-5, rtol=1e-4)
  assert all(float(jnp.abs(g).max()) > 0 for g in jax.tree.leaves(g1))


def test_padding_changes_neither_outputs_nor_saturation():
  cfg = dataclasses.replace(CFG, init_scale=2.0)
  params = _params(cfg)
  x, _, lengths = _batch(digits=3)  # n = 7
  own, own_cost = model.forward_with_saturation(params, x, lengths, cfg)
  wide, wide_cost = model.forward_with_saturation(params, jnp.pad(x, ((0, 0), (0, 9))),
                                                  lengths, cfg)
  chex.assert_trees_all_close(wide[:, :7], own, atol=1e-5)
  chex.assert_trees_all_close(wide_cost, own_cost, rtol=1e-5)
  assert float(own_cost) > 0


def test_saturation_is_zero_below_the_limit_and_cgru_has_none():
  zeros = jax.tree.map(jnp.zeros_like, _params())  # pre-activations = the bias starts 0.7, 0.5
  x, _, lengths = _batch()
  assert float(model.forward_with_saturation(zeros, x, lengths, CFG)[1]) == 0.0
  cgru = model.ModelConfig(nmaps=8, relax_sets=2)
  assert float(model.forward_with_saturation(_params(cgru), x, lengths, cgru)[1]) == 0.0


def test_trace_gates_are_hard_sigmoids():
  params = _params()
  x, _, lengths = _batch(digits=2)
  traced = model.trace(params, x, lengths, CFG)
  chex.assert_trees_all_close(traced['logits'][-1], model.forward(params, x, lengths, CFG),
                              atol=1e-5)
  assert float(traced['update'].min()) >= 0.0 and float(traced['update'].max()) <= 1.0


def test_unknown_cell_is_an_error():
  with pytest.raises(ValueError, match='model.cell'):
    model.ModelConfig(cell='lstm')


def test_adamax_optimizer_and_its_b2_schedule():
  config = config_lib.base_config()
  config.optimizer = 'adamax'
  config.learning_rate = 0.01
  tx = train.make_optimizer(config)
  params = _params()
  state = tx.init(params)
  assert train.learning_rate(state) == pytest.approx(0.01)
  state = train.set_learning_rate(state, 0.005)
  assert train.learning_rate(state) == pytest.approx(0.005)
  grads = jax.tree.map(jnp.ones_like, params)
  updates, _ = tx.update(grads, state, params, noise_std=0.0, noise_key=jax.random.key(0))
  # AdaMax's first step: -lr * (1 - b1) g / ((1 - b1) max|g|) = -lr for unit gradients.
  chex.assert_trees_all_close(updates, jax.tree.map(lambda p: jnp.full_like(p, -0.005), params),
                              rtol=1e-5)
  assert float(train.adamax_b2(0)) == pytest.approx(0.99)
  assert float(train.adamax_b2(2000)) == pytest.approx(0.995)
  assert float(train.adamax_b2(20000)) == pytest.approx(0.9995)


def test_their_adamax_against_their_update_rule():
  """`adamax_fl` against Freivalds & Liepins' adamax.py written out in numpy: the clip to
  1.2 x the running maximum + 1e-4 (here it bites on the first step and on a spike), no bias
  correction, the b2 schedule and the learning rate set in the state."""
  config = config_lib.base_config()
  config.optimizer = 'adamax_fl'
  config.learning_rate = 0.01
  config.grad_clip = 100.0  # no global-norm clip before it
  tx = train.make_optimizer(config)
  params = {'w': jnp.zeros((5,), jnp.float32)}
  state = train.set_learning_rate(tx.init(params), 0.005)
  grads = [np.array([0.3, -0.2, 1e-5, 0.0, -1.0], np.float32),
           np.array([0.2, -0.1, 2e-5, 0.5, -0.5], np.float32),
           np.array([50.0, -0.1, -3e-5, 0.4, -0.5], np.float32)]  # a spike in entry 0
  mu, nu = np.zeros(5), np.zeros(5)
  for step, g in enumerate(grads):
    updates, state = tx.update({'w': jnp.asarray(g)}, state, params, noise_std=0.0,
                               noise_key=jax.random.key(0))
    b2 = 1.0 - max(0.0005, 0.01 * 0.5**(step / 2000))
    bound = nu * 1.2 + 1e-4
    g = np.clip(g, -bound, bound)
    mu = 0.9 * mu + 0.1 * g
    nu = np.maximum(b2 * nu, np.abs(g))
    np.testing.assert_allclose(np.asarray(updates['w']), -0.005 * mu / (nu + 1e-8),
                               rtol=1e-5, atol=1e-9)
  assert nu[0] < 1.0  # the reference itself clipped the spike (an unclipped rule: nu = 50)


@pytest.mark.parametrize('fields,match', [
    ({'optimizer': 'sgd'}, 'optimizer'),
    ({'saturation_weight': -1.0}, 'saturation_weight'),
    ({'train_steps': 'all'}, 'train_steps'),
    ({'train_steps': 'bucket', 'num_seeds': 2}, 'one seed'),
    ({'adapt_saturation_weight': True}, "needs model.cell='dcgru'")])
def test_bad_training_fields(fields, match):
  config = config_lib.base_config()
  config.update(fields)
  with pytest.raises(ValueError, match=match):
    train.check_config(config)


def test_explicit_step_counts():
  """steps_B defaults to the lengths; every example running the batch's width in steps
  (train_steps='bucket') changes only the examples narrower than the batch."""
  params = _params()
  x, _, _ = _batch(digits=4)  # n = 9
  lengths = jnp.array([9, 7, 5, 9], jnp.int32)
  own = model.forward(params, x, lengths, CFG)
  chex.assert_trees_all_close(model.forward(params, x, lengths, CFG, steps_B=lengths), own)
  full = model.forward(params, x, lengths, CFG, steps_B=jnp.full((4,), 9, jnp.int32))
  chex.assert_trees_all_close(full[jnp.array([0, 3])], own[jnp.array([0, 3])])
  assert not np.allclose(full[1, :7], own[1, :7])


def test_bucket_steps_in_the_train_step():
  config = config_lib.base_config()
  tx = train.make_optimizer(config)
  params = _params()
  state = {'params': params, 'opt_state': tx.init(params)}
  x, y, _ = _batch(digits=3)  # n = 7, padded into a bucket of 8
  x, y = jnp.pad(x, ((0, 0), (0, 1))), jnp.pad(y, ((0, 0), (0, 1)))
  lengths = jnp.full((4,), 7, jnp.int32)
  args = (x, y, lengths, jax.random.key(0), 0.0, 0.0, 0)
  own = train.train_step_fn(CFG, tx, 0.0)(state, *args)[1]['loss']
  bucket = train.train_step_fn(CFG, tx, 0.0, steps='bucket')(state, *args)[1]['loss']
  assert float(own) != float(bucket)
  logits = model.forward(params, x, lengths, CFG, steps_B=jnp.full((4,), 8, jnp.int32))
  assert float(bucket) == pytest.approx(float(train.masked_cross_entropy(logits, y, lengths)),
                                        rel=1e-6)
  # Given step counts (a bin's width, train_lengths 'bins') replace the batch's width.
  given = lambda steps_B: train.train_step_fn(CFG, tx, 0.0, steps='bucket')(
      state, *args, steps_B=steps_B)[1]['loss']
  assert float(given(jnp.full((4,), 8, jnp.int32))) == float(bucket)
  assert float(given(lengths)) == pytest.approx(float(own), rel=1e-6)


def test_adapted_saturation_weight_follows_their_rule():
  """Inside a window the weight stays and the interval's cost is kept; at the window's end
  it becomes lr x mean loss / mean cost (their set_saturation_weight), within [1e-20, cap]."""
  config = config_lib.base_config()
  config.update({'saturation_weight': 1e-3, 'lr_decay_every': 100})
  progress = {'interval_losses': [0.4], 'saturation_weight': 5e-4}
  assert train.adapt_saturation_weight(config, progress, 0.2, 3.0, 0.01, 50) == ([3.0], 5e-4)
  progress['interval_saturation'] = [3.0]
  costs, weight = train.adapt_saturation_weight(config, progress, 0.2, 1.0, 0.001, 100)
  assert costs == [] and weight == pytest.approx(0.001 * 0.3 / 2.0)
  assert train.adapt_saturation_weight(config, progress, 0.2, 1e-9, 0.01, 100)[1] == 1e-3
  no_loss = {**progress, 'interval_losses': [0.0]}
  assert train.adapt_saturation_weight(config, no_loss, 0.0, 1.0, 0.01, 100)[1] == 1e-20


def _adapting_config(**overrides):
  c = tiny_config(**{'model.cell': 'dcgru', 'model.height': 1, 'model.kernel_height': 1,
                     'model.layers': 1, 'model.relax_sets': 1, 'model.init_scale': 3.0,
                     'optimizer': 'adamax', 'learning_rate': 0.01, 'lr_decay': 1.0,
                     'curriculum_start': 3, 'lr_decay_every': 20, 'num_train_steps': 40,
                     'saturation_weight': 1.0, 'adapt_saturation_weight': True})
  c.update(overrides)
  return c


def test_adapting_run_applies_the_rule_and_resumes_exactly(tmp_path):
  """A run with adapt_saturation_weight logs the weight, which changes at each window's end
  by the rule on the logged interval means; the adapted weight is the one trained with (the
  run departs from a constant-weight run after the first window); stopping inside an
  interval and resuming gives the same metrics and parameters."""
  config = _adapting_config()
  train.train_and_evaluate(config, str(tmp_path / 'once'), log=lambda s: None)
  lines = [json.loads(l) for l in open(tmp_path / 'once' / 'metrics.jsonl')]
  assert [l['step'] for l in lines] == [10, 20, 30, 40]
  assert lines[0]['saturation_weight'] == 1.0 and lines[0]['saturation'] > 0
  expected = (lines[0]['learning_rate'] * (lines[0]['loss'] + lines[1]['loss'])
              / (lines[0]['saturation'] + lines[1]['saturation']))
  assert expected < 0.1  # the rule, not the cap, sets it
  assert lines[1]['saturation_weight'] == pytest.approx(expected, rel=1e-5)
  assert lines[2]['saturation_weight'] == lines[1]['saturation_weight']

  constant = _adapting_config(adapt_saturation_weight=False)
  train.train_and_evaluate(constant, str(tmp_path / 'constant'), log=lambda s: None)
  fixed = [json.loads(l) for l in open(tmp_path / 'constant' / 'metrics.jsonl')]
  assert [l['loss'] for l in fixed[:2]] == [l['loss'] for l in lines[:2]]
  assert fixed[2]['loss'] != lines[2]['loss']

  config.num_train_steps = 23
  train.train_and_evaluate(config, str(tmp_path / 'twice'), log=lambda s: None)
  config.num_train_steps = 40
  train.train_and_evaluate(config, str(tmp_path / 'twice'), log=lambda s: None)
  resumed = [json.loads(l) for l in open(tmp_path / 'twice' / 'metrics.jsonl')]
  keys = ('step', 'loss', 'saturation', 'saturation_weight')
  assert [[l[k] for k in keys] for l in resumed] == [[l[k] for k in keys] for l in lines]
  chex.assert_trees_all_equal(inference.load(str(tmp_path / 'twice')).params,
                              inference.load(str(tmp_path / 'once')).params)
