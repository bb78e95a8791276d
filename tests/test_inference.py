import random

import jax.numpy as jnp
import numpy as np
import pytest

import ngpu_jax
from ngpu_jax import inference, model, tasks


@pytest.fixture
def trained(tiny_run):
  return tiny_run


def test_load_and_predict_any_length(trained):
  predictor = ngpu_jax.load(str(trained))
  assert predictor.task == 'badd' and predictor.step == 20
  for digits in (1, 6, 30):
    x, _ = tasks.sample(tasks.get('badd'), digits, 3, np.random.default_rng(0))
    out = predictor.predict(x)
    assert out.shape == x.shape and out.dtype == np.int32
    assert out.min() >= 0 and out.max() < 14


def test_load_with_extra_steps(trained):
  """load(..., extra_steps=K) runs the same parameters K steps past each input's length."""
  plain = ngpu_jax.load(str(trained))
  longer = ngpu_jax.load(str(trained), extra_steps=3)
  assert plain.model_config.extra_steps == 0 and longer.model_config.extra_steps == 3
  assert plain.config.model.get('extra_steps', 0) == 0  # the loaded model is not changed
  x, _ = tasks.sample(tasks.get('badd'), 6, 8, np.random.default_rng(1))
  lengths = jnp.full((8,), x.shape[1], jnp.int32)
  expected = jnp.argmax(model.forward(plain.params, x, lengths, longer.model_config), axis=-1)
  np.testing.assert_array_equal(longer.predict(x), expected)
  np.testing.assert_array_equal(ngpu_jax.load(str(trained), extra_steps=0).predict(x),
                                plain.predict(x))
  with pytest.raises(ValueError, match='model.extra_steps must be an integer >= 0'):
    ngpu_jax.load(str(trained), extra_steps=-1)


def test_answer_is_the_decoded_prediction(trained):
  predictor = ngpu_jax.load(str(trained))
  badd = tasks.get('badd')
  x = tasks.encode_text(badd, '1011+110')
  assert predictor.answer('1011+110') == tasks.decode_text(badd, predictor.predict(x)[0])
  with pytest.raises(ValueError, match='needs input like'):
    predictor.answer('1011')


@pytest.mark.parametrize('inputs,message', [
    (np.array([[1, 2, 14]]), 'symbol id 14, outside the vocabulary'),
    (np.array([[1, -1, 2]]), 'symbol id -1'),
    (np.array([[1.0, 2.0]]), 'integer array'),
    (np.array([1, 2, 3]), r'shape \[batch, n\]'),
    (np.zeros((1, 0), np.int32), r'shape \[batch, n\]'),
    ([['1', '2']], 'integer array'),
])
def test_bad_predict_inputs(trained, inputs, message):
  with pytest.raises(ValueError, match=message):
    ngpu_jax.load(str(trained)).predict(inputs)


def test_load_without_a_model(tmp_path):
  with pytest.raises(ValueError, match='holds no trained model'):
    ngpu_jax.load(str(tmp_path))
  with pytest.raises(ValueError, match='holds no trained model'):
    ngpu_jax.load(str(tmp_path / 'missing'))


def test_predict_refuses_inputs_too_wide_for_memory(trained):
  wide = np.ones((1, 3 * 10**7), np.int32)
  with pytest.raises(ValueError, match=r'predicting at width n=30000000 .* needs about'):
    ngpu_jax.load(str(trained)).predict(wide)


def test_shipped_models_exist():
  assert inference.shipped_models(), 'no model in ngpu_jax/pretrained/'


@pytest.mark.parametrize('name', inference.shipped_models())
def test_shipped_model_is_exact_on_fresh_examples(name):
  """Every shipped model still answers fresh examples (not the ones it was tested on when
  shipped) exactly, at twice its training length and at 64."""
  predictor = ngpu_jax.load(f'pretrained/{name}')
  task = tasks.get(predictor.task)
  for digits in (2 * predictor.config.max_train_digits, 64):
    x, y = tasks.sample(task, digits, 32, np.random.default_rng([99, digits]))
    np.testing.assert_array_equal(predictor.predict(x), y)


def test_readme_adds_two_2000_bit_numbers():
  """The README's example: the shipped badd model adds two random 2000-bit numbers (one
  forward pass of 4001 steps, about 25 s on a 2-core CPU)."""
  rng = random.Random(0)
  a, b = rng.getrandbits(2000), rng.getrandbits(2000)
  assert int(ngpu_jax.load('pretrained/badd').answer(f'{a:b}+{b:b}'), 2) == a + b


def test_shipped_model_round_trip(trained, tmp_path, monkeypatch):
  monkeypatch.setattr(inference, 'PRETRAINED_DIR', str(tmp_path))
  original = ngpu_jax.load(str(trained))
  inference.save_shipped(original, str(tmp_path / 'mine'), {'note': 'test'})
  shipped = ngpu_jax.load('pretrained/mine')
  assert shipped.step == original.step and shipped.task == original.task
  x, _ = tasks.sample(tasks.get('badd'), 5, 4, np.random.default_rng(0))
  np.testing.assert_array_equal(shipped.predict(x), original.predict(x))
  with pytest.raises(ValueError, match='is a shipped model .* without a step'):
    ngpu_jax.load('pretrained/mine', step=shipped.step)
  with pytest.raises(ValueError, match="no shipped model 'other'; the shipped models are: "
                                       'pretrained/mine'):
    ngpu_jax.load('pretrained/other')
