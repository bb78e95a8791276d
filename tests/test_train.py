import json
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import ngpu_jax
from ngpu_jax import config as config_lib
from ngpu_jax import tasks, train
from conftest import tiny_config


def _setup(config):
  cfg = train.model_config(config)
  tx = train.make_optimizer(config)
  state = train.initial_state(config, cfg, tx, merged=False)
  return cfg, tx, state


def _batch(digits, width, batch=8, seed=0):
  x, y = tasks.sample(tasks.get('badd'), digits, batch, np.random.default_rng(seed))
  pad = ((0, 0), (0, width - x.shape[1]))
  return np.pad(x, pad), np.pad(y, pad), np.full((batch,), x.shape[1], np.int32)


def test_masked_cross_entropy_ignores_positions_past_length():
  logits = jax.random.normal(jax.random.key(0), (2, 5, 14))
  targets = jnp.array([[1, 2, 0, 0, 0], [3, 3, 3, 0, 0]])
  lengths = jnp.array([3, 3])
  base = train.masked_cross_entropy(logits, targets, lengths)
  changed = logits.at[:, 3:].set(100.0)
  np.testing.assert_allclose(train.masked_cross_entropy(changed, targets, lengths), base)


def test_per_example_cross_entropy_weighs_every_example_the_same():
  """per_example (train_lengths 'all'): the mean of each example's own mean; otherwise every
  position counts once, so a long example weighs more."""
  logits = jax.random.normal(jax.random.key(0), (2, 5, 14))
  targets = jnp.array([[1, 2, 0, 0, 0], [3, 3, 3, 1, 0]])
  lengths = jnp.array([2, 5])
  ce = np.asarray(optax.softmax_cross_entropy_with_integer_labels(logits, targets))
  np.testing.assert_allclose(train.masked_cross_entropy(logits, targets, lengths, True),
                             (ce[0, :2].mean() + ce[1].mean()) / 2, rtol=1e-6)
  np.testing.assert_allclose(train.masked_cross_entropy(logits, targets, lengths),
                             (ce[0, :2].sum() + ce[1].sum()) / 7, rtol=1e-6)
  same = jnp.array([5, 5])  # equal lengths: both weightings agree
  np.testing.assert_allclose(train.masked_cross_entropy(logits, targets, same, True),
                             train.masked_cross_entropy(logits, targets, same), rtol=1e-6)


def test_train_step_learns_a_fixed_batch():
  config = tiny_config(dropout=0.0, learning_rate=0.01)
  cfg, tx, state = _setup(config)
  step = jax.jit(train.train_step_fn(cfg, tx, 0.0))
  x, y, lengths = _batch(2, 8)
  losses = []
  for i in range(30):
    state, metrics = step(state, x, y, lengths, jax.random.key(i), 0.001, 0.0, i)
    losses.append(float(metrics['loss']))
  assert losses[-1] < 0.5 * losses[0]


def test_no_retrace_within_a_bucket():
  config = tiny_config()
  cfg, tx, state = _setup(config)
  step = jax.jit(chex.assert_max_traces(train.train_step_fn(cfg, tx, 0.1), n=1))
  for i, digits in enumerate([1, 2, 3, 2]):  # widths 3, 5, 7, 5 all in bucket 8
    x, y, lengths = _batch(digits, 8, seed=i)
    state, _ = step(state, x, y, lengths, jax.random.key(i), 0.001, 0.0, i)


def test_compiler_options_do_not_change_the_train_step():
  """train.compiler_options() (LLVM -O2 on a CPU) must give what XLA's default gives."""
  config = tiny_config()
  cfg, tx, state = _setup(config)
  x, y, lengths = _batch(3, 8)
  args = (x, y, lengths, jax.random.key(4), 0.001, 0.0, 1)
  plain = jax.jit(train.train_step_fn(cfg, tx, 0.1))(state, *args)
  tuned = jax.jit(train.train_step_fn(cfg, tx, 0.1),
                  compiler_options=train.compiler_options())(state, *args)
  chex.assert_trees_all_close(tuned, plain, atol=1e-6, rtol=1e-6)


def test_gradient_noise_is_applied_and_scaled_by_error():
  config = tiny_config(grad_noise_scale=1.0)
  cfg, tx, state = _setup(config)
  step = jax.jit(train.train_step_fn(cfg, tx, 0.0))
  x, y, lengths = _batch(2, 8)
  run = lambda scale: step(jax.tree.map(jnp.copy, state), x, y, lengths, jax.random.key(0),
                           0.0, scale, 0)[0]['params']
  quiet, noisy = run(0.0), run(1.0)
  diff = max(float(jnp.abs(quiet[k] - noisy[k]).max()) for k in quiet)
  assert diff > 1e-6
  # A batch the model gets fully right gets no noise (variance ~ sequence error).
  noise = train.gradient_noise()
  g = {'w': jnp.zeros((3,))}
  out, _ = noise.update(g, noise.init(g), noise_std=0.0, noise_key=jax.random.key(0))
  chex.assert_trees_all_equal(out, g)


def test_learning_rate_in_optimizer_state():
  config = tiny_config(learning_rate=0.002)
  _, _, state = _setup(config)
  assert train.learning_rate(state['opt_state']) == pytest.approx(0.002)
  changed = train.set_learning_rate(state['opt_state'], 0.001)
  assert train.learning_rate(changed) == pytest.approx(0.001)


def test_bucket():
  assert [train.bucket(n, 41, 8) for n in (3, 8, 9, 40, 41)] == [8, 8, 16, 40, 41]


def test_train_and_evaluate_writes_everything(tmp_path):
  config = tiny_config()
  results = train.train_and_evaluate(config, str(tmp_path), log=lambda s: None)
  assert set(results) == {2, 3}
  saved = json.load(open(tmp_path / 'eval.json'))
  assert set(saved['3']) == {'seq_error', 'seq_error_lenient', 'symbol_error', 'examples'}
  lines = [json.loads(l) for l in open(tmp_path / 'metrics.jsonl')]
  assert [l['step'] for l in lines] == [10, 20]
  assert {'loss', 'cur', 'train_seq_error', 'steps_per_s', 'time_left_s'} <= set(lines[0])
  assert os.path.isdir(tmp_path / 'checkpoints' / '20')


def _final_params(workdir):
  from ngpu_jax import inference
  return inference.load(workdir).params


def test_resume_equals_uninterrupted_run(tmp_path):
  """Stopping at step 23 (inside a log interval) and resuming to 40 gives bitwise the same
  parameters and metrics as 40 steps in one go, also across a curriculum advance and the
  merge of the relaxed sets."""
  config = tiny_config(num_train_steps=40, max_train_digits=2, curriculum_bound=0.99)
  train.train_and_evaluate(config, str(tmp_path / 'once'), log=lambda s: None)
  config.num_train_steps = 23
  train.train_and_evaluate(config, str(tmp_path / 'twice'), log=lambda s: None)
  config.num_train_steps = 40
  train.train_and_evaluate(config, str(tmp_path / 'twice'), log=lambda s: None)
  once, twice = _final_params(tmp_path / 'once'), _final_params(tmp_path / 'twice')
  assert once['gates_kernel'].shape[0] == 1  # merged at the maximum length
  chex.assert_trees_all_equal(once, twice)
  metrics = lambda d: [(l['step'], l['loss'], l['learning_rate'])
                       for l in map(json.loads, open(tmp_path / d / 'metrics.jsonl'))]
  assert metrics('once') == metrics('twice')


def test_bins_run_resumes_exactly(tmp_path, monkeypatch):
  """train_lengths='bins' with train_steps='bucket': every example runs for its bin's width
  (the step is given them; with 'own' it is not, and the run differs), and stopping inside
  an interval and resuming gives the same parameters and metrics."""
  seen, original = [], train.train_step_fn

  def recording(*args, **kwargs):
    step_fn = original(*args, **kwargs)

    def recorded(*a, steps_B=None, **k):
      if steps_B is not None:
        jax.debug.callback(lambda s: seen.append(np.asarray(s)), steps_B)
      return step_fn(*a, steps_B=steps_B, **k)
    return recorded

  monkeypatch.setattr(train, 'train_step_fn', recording)
  config = tiny_config(num_train_steps=20, train_lengths='bins', train_bins=(3, 5, 7),
                       batch_size=9, curriculum_start=3, train_steps='bucket')
  train.train_and_evaluate(config, str(tmp_path / 'once'), log=lambda s: None)
  assert len(seen) == 20
  for steps_B in seen:
    np.testing.assert_array_equal(steps_B, [3, 3, 3, 5, 5, 5, 7, 7, 7])
  config.num_train_steps = 13
  train.train_and_evaluate(config, str(tmp_path / 'twice'), log=lambda s: None)
  config.num_train_steps = 20
  train.train_and_evaluate(config, str(tmp_path / 'twice'), log=lambda s: None)
  chex.assert_trees_all_equal(_final_params(tmp_path / 'once'), _final_params(tmp_path / 'twice'))
  metrics = lambda d: [(l['step'], l['loss']) for l in map(json.loads, open(tmp_path / d / 'metrics.jsonl'))]
  assert metrics('once') == metrics('twice')
  seen.clear()
  config.train_steps = 'own'
  train.train_and_evaluate(config, str(tmp_path / 'own'), log=lambda s: None)
  assert not seen and metrics('own')[0] != metrics('once')[0]


def test_merge_happens_at_max_length(tmp_path):
  config = tiny_config(max_train_digits=2, curriculum_bound=1.01)  # always advance
  train.train_and_evaluate(config, str(tmp_path), log=lambda s: None)
  lines = [json.loads(l) for l in open(tmp_path / 'metrics.jsonl')]
  assert lines[0]['advanced'] and lines[0]['merged_now'] and lines[0]['cur'] == 2


def test_config_must_match_workdir(tmp_path):
  train.train_and_evaluate(tiny_config(num_train_steps=10), str(tmp_path), log=lambda s: None)
  with pytest.raises(ValueError, match='model.nmaps=8.*16'):
    train.train_and_evaluate(tiny_config(**{'model.nmaps': 16}), str(tmp_path))
  with pytest.raises(ValueError, match="task='badd'"):
    train.train_and_evaluate(tiny_config(task='bmul'), str(tmp_path))


def test_extra_steps_may_differ_from_the_workdirs(tmp_path):
  """model.extra_steps sets how long the model runs, not its parameters: a run saved with
  one value may be evaluated or resumed with another."""
  train.save_config(str(tmp_path), tiny_config())
  train.check_matches_workdir(str(tmp_path), tiny_config(**{'model.extra_steps': 3}))
  with pytest.raises(ValueError, match='model.steps_per_symbol=1.*2'):
    train.check_matches_workdir(str(tmp_path), tiny_config(**{'model.steps_per_symbol': 2}))


def test_workdir_of_an_older_run_without_a_newer_model_field(tmp_path):
  """A run saved before a model field existed had that field's default: resuming with the
  default is the same model, with another value it is refused."""
  config = tiny_config()
  del config.model['hard_input']  # as config.json was written before the field
  train.save_config(str(tmp_path), config)
  train.check_matches_workdir(str(tmp_path), tiny_config())
  changed = tiny_config(**{'model.cell': 'dcgru', 'model.hard_input': True})
  with pytest.raises(ValueError, match="model.cell='cgru'"):
    train.check_matches_workdir(str(tmp_path), changed)
  older = dict(json.load(open(tmp_path / 'config.json')))
  older['model'] = dict(older['model'], cell='dcgru')
  json.dump(older, open(tmp_path / 'config.json', 'w'))
  with pytest.raises(ValueError, match='model.hard_input=False.*True'):
    train.check_matches_workdir(str(tmp_path), changed)


@pytest.mark.parametrize('overrides,message', [
    ({'task': 'nope'}, 'unknown task'),
    ({'max_train_digits': 0}, 'digits must be >= 1'),
    ({'eval_digits': (2, 0)}, 'digits must be >= 1'),
    ({'eval_examples': (8,)}, 'one example count per length'),
    ({'curriculum_start': 5}, 'curriculum_start'),
    ({'checkpoint_every': 15}, 'multiple of curriculum_every'),
    ({'dropout': 1.0}, 'dropout'),
    ({'learning_rate': 0.0}, 'learning_rate must be a positive number'),
    ({'model.nmaps': 0}, 'model.nmaps'),
    ({'eval_digits': (2, 10**7)}, r'evaluating 10000000 digits .* needs about \d+\.\d GiB but only'),
    ({'nonfinite_lr_factor': 0.0}, 'nonfinite_lr_factor'),
    ({'task': 'rev', 'eval_hard_examples': 4}, 'hard-input families exist for the two-operand arithmetic'),
    ({'max_nonfinite_steps': 0}, 'max_nonfinite_steps'),
    ({'train_hard_fraction': 1.5}, r'train_hard_fraction must be in \[0, 1\]'),
    ({'task': 'rev', 'train_hard_fraction': 0.5}, 'needs a two-operand arithmetic task'),
    ({'train_lengths': 'all', 'train_hard_fraction': 0.5}, "train_lengths 'one'"),
    ({'train_hard_families': ('zero_runs',)}, 'train_hard_families needs train_hard_fraction'),
    ({'train_lengths': 'bins', 'train_bins': (5, 3, 7), 'batch_size': 9, 'curriculum_start': 3},
     'train_bins must be increasing widths ending at 7'),
    ({'train_lengths': 'bins', 'train_bins': (3, 5), 'batch_size': 8, 'curriculum_start': 3},
     'ending at 7'),
    ({'train_lengths': 'bins', 'train_bins': (3, 4, 7), 'batch_size': 9, 'curriculum_start': 3},
     'no badd length falls in the bin of width 4'),
    ({'train_lengths': 'bins', 'train_bins': (3, 5, 7), 'curriculum_start': 3},
     r'batch_size \(8\) must be a multiple of the number of train_bins \(3\)'),
    ({'train_lengths': 'bins', 'train_bins': (3, 5, 7), 'batch_size': 9},
     'set curriculum_start to max_train_digits'),
    ({'train_bins': (3, 5, 7)}, "train_bins is for train_lengths='bins'"),
    ({'eval_hard_examples': 4, 'eval_hard_families': ('nope',)},
     r"unknown eval_hard_families \['nope'\] for badd"),
    ({'train_hard_fraction': 0.5, 'train_hard_families': ('full_carry', 'nope')},
     r"unknown train_hard_families \['nope'\] for badd"),
    ({'task': 'bmul', 'train_hard_fraction': 0.5, 'train_hard_families': ('full_carry',)},
     r"unknown train_hard_families \['full_carry'\] for bmul"),
])
def test_bad_config(tmp_path, overrides, message):
  with pytest.raises(ValueError, match=message):
    train.train_and_evaluate(tiny_config(**overrides), str(tmp_path))
  assert not os.path.exists(tmp_path / 'config.json')


def test_non_finite_step_is_skipped_and_counted():
  config = tiny_config()
  cfg, tx, state = _setup(config)
  step = jax.jit(train.train_step_fn(cfg, tx, 0.0))
  x, y, lengths = _batch(2, 8)
  before = jax.tree.map(jnp.copy, state['params'])
  state, metrics = step(state, x, y, lengths, jax.random.key(0), float('nan'), 0.0, 0)
  chex.assert_trees_all_equal(state['params'], before)
  assert int(state['opt_state'].total_notfinite) == 1 and float(metrics['finite_steps']) == 0.0
  assert np.isfinite(float(metrics['loss']))
  state, metrics = step(state, x, y, lengths, jax.random.key(1), 0.001, 0.0, 1)
  assert int(state['opt_state'].notfinite_count) == 0
  assert not np.allclose(state['params']['embedding'], before['embedding'])


def test_run_stops_after_consecutive_non_finite_steps(tmp_path):
  config = tiny_config(pull_start=float('nan'), max_nonfinite_steps=5)
  with pytest.raises(FloatingPointError, match='10 training steps in a row up to step 10'):
    train.train_and_evaluate(config, str(tmp_path), log=lambda s: None)
  assert not (tmp_path / 'checkpoints' / '10').exists()


def test_non_finite_streak_restores_checkpoint_with_lower_learning_rate(tmp_path, monkeypatch):
  """A NaN injected into every step from step 30 on while the learning rate is above 6e-4:
  the run skips those updates, restores checkpoint 30 with the rate halved, and finishes."""
  original = train.train_step_fn

  def poisoned(cfg, tx, dropout_rate, **kwargs):
    inner = original(cfg, tx, dropout_rate, **kwargs)

    def step_fn(state, inputs, targets, lengths, key, pull, noise_scale, step):
      lr = state['opt_state'].inner_state[-1].hyperparams['learning_rate']
      pull = jnp.where((step >= 30) & (lr > 6e-4), jnp.nan, pull)  # NaN loss and gradients
      return inner(state, inputs, targets, lengths, key, pull, noise_scale, step)
    return step_fn

  monkeypatch.setattr(train, 'train_step_fn', poisoned)
  config = tiny_config(num_train_steps=60, max_nonfinite_steps=5)
  logged = []
  train.train_and_evaluate(config, str(tmp_path), log=logged.append)
  warning = [line for line in logged if line.startswith('WARNING')]
  assert len(warning) == 1 and '10 training steps in a row up to step 40' in warning[0]
  assert 'restored checkpoint 30' in warning[0] and '0.0005' in warning[0]
  records = [json.loads(line) for line in open(tmp_path / 'metrics.jsonl')]
  assert [r['step'] for r in records] == [10, 20, 30, 40, 50, 60]  # 40 once, after the restore
  assert records[-1]['learning_rate'] == pytest.approx(5e-4)
  params = ngpu_jax.load(str(tmp_path)).params
  assert all(np.isfinite(np.asarray(v)).all() for v in params.values())


def test_non_finite_restores_are_limited(tmp_path):
  train.train_and_evaluate(tiny_config(num_train_steps=10), str(tmp_path), log=lambda s: None)
  # From checkpoint 10 on every step is NaN: 3 restores with lower rates, then it stops.
  config = tiny_config(num_train_steps=200, pull_start=float('nan'), max_nonfinite_steps=5)
  logged = []
  with pytest.raises(FloatingPointError, match='3 restores with a lower learning rate did not'):
    train.train_and_evaluate(config, str(tmp_path), log=logged.append)
  assert sum(line.startswith('WARNING') for line in logged) == 3


def _tensorboard_tags(directory):
  """Scalar tags in TensorBoard event files (TFRecord framing: length, crc, event, crc)."""
  import struct

  from tensorboardX.proto import event_pb2

  tags = set()
  for name in os.listdir(directory):
    data = open(os.path.join(directory, name), 'rb').read()
    offset = 0
    while offset < len(data):
      (length,) = struct.unpack('<Q', data[offset:offset + 8])
      event = event_pb2.Event.FromString(data[offset + 12:offset + 12 + length])
      tags.update(value.tag for value in event.summary.value)
      offset += 12 + length + 4
  return tags


def test_metrics_go_to_jsonl_and_tensorboard(tmp_path):
  train.train_and_evaluate(tiny_config(), str(tmp_path), log=lambda s: None)
  records = [json.loads(line) for line in open(tmp_path / 'metrics.jsonl')]
  assert [r['step'] for r in records] == [10, 20]
  tags = _tensorboard_tags(tmp_path / 'tensorboard')
  assert {'train/loss', 'train/check_seq_error', 'train/cur', 'train/pull'} <= tags
  assert {'eval/seq_error_2_digits', 'eval/symbol_error_3_digits'} <= tags


@pytest.mark.parametrize('task_name', sorted(tasks.TASKS))
def test_sample_batch_with_every_length(task_name):
  """train_lengths='all': each example its own digits up to the curriculum's length, padded
  to the widest; each row is a correct example of its own length; a pure function of
  (seed, step)."""
  task = tasks.get(task_name)
  config = config_lib.base_config()
  config.task, config.train_lengths, config.max_train_digits = task_name, 'all', 6
  cur = {'cur': 5, 'advances': 0, 'merged': False}
  x, y, lengths = train.sample_batch(task, config, cur, step=3)
  chex.assert_shape([x, y, lengths], [(32, x.shape[1]), (32, x.shape[1]), (32,)])
  assert x.shape[1] == lengths.max() <= task.length(5)
  assert len(set(lengths.tolist())) > 1
  for row, target, n in zip(x, y, lengths):
    assert not row[n:].any() and not target[n:].any()
    np.testing.assert_array_equal(target[:n], tasks.solve(task, row[None, :n])[0])
  again = train.sample_batch(task, config, cur, step=3)
  for a, b in zip((x, y, lengths), again):
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('task_name', sorted(tasks.TASKS))
def test_sample_bins_batch(task_name):
  """train_lengths='bins': the same number from each bin, in bin order, padded to the last
  bin; each row a correct example of its own length, inside its bin or (1 in 21 after the
  first bin) a smaller one; each example's width its bin's; a pure function of (seed, step)."""
  task = tasks.get(task_name)
  config = config_lib.base_config()
  config.task, config.train_lengths, config.max_train_digits = task_name, 'bins', 6
  widths = sorted({task.length(d) for d in range(task.min_digits, 7)})
  config.train_bins = (widths[0], widths[len(widths) // 2], widths[-1])
  config.batch_size = 3 * 40
  x, y, lengths, bin_widths = train.sample_bins_batch(task, config, step=3)
  chex.assert_shape([x, y, lengths, bin_widths], [(120, widths[-1]), (120, widths[-1]),
                                                  (120,), (120,)])
  np.testing.assert_array_equal(bin_widths, np.repeat(config.train_bins, 40))
  lower = dict(zip(config.train_bins, (0,) + config.train_bins[:-1]))
  inside = np.array([lower[w] < n <= w for n, w in zip(lengths, bin_widths)])
  assert inside[:40].all() and (lengths <= bin_widths).all()  # the rest: inside or smaller
  for row, target, n in zip(x, y, lengths):
    assert not row[n:].any() and not target[n:].any()
    np.testing.assert_array_equal(target[:n], tasks.solve(task, row[None, :n])[0])
  for a, b in zip((x, y, lengths, bin_widths), train.sample_bins_batch(task, config, step=3)):
    np.testing.assert_array_equal(a, b)


def test_their_bins_for_badd():
  """Freivalds & Liepins' badd bins: the digits each holds, and about 1 in 21 examples of
  the bins after the first from a smaller bin (20 batches of 288: 5,120 such examples)."""
  task = tasks.get('badd')
  config = config_lib.base_config()
  config.train_lengths, config.batch_size = 'bins', 288
  config.train_bins = (8, 12, 16, 20, 25, 28, 31, 36, 41)
  assert [d.tolist() for d in train.bin_digits(task, config)] == [
      [1, 2, 3], [4, 5], [6, 7], [8, 9], [10, 11, 12], [13], [14, 15], [16, 17], [18, 19, 20]]
  smaller = 0
  for step in range(20):
    _, _, lengths, bin_widths = train.sample_bins_batch(task, config, step)
    lower = dict(zip(config.train_bins, (0,) + config.train_bins[:-1]))
    smaller += sum(n <= lower[w] for n, w in zip(lengths[32:], bin_widths[32:]))
  assert 0.03 < smaller / 5120 < 0.07  # 1 / 21 = 0.048


def _is_hard(row, task) -> bool:
  """Whether an arithmetic input row is a pair of one of tasks.HARD_FAMILIES."""
  base, half = task.base, (len(row) - 1) // 2
  d = half // task.symbols_per_digit
  a, b = (tasks.row_to_int(task, part) for part in (row[:half], row[half + 1:]))
  top = base**d - 1
  powers = {base**i for i in range(d)}
  pattern = sum((base - 1) * base**i for i in range(0, d, 2))
  return (any({a, b} == {base**k - 1, 1} for k in range(1, d + 1))  # full_carry
          or a == b == top  # all_max
          or a == b < base**2  # leading_zeros
          or (pattern in (a, b) and {a, b} <= {pattern, top - pattern})  # alternating
          or (a in powers and b in powers) or 0 in (a, b)  # powers, zero
          or _has_zero_run(a, b, d, task))


def _has_zero_run(a, b, d, task) -> bool:
  """Whether the answer holds 10 zero bits in a row, or a run as rare in base B (zero_runs)."""
  answer = a + b if task.kind == 'add' else a * b
  want = min(max(1, d // 2), {2: 10, 4: 5, 10: 3}[task.base])
  return tasks.longest_zero_run(answer, task.base) >= want


@pytest.mark.parametrize('task_name', [t for t in sorted(tasks.TASKS)
                                       if tasks.has_hard_families(tasks.get(t))])
def test_sample_batch_with_hard_fraction(task_name):
  """train_hard_fraction: the replaced rows are hard-family examples with right answers, the
  others are the paper's batch unchanged; 0 leaves the batch as it was; a pure function of
  (seed, step)."""
  task = tasks.get(task_name)
  config = config_lib.base_config()
  config.task, config.max_train_digits = task_name, 8
  cur = {'cur': 8, 'advances': 0, 'merged': False}
  plain_x, plain_y, _ = train.sample_batch(task, config, cur, step=5)
  config.train_hard_fraction = 0.5
  x, y, lengths = train.sample_batch(task, config, cur, step=5)
  assert x.shape == plain_x.shape and (lengths == x.shape[1]).all()
  replaced = (x != plain_x).any(axis=1)
  assert 4 <= replaced.sum() <= 28  # about half of 32
  assert all(_is_hard(row, task) for row in x[replaced])
  np.testing.assert_array_equal(y, tasks.solve(task, x))
  np.testing.assert_array_equal(y[~replaced], plain_y[~replaced])
  again = train.sample_batch(task, config, cur, step=5)
  np.testing.assert_array_equal(again[0], x)
  config.train_hard_fraction = 1.0
  x, y, _ = train.sample_batch(task, config, cur, step=6)
  assert all(_is_hard(row, task) for row in x)
  np.testing.assert_array_equal(y, tasks.solve(task, x))


def test_sample_batch_with_chosen_hard_families():
  """train_hard_families: the replaced rows come from the named families only."""
  task = tasks.get('bmul')
  config = config_lib.base_config()
  config.task, config.max_train_digits = 'bmul', 12
  config.train_hard_fraction, config.train_hard_families = 1.0, ('zero_runs',)
  x, y, _ = train.sample_batch(task, config, {'cur': 12, 'advances': 0, 'merged': False}, 7)
  half = (x.shape[1] - 1) // 2
  for row in x:
    a, b = (tasks.row_to_int(task, part) for part in (row[:half], row[half + 1:]))
    assert _has_zero_run(a, b, half, task)
  np.testing.assert_array_equal(y, tasks.solve(task, x))
