"""Training: masked cross-entropy + pull penalty, clip -> gradient noise -> Adam, the length
curriculum, relaxation pull/merge, learning-rate decay, checkpoints and the final evaluation.

`train_and_evaluate(config, workdir)` is the whole run, from Python, a notebook or the CLI.
Randomness is a pure function of (seed, step): the data of step t come from
numpy's default_rng([seed, t]), dropout and gradient noise from fold_in(key(seed), t). A run
resumed from a checkpoint therefore continues exactly as the uninterrupted one.
"""

import contextlib
import dataclasses
import functools
import json
import os
import signal
import threading
import time
import types
from typing import NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from ngpu_jax import (checkpoint, curriculum, evaluate, metrics, model, parallel, relaxation,
                      tasks)

OPTIMIZERS = ('adam', 'adamax', 'adamax_fl')
CURRICULUM_STREAM = 2  # seeds the curriculum's check batches: default_rng([seed, 2, step])


def model_config(config: ml_collections.ConfigDict) -> model.ModelConfig:
  return model.ModelConfig(**config.model.to_dict())


def check_config(config) -> tasks.Task:
  """Validates the fields a run depends on; returns the task. Raises ValueError."""
  task = tasks.get(config.task)
  model_config(config)
  num_seeds = config.get('num_seeds', 1)
  if not isinstance(num_seeds, int) or num_seeds < 1:
    raise ValueError(f'num_seeds must be an integer >= 1, got {num_seeds!r}')
  gridded = [name for name, values in config.get('grid', {}).items() if tuple(values)]
  if num_seeds == 1 and gridded:
    raise ValueError(f'grid.{gridded[0]} lists values but num_seeds is 1; a grid needs '
                     'num_seeds > 1 (a multiple of its number of combinations)')
  for name in ('max_train_digits', 'curriculum_start'):
    try:
      tasks.check_digits(task, config[name])
    except ValueError as e:
      raise ValueError(f'{name}: {e}') from None
  if config.curriculum_start > config.max_train_digits:
    raise ValueError(f'curriculum_start ({config.curriculum_start}) must be <= max_train_digits '
                     f'({config.max_train_digits})')
  for d in config.eval_digits:
    try:
      tasks.check_digits(task, d)
    except ValueError as e:
      raise ValueError(f'eval_digits: {e}') from None
  if len(config.eval_digits) != len(config.eval_examples):
    raise ValueError(f'eval_digits has {len(config.eval_digits)} entries but eval_examples has '
                     f'{len(config.eval_examples)}; give one example count per length')
  for name in ('batch_size', 'eval_batch_size', 'curriculum_every', 'checkpoint_every',
               'lr_decay_every', 'bucket_step'):
    if int(config[name]) < 1:
      raise ValueError(f'{name} must be >= 1, got {config[name]}')
  if config.num_train_steps < 0:
    raise ValueError(f'num_train_steps must be >= 0, got {config.num_train_steps}')
  for name in ('checkpoint_every', 'lr_decay_every'):
    if config[name] % config.curriculum_every:
      raise ValueError(f'{name} ({config[name]}) must be a multiple of curriculum_every '
                       f'({config.curriculum_every})')
  keep = config.keep_checkpoint_every
  if not isinstance(keep, int) or keep < 0 or keep % config.checkpoint_every:
    raise ValueError(f'keep_checkpoint_every must be 0 or a multiple of checkpoint_every '
                     f'({config.checkpoint_every}), got {keep!r}')
  if not 0.0 <= config.dropout < 1.0:
    raise ValueError(f'dropout must be in [0, 1), got {config.dropout}')
  if config.optimizer not in OPTIMIZERS:
    raise ValueError(f'optimizer must be one of {OPTIMIZERS}, got {config.optimizer!r}')
  if config.train_lengths not in ('one', 'all', 'bins'):
    raise ValueError(f"train_lengths must be 'one', 'all' or 'bins', got "
                     f'{config.train_lengths!r}')
  if config.train_lengths == 'bins':
    bin_digits(task, config)
    if config.batch_size % len(config.train_bins):
      raise ValueError(f'batch_size ({config.batch_size}) must be a multiple of the number of '
                       f'train_bins ({len(config.train_bins)}): as many examples from each')
    if config.curriculum_start != config.max_train_digits or num_seeds > 1:
      raise ValueError("train_lengths='bins' trains every bin from the start with one seed: "
                       'set curriculum_start to max_train_digits and num_seeds to 1 (got '
                       f'{config.curriculum_start}, {config.max_train_digits}, {num_seeds})')
  elif tuple(config.get('train_bins', ())):
    raise ValueError(f"train_bins is for train_lengths='bins' (got {config.train_lengths!r})")
  if not 0 <= config.train_hard_fraction <= 1:
    raise ValueError(f'train_hard_fraction must be in [0, 1], got {config.train_hard_fraction}')
  if config.train_hard_fraction and not (tasks.has_hard_families(task)
                                         and config.train_lengths == 'one'):
    raise ValueError('train_hard_fraction > 0 needs a two-operand arithmetic task and '
                     f"train_lengths 'one' (got task {task.name}, train_lengths "
                     f'{config.train_lengths!r})')
  if config.train_hard_families and not config.train_hard_fraction:
    raise ValueError('train_hard_families needs train_hard_fraction > 0')
  tasks.choose_hard_families(task, config.train_hard_families, 'train_hard_families')
  if config.train_steps not in ('own', 'bucket'):
    raise ValueError(f"train_steps must be 'own' or 'bucket', got {config.train_steps!r}")
  if config.train_steps == 'bucket' and num_seeds > 1:
    raise ValueError("train_steps='bucket' is for one seed (num_seeds 1): the members of a "
                     "many-seeds program share one width")
  if config.saturation_weight < 0:
    raise ValueError(f'saturation_weight must be >= 0, got {config.saturation_weight}')
  adapt = config.get('adapt_saturation_weight', False)
  if adapt and not (config.model.cell == 'dcgru' and config.saturation_weight > 0
                    and num_seeds == 1):
    raise ValueError("adapt_saturation_weight needs model.cell='dcgru', saturation_weight > 0 "
                     '(its start and cap) and one seed (num_seeds 1), got cell '
                     f'{config.model.cell!r}, saturation_weight {config.saturation_weight}, '
                     f'num_seeds {num_seeds}')
  if not 0 < config.learning_rate < float('inf'):
    raise ValueError(f'learning_rate must be a positive number, got {config.learning_rate}')
  if int(config.max_nonfinite_steps) < 1 or int(config.max_nonfinite_restores) < 0:
    raise ValueError('max_nonfinite_steps must be >= 1 and max_nonfinite_restores >= 0')
  if not 0 < config.nonfinite_lr_factor <= 1:
    raise ValueError(f'nonfinite_lr_factor must be in (0, 1], got {config.nonfinite_lr_factor}')
  if config.eval_hard_examples > 0:
    if not tasks.has_hard_families(task):
      raise ValueError(f'eval_hard_examples: hard-input families exist for the two-operand '
                       f'arithmetic tasks, not {task.name}; set it to 0')
    tasks.choose_hard_families(task, config.eval_hard_families, 'eval_hard_families')
    for digits in config.eval_digits:
      evaluate.check_fits(model_config(config), task.length(digits),
                          min(config.eval_batch_size, config.eval_hard_examples),
                          config.eval_hard_examples, f'hard inputs at {digits} digits')
  if config.grad_noise_scale < 0:
    raise ValueError(f'grad_noise_scale must be >= 0, got {config.grad_noise_scale}')
  for digits, examples in zip(config.eval_digits, config.eval_examples):
    evaluate.check_fits(model_config(config), task.length(digits),
                        min(config.eval_batch_size, examples), examples,
                        f'evaluating {digits} digits (eval_digits)')
  return task


def bucket(n: int, n_max: int, step: int) -> int:
  """The compiled width for an example of width n: the next multiple of `step`, at most n_max."""
  return min(-(-n // step) * step, n_max)


def gradient_noise() -> optax.GradientTransformationExtraArgs:
  """Adds N(0, noise_std^2) to every gradient entry; noise_std and noise_key are extra args."""

  def init_fn(params):
    del params
    return optax.EmptyState()

  def update_fn(updates, state, params=None, *, noise_std, noise_key, **extra_args):
    del params, extra_args
    leaves, treedef = jax.tree.flatten(updates)
    keys = jax.random.split(noise_key, len(leaves))
    noisy = [g + noise_std * jax.random.normal(k, g.shape, g.dtype) for g, k in zip(leaves, keys)]
    return jax.tree.unflatten(treedef, noisy), state

  return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def adamax_b2(step):
  """Freivalds & Liepins' AdaMax second-moment decay: 0.99 at the start, 0.9995 from
  step ~8,600 on."""
  return 1.0 - jnp.maximum(0.0005, 0.01 * 0.5**(step / 2000.0))


class AdamaxClippedState(NamedTuple):
  mu: optax.Updates  # first moment
  nu: optax.Updates  # running infinity norm


def adamax_clipped(learning_rate, b1, b2, eps, clip_multiplier=1.2, clip_epsilon=1e-4):
  """Freivalds & Liepins' AdaMax (their adamax.py, `optimizer='adamax_fl'`): each gradient
  entry is first clipped to +-(clip_multiplier * nu + clip_epsilon), nu the entry's running
  infinity norm before the step, so one outlier cannot blow up nu or the step (nu grows at
  most 1.2x a step, and the first steps are small: nu starts at 0); and no bias correction
  (optax.adamax divides the first moment by 1 - b1^t)."""

  def init_fn(params):
    return AdamaxClippedState(mu=jax.tree.map(jnp.zeros_like, params),
                              nu=jax.tree.map(jnp.zeros_like, params))

  def update_fn(updates, state, params=None):
    del params

    def clip(g, nu):
      bound = clip_multiplier * nu + clip_epsilon
      return jnp.clip(g, -bound, bound)

    clipped = jax.tree.map(clip, updates, state.nu)
    mu = jax.tree.map(lambda m, g: b1 * m + (1.0 - b1) * g, state.mu, clipped)
    nu = jax.tree.map(lambda n, g: jnp.maximum(b2 * n, jnp.abs(g)), state.nu, clipped)
    steps = jax.tree.map(lambda m, n: -learning_rate * m / (n + eps), mu, nu)
    return steps, AdamaxClippedState(mu=mu, nu=nu)

  return optax.GradientTransformation(init_fn, update_fn)


def make_optimizer(config) -> optax.GradientTransformationExtraArgs:
  """clip by global norm -> gradient noise -> Adam, AdaMax or Freivalds & Liepins' AdaMax
  (`config.optimizer`; learning rate kept in the state, so the decay on stalls is
  checkpointed with it); a step whose gradients are not finite changes nothing
  (optax.apply_if_finite, never giving up) and is counted in the state.

  With grad_noise_scale 0 the noise stage is `optax.identity()`, which has the same (empty)
  state: drawing zero-scaled noise cost seconds of compile time per bucket on XLA:CPU.
  """
  return optax.apply_if_finite(
      optax.chain(
          optax.clip_by_global_norm(config.grad_clip),
          gradient_noise() if config.grad_noise_scale > 0 else optax.identity(),
          optax.inject_hyperparams(optax.adamax)(learning_rate=config.learning_rate, b1=0.9,
                                                 b2=adamax_b2, eps=1e-8)
          if config.optimizer == 'adamax' else
          optax.inject_hyperparams(adamax_clipped)(learning_rate=config.learning_rate,
                                                   b1=0.9, b2=adamax_b2, eps=1e-8)
          if config.optimizer == 'adamax_fl' else
          optax.inject_hyperparams(optax.adam)(learning_rate=config.learning_rate,
                                               eps=config.adam_eps)),
      max_consecutive_errors=2**30)


def masked_cross_entropy(logits_BxNxV, targets_BxN, lengths_B, per_example=False):
  """Mean cross-entropy over the positions inside each example's width (padding included:
  the model must also learn to write padding after the answer). per_example: the mean of
  each example's own mean, so that every example counts the same whatever its length
  (config.loss_per_example, as Freivalds & Liepins weigh every length bin the same);
  otherwise every position counts the same."""
  inside = jnp.arange(targets_BxN.shape[1])[None, :] < lengths_B[:, None]
  ce = optax.softmax_cross_entropy_with_integer_labels(logits_BxNxV, targets_BxN) * inside
  if per_example:
    return jnp.mean(jnp.sum(ce, axis=1) / jnp.maximum(jnp.sum(inside, axis=1), 1))
  return jnp.sum(ce) / jnp.maximum(jnp.sum(inside), 1)


def strict_seq_error(logits_BxNxV, targets_BxN, lengths_B):
  inside = jnp.arange(targets_BxN.shape[1])[None, :] < lengths_B[:, None]
  wrong = (jnp.argmax(logits_BxNxV, -1) != targets_BxN) & inside
  return jnp.mean(wrong.any(axis=1).astype(jnp.float32))


def compiler_options() -> dict:
  """XLA options for jitting the train step. On a CPU, LLVM's -O2 for the loops XLA generates
  instead of its default -O3: the same parameters to the bit after a step, no slower beyond
  the noise, and a fifth to a third less compile time per bucket (interleaved A/Bs at batch
  32, n 41, m 24, 2-core CPU, 2026-11-29: 7.7 -> 5.5 s and 8.3 -> 6.7 s; experiments/RESULTS.md,
  speed). The matmuls and convolutions are library calls that it does not touch."""
  return {'xla_backend_optimization_level': 2} if jax.default_backend() == 'cpu' else {}


def train_step_fn(cfg: model.ModelConfig, tx, dropout_rate: float, conv_impl='banded',
                  saturation_weight: float = 0.0, steps: str = 'own',
                  per_example_loss: bool = False):
  """The pure train step (state, batch, key, pull, noise_scale, step[, sets_in_use,
  adapted_saturation_weight]) ->
  (state, metrics). Loss: cross-entropy (`masked_cross_entropy`, per_example_loss as its
  per_example) + pull * pull penalty + saturation_weight * saturation cost ('dcgru'; a
  step given adapted_saturation_weight uses that instead: config.adapt_saturation_weight).
  steps: 'own' (an example gets its own width in steps) or 'bucket' (every example gets the
  batch's width in steps, or steps_B when the step is given them: its bin's width with
  train_lengths 'bins'; config.train_steps).

  state = {'params', 'opt_state'}; jit it (train_and_evaluate does, with the state donated;
  seeds.py vmaps it over the seeds first).
  """

  def step_fn(state, inputs_BxN, targets_BxN, lengths_B, key, pull, noise_scale, step,
              sets_in_use=None, adapted_saturation_weight=None, steps_B=None):
    dropout_key, noise_key = jax.random.split(key)
    sat_weight = (saturation_weight if adapted_saturation_weight is None
                  else adapted_saturation_weight)
    if steps == 'own':
      steps_B = None
    elif steps_B is None:
      steps_B = jnp.full_like(lengths_B, model.step_count(cfg, inputs_BxN.shape[1]))

    def loss_fn(params):
      logits, cost = model.forward_with_saturation(
          params, inputs_BxN, lengths_B, cfg, dropout_rate=dropout_rate,
          dropout_key=dropout_key, conv_impl=conv_impl, sets_in_use=sets_in_use,
          steps_B=steps_B)
      ce = masked_cross_entropy(logits, targets_BxN, lengths_B, per_example_loss)
      loss = ce + pull * relaxation.pull_penalty(params) + sat_weight * cost
      return loss, (ce, cost, logits)

    (_, (ce, cost, logits)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state['params'])
    seq_error = strict_seq_error(logits, targets_BxN, lengths_B)
    # The paper's gradient noise: variance noise_scale * seq_error / sqrt(step).
    noise_std = jnp.sqrt(noise_scale * seq_error / jnp.sqrt(step + 1.0))
    updates, opt_state = tx.update(grads, state['opt_state'], state['params'],
                                   noise_std=noise_std, noise_key=noise_key)
    params = optax.apply_updates(state['params'], updates)
    # Metrics of a skipped (non-finite) step count as 0 in the interval's sums.
    finite = opt_state.last_finite
    metrics = {'loss': ce, 'seq_error': seq_error, 'grad_norm': optax.tree_utils.tree_norm(grads)}
    if cfg.cell == 'dcgru':
      metrics['saturation'] = cost  # unweighted, for config.adapt_saturation_weight
    metrics = {k: jnp.where(finite, v, 0.0) for k, v in metrics.items()}
    metrics['finite_steps'] = finite.astype(jnp.float32)
    return {'params': params, 'opt_state': opt_state}, metrics

  return step_fn


def sample_batch(task, config, cur_state: dict, step: int):
  """(inputs, targets) [batch, n] and lengths [batch] of training step `step`: a pure
  function of (seed, step) and the curriculum state.

  train_lengths 'one': one length for the batch, drawn by `curriculum.sample_digits`;
  'all': every example its own digits, uniform over [min, cur], padded to the widest.
  """
  rng = np.random.default_rng([config.seed, step])
  if config.train_lengths == 'one':
    digits = curriculum.sample_digits(cur_state, task.min_digits, config.max_train_digits, rng)
    x, y = tasks.sample(task, digits, config.batch_size, rng)
    if config.train_hard_fraction:  # drawn only then: the paper's batches stay as they were
      families = tasks.choose_hard_families(task, config.train_hard_families)
      for i in np.flatnonzero(rng.random(config.batch_size) < config.train_hard_fraction):
        family = families[int(rng.integers(len(families)))]
        hard_x, hard_y = tasks.sample_hard(task, family, digits, 1, rng)
        x[i], y[i] = hard_x[0], hard_y[0]
    return x, y, np.full((config.batch_size,), x.shape[1], np.int32)
  digits = rng.integers(task.min_digits, cur_state['cur'] + 1, size=config.batch_size)
  n = task.length(int(digits.max()))
  rows = [tasks.sample(task, int(d), 1, rng) for d in digits]
  return _stack_rows(rows, n)


def _stack_rows(rows, n: int):
  """One-example (x, y) pairs of different widths as (inputs, targets) [len(rows), n],
  zero-padded, and their lengths [len(rows)]."""
  pad = lambda a: np.pad(a, ((0, 0), (0, n - a.shape[1])))
  return (np.concatenate([pad(x) for x, _ in rows]), np.concatenate([pad(y) for _, y in rows]),
          np.array([x.shape[1] for x, _ in rows], np.int32))


def bin_digits(task, config) -> list:
  """The digit counts of each of config.train_bins (train_lengths 'bins'): those whose
  length lies in (previous bin, bin]. Raises ValueError for bins that are not increasing, a
  last bin other than the width of max_train_digits, or a bin without a length."""
  bins = tuple(int(b) for b in config.train_bins)
  n_max = task.length(config.max_train_digits)
  if not bins or any(a >= b for a, b in zip(bins, bins[1:])) or bins[-1] != n_max:
    raise ValueError(f'train_bins must be increasing widths ending at {n_max}, the width of '
                     f'max_train_digits {config.max_train_digits} for {task.name}; got {bins}')
  lengths = {d: task.length(d) for d in range(task.min_digits, config.max_train_digits + 1)}
  digits = [np.array([d for d, n in lengths.items() if low < n <= high])
            for low, high in zip((0,) + bins, bins)]
  for width, ds in zip(bins, digits):
    if not ds.size:
      raise ValueError(f'train_bins: no {task.name} length falls in the bin of width {width} '
                       f'(lengths: {sorted(set(lengths.values()))})')
  return digits


# Their collectBins adds len(bin) / 20 examples of smaller bins to every bin after the first.
SMALLER_BIN_SHARE = 1 / 21


def sample_bins_batch(task, config, step: int):
  """train_lengths 'bins': (inputs, targets) [batch, last bin], lengths [batch] and each
  example's bin width [batch]; batch_size / len(train_bins) examples from each bin in bin
  order. An example's digits are uniform over its bin's (`bin_digits`); in bins after the
  first, each example comes from a smaller bin (uniform) with probability SMALLER_BIN_SHARE
  and keeps this bin's width. A pure function of (seed, step)."""
  rng = np.random.default_rng([config.seed, step])
  digits = bin_digits(task, config)
  per_bin = config.batch_size // len(digits)
  rows, widths = [], []
  for i, width in enumerate(config.train_bins):
    for _ in range(per_bin):
      source = (int(rng.integers(i)) if i and rng.random() < SMALLER_BIN_SHARE else i)
      rows.append(tasks.sample(task, int(rng.choice(digits[source])), 1, rng))
      widths.append(width)
  return (*_stack_rows(rows, config.train_bins[-1]), np.array(widths, np.int32))


def curriculum_check(task, config, check_logits, params, cur_state: dict, step: int) -> float:
  """Strict sequence error, without dropout, of a fresh batch at the curriculum's current
  length (drawn from default_rng([seed, CURRICULUM_STREAM, step]))."""
  x, y = tasks.sample(task, cur_state['cur'], config.batch_size,
                      np.random.default_rng([config.seed, CURRICULUM_STREAM, step]))
  width = bucket(x.shape[1], task.length(config.max_train_digits), config.bucket_step)
  pad = ((0, 0), (0, width - x.shape[1]))
  lengths = np.full((config.batch_size,), x.shape[1], np.int32)
  return float(strict_seq_error(check_logits(params, np.pad(x, pad), lengths), np.pad(y, pad),
                                lengths))


def decay_on_stall(config, progress: dict, loss: float, step: int):
  """The original's learning-rate decay rule, checked every lr_decay_every steps: decay when
  the window's mean loss is above each of the 3 windows before it.

  Returns (interval_losses, window_losses, decay) after an interval ending at `step` with
  mean loss `loss`; `progress` holds the lists so far.
  """
  interval_losses = progress['interval_losses'] + [loss]
  window_losses = progress['window_losses']
  if step % config.lr_decay_every:
    return interval_losses, window_losses, False
  window_losses = (window_losses + [float(np.mean(interval_losses))])[-4:]
  return [], window_losses, len(window_losses) == 4 and window_losses[-1] > max(window_losses[:-1])


def adapt_saturation_weight(config, progress: dict, loss: float, saturation: float,
                            lr: float, step: int):
  """Freivalds & Liepins' saturation weight (config.adapt_saturation_weight): at the end of
  each lr_decay_every window (their 200 steps) it becomes lr x the window's mean loss / its
  mean saturation cost, at most config.saturation_weight (their start and cap, 1e-3) and at
  least 1e-20, so that the weighted cost stays about lr times the loss. Called before the
  window's learning-rate decay, as they do.

  Returns (the interval saturation costs of the window so far, the weight) after an interval
  ending at `step` with mean loss `loss` and mean unweighted cost `saturation`.
  """
  costs = progress.get('interval_saturation', []) + [saturation]
  weight = progress.get('saturation_weight', config.saturation_weight)
  if step % config.lr_decay_every:
    return costs, weight
  window_loss = float(np.mean(progress['interval_losses'] + [loss]))
  weight = lr * window_loss / max(float(np.mean(costs)), 1e-30)
  return [], float(min(max(weight, 1e-20), config.saturation_weight))


def add_metrics(sums, step_metrics: dict) -> dict:
  """The interval's metric sums with one more step's; a metric that a checkpoint taken
  inside the interval by older code did not sum starts from this step."""
  if sums is None:
    return step_metrics
  return {k: v + sums[k] if k in sums else v for k, v in step_metrics.items()}


def learning_rate(opt_state) -> float:
  return float(opt_state.inner_state[-1].hyperparams['learning_rate'])


def set_learning_rate(opt_state, value: float):
  """opt_state with Adam's learning rate replaced (optax.inject_hyperparams keeps it there).
  value: a number, or one per member of a many-seeds state ([K]); a number is given to every
  member, so the state keeps its shape."""
  chain = opt_state.inner_state
  adam = chain[-1]
  old = adam.hyperparams['learning_rate']
  hyperparams = {**adam.hyperparams,
                 'learning_rate': jnp.broadcast_to(jnp.asarray(value, old.dtype), old.shape)}
  return opt_state._replace(inner_state=(*chain[:-1], adam._replace(hyperparams=hyperparams)))


def initial_state(config, cfg, tx, merged: bool):
  params = model.init_params(jax.random.key(config.seed), cfg)
  if merged:
    params = relaxation.merge(params)
  return {'params': params, 'opt_state': tx.init(params)}


def read_config(workdir: str):
  """The config a workdir was trained with (workdir/config.json), or None."""
  path = os.path.join(workdir, 'config.json')
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return ml_collections.ConfigDict(json.load(f))


def check_matches_workdir(workdir: str, config) -> None:
  """Raises ValueError when the workdir holds a run of another task or model."""
  old = read_config(workdir)
  if old is None:
    return
  if old.task != config.task:
    raise ValueError(f'workdir {workdir} holds a task={old.task!r} run but the config says '
                     f'task={config.task!r}; use another --workdir')
  defaults = dataclasses.asdict(model.ModelConfig())  # fields an older run's file lacks
  # extra_steps may differ: it sets how long the model runs, not what its parameters are.
  for field in sorted((set(old.model) | set(config.model)) - {'extra_steps'}):
    value, wanted = (c.model.get(field, defaults.get(field)) for c in (old, config))
    if wanted != value:
      raise ValueError(f'workdir {workdir} holds a model with model.{field}={value!r} but the '
                       f'config says model.{field}={wanted!r}; use another '
                       f'--workdir or the same model settings')


def save_config(workdir: str, config) -> None:
  """workdir/config.json, after checking that the workdir holds no other task or model."""
  check_matches_workdir(workdir, config)
  path = os.path.join(workdir, 'config.json')
  tmp = path + '.tmp'
  with open(tmp, 'w') as f:
    f.write(config.to_json(indent=1))
  os.replace(tmp, path)


def prepare_workdir(workdir: str) -> str:
  if not workdir:
    raise ValueError('a workdir is needed: pass --workdir=DIR')
  workdir = os.path.abspath(workdir)
  try:
    os.makedirs(workdir, exist_ok=True)
  except OSError as e:
    raise ValueError(f'cannot create workdir {workdir}: {e.strerror}') from None
  if not os.access(workdir, os.W_OK):
    raise ValueError(f'workdir {workdir} is not writable; choose another --workdir')
  return workdir


def _log_line(record: dict) -> str:
  eta = record['time_left_s']
  return (f"step {record['step']:>6}  digits<= {record['cur']:>3}  "
          f"loss {record['loss']:.4f}  train_seq_err {record['train_seq_error']:.3f}  "
          f"check_seq_err@{record['cur_checked']} {record['check_seq_error']:.3f}  "
          f"pull {record['pull']:.5f}  lr {record['learning_rate']:.2e}  "
          + (f"sat_w {record['saturation_weight']:.2e}  " if 'saturation_weight' in record else '')
          + f"{record['steps_per_s']:.2f} steps/s  left {int(eta) // 60}m{int(eta) % 60:02d}s"
          + (f"  skipped {record['skipped_steps']}" if record['skipped_steps'] else '')
          + ('  [advance]' if record['advanced'] else '') + ('  [merged]' if record['merged_now'] else ''))


class Interrupted(Exception):
  """Training stopped by SIGINT or SIGTERM after saving a checkpoint of the current step."""

  def __init__(self, signum: int, step: int):
    super().__init__(f'interrupted by signal {signum} at step {step}; a checkpoint of that '
                     'step was saved: run the same command again to resume')
    self.signum = signum


@contextlib.contextmanager
def stop_on_signals():
  """Within the block SIGINT/SIGTERM only set `stop.signum`; the loop saves and stops."""
  stop = types.SimpleNamespace(signum=None)
  if threading.current_thread() is not threading.main_thread():
    yield stop  # signal handlers can only be installed from the main thread
    return

  def handler(signum, frame):
    del frame
    stop.signum = signum

  old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
  try:
    yield stop
  finally:
    for sig, previous in old.items():
      signal.signal(sig, previous)


def resumed_interval(progress):
  """(metric sums so far, first step) of the log interval a checkpoint was taken in.

  A checkpoint taken inside an interval keeps the sums (as the float32 values they are) so
  the resumed run logs and decays exactly the same.
  """
  sums = progress.get('interval_sums')
  sums = None if sums is None else {k: jnp.float32(v) for k, v in sums.items()}
  return sums, progress.get('interval_step', progress['step'])


def save_inside_interval(ckpts, state, progress, interval_step, sums) -> None:
  """A checkpoint of a run stopping inside a log interval: with the interval's metric sums
  (float32 values as lists of floats, one per seed in a many-seeds run)."""
  ckpts.save(progress['step'], state['params'], state['opt_state'],
             {**progress, 'interval_step': interval_step,
              'interval_sums': {k: np.asarray(v).tolist() for k, v in sums.items()}})


def save_at_interval_end(ckpts, config, state, progress, stop, log) -> bool:
  """At a log interval's end: saves a checkpoint when one is due (every checkpoint_every
  steps, at the last step, on a signal, when train_minutes is used up); returns whether
  train_minutes is used up, i.e. whether training stops here."""
  step = progress['step']
  out_of_time = 0 < config.train_minutes * 60 <= progress['wall_s']
  if (step % config.checkpoint_every == 0 or step == config.num_train_steps or out_of_time
      or stop.signum):
    ckpts.save(step, state['params'], state['opt_state'], progress)
  if out_of_time:
    log(f'stopping: {config.train_minutes} minutes of training reached (train_minutes)')
  return out_of_time

def train_and_evaluate(config, workdir: str, log=print) -> dict:
  """Trains (resuming from the workdir's latest checkpoint), then evaluates at
  config.eval_digits; returns the evaluation results {digits: rates}. With
  config.num_seeds > 1 the seeds train in one program (seeds.py) and the results are the
  best member's."""
  if config.get('num_seeds', 1) > 1:
    from ngpu_jax import seeds  # seeds.py builds on this module
    return seeds.train_seeds(config, workdir, log)
  task = check_config(config)
  cfg = model_config(config)
  mesh = parallel.data_mesh(config.num_devices)
  parallel.check_batch(config.batch_size, mesh)
  primary = parallel.is_primary()  # process 0 of a multi-process run writes logs and files
  log = log if primary else (lambda s: None)
  workdir = prepare_workdir(workdir)
  if primary:
    save_config(workdir, config)
  else:
    check_matches_workdir(workdir, config)
  tx = make_optimizer(config)
  ckpts = checkpoint.Checkpoints(workdir, keep_period=config.keep_checkpoint_every)
  n_max = task.length(config.max_train_digits)
  pull_of = relaxation.pull_schedule(config.pull_start, config.pull_factor, config.pull_cap)

  def templates(progress):  # what a checkpoint is restored onto: replicated on the mesh
    state = parallel.replicate(initial_state(config, cfg, tx, progress['curriculum']['merged']),
                               mesh)
    return state['params'], state['opt_state']

  found = ckpts.restore_newest_good(templates, log=log)
  if found is None:
    progress = {'step': 0, 'curriculum': curriculum.init_state(config.curriculum_start),
                'interval_losses': [], 'window_losses': [], 'wall_s': 0.0}
    state = parallel.replicate(initial_state(config, cfg, tx, merged=False), mesh)
  else:
    latest, progress, params, opt_state = found
    state = {'params': params, 'opt_state': opt_state}
    log(f'resumed from {ckpts.directory}/{latest} (step {progress["step"]})')

  # The state stays replicated; the batch arrives split across the mesh (parallel.py).
  step_fn = jax.jit(train_step_fn(cfg, tx, config.dropout,
                                  saturation_weight=config.saturation_weight,
                                  steps=config.train_steps,
                                  per_example_loss=config.loss_per_example),
                    donate_argnums=0,
                    out_shardings=parallel.replicated(mesh),
                    compiler_options=compiler_options())
  split = functools.partial(parallel.split_batch, mesh=mesh)
  check_logits = jax.jit(functools.partial(model.forward, cfg=cfg))
  base_key = jax.random.key(config.seed)
  writer = metrics.MetricsWriter(workdir, enabled=primary)
  sums, interval_step = resumed_interval(progress)
  interval_start = time.time()
  log(f'training {task.name}: {config.num_train_steps} steps, batch {config.batch_size}, '
      f'digits up to {config.max_train_digits} (n={n_max}), {mesh.size} device(s) '
      f'({mesh.devices.flat[0].platform}), workdir {workdir}')

  with stop_on_signals() as stop:
    while progress['step'] < config.num_train_steps and not stop.signum:
      step = progress['step']
      cur_state = progress['curriculum']
      steps_arg = {}
      if config.train_lengths == 'bins':
        inputs, targets, lengths, widths = sample_bins_batch(task, config, step)
        if config.train_steps == 'bucket':
          steps_arg['steps_B'] = split(model.step_count(cfg, widths))
      else:
        inputs, targets, lengths = sample_batch(task, config, cur_state, step)
      n = inputs.shape[1]
      width = bucket(n, n_max, config.bucket_step)
      pad = ((0, 0), (0, width - n))
      pull = pull_of(cur_state['advances'])
      # With adapt_saturation_weight the weight in use is passed (sets_in_use stays None).
      sat_weight = progress.get('saturation_weight', config.saturation_weight)
      extra_args = ((None, np.float32(sat_weight))
                    if config.get('adapt_saturation_weight', False) else ())
      state, step_metrics = step_fn(state, split(np.pad(inputs, pad)),
                                    split(np.pad(targets, pad)),
                                    split(lengths),
                                    jax.random.fold_in(base_key, step), pull,
                                    config.grad_noise_scale, step, *extra_args, **steps_arg)
      sums = add_metrics(sums, step_metrics)
      progress = {**progress, 'step': step + 1}
      if (step + 1) % config.curriculum_every:
        if step + 1 == config.num_train_steps or stop.signum:  # stopping inside an interval
          progress['wall_s'] += time.time() - interval_start
          save_inside_interval(ckpts, state, progress, interval_step, sums)
        continue

      # Interval end: read metrics, check the curriculum, decay the learning rate, log.
      steps_done = step + 1 - interval_step
      finite_steps = float(sums.pop('finite_steps'))
      means = {k: float(v) / max(finite_steps, 1.0) for k, v in sums.items()}
      skipped = int(state['opt_state'].total_notfinite)
      in_a_row = int(state['opt_state'].notfinite_count)
      if in_a_row >= config.max_nonfinite_steps:
        restores = progress.get('nonfinite_restores', 0)
        why = (f'{in_a_row} training steps in a row up to step {step + 1} had non-finite '
               'gradients (their updates were skipped)')
        found = (ckpts.restore_newest_good(templates, log=log)
                 if restores < config.max_nonfinite_restores else None)
        if found is None:
          reason = (f'{restores} restores with a lower learning rate did not help' if restores
                    else 'there is no checkpoint to go back to')
          raise FloatingPointError(
              f'{why}; {reason}. The checkpoints are untouched: lower learning_rate or raise '
              'grad_clip and resume')
        latest, progress, params, opt_state = found
        lr = learning_rate(opt_state) * config.nonfinite_lr_factor
        state = parallel.replicate({'params': params,
                                    'opt_state': set_learning_rate(opt_state, lr)}, mesh)
        progress = {**progress, 'nonfinite_restores': restores + 1}
        sums, interval_step = resumed_interval(progress)
        interval_start = time.time()
        log(f'WARNING: {why}; restored checkpoint {latest} with the learning rate lowered to '
            f'{lr:.3g} (restore {restores + 1} of at most {config.max_nonfinite_restores})')
        continue
      sums = None
      checked = cur_state['cur']
      check_error = curriculum_check(task, config, check_logits,
                                     parallel.local_copy(state['params']), cur_state, step + 1)
      new_cur = curriculum.advance(cur_state, check_error, config.curriculum_bound,
                                   config.max_train_digits)
      advanced = new_cur is not cur_state
      merged_now = False
      if advanced and pull >= config.pull_cap and not new_cur['merged']:
        state = {**state, 'params': relaxation.average_sets(state['params'])}
      if advanced and new_cur['cur'] >= config.max_train_digits and not new_cur['merged']:
        state = {'params': relaxation.merge(state['params']),
                 'opt_state': relaxation.merge(state['opt_state'])}
        new_cur = {**new_cur, 'merged': True}
        merged_now = True
      lr = learning_rate(state['opt_state'])
      adapted = {}
      if config.get('adapt_saturation_weight', False):
        costs, weight = adapt_saturation_weight(config, progress, means['loss'],
                                                means['saturation'], lr, step + 1)
        adapted = {'interval_saturation': costs, 'saturation_weight': weight}
      interval_losses, window_losses, decay = decay_on_stall(config, progress, means['loss'],
                                                             step + 1)
      if decay:
        lr = max(lr * config.lr_decay, config.min_learning_rate)
        state = {**state, 'opt_state': set_learning_rate(state['opt_state'], lr)}
      if advanced or decay:
        state = parallel.replicate(state, mesh)  # what changed outside the step, on the mesh
      now = time.time()
      rate = steps_done / max(now - interval_start, 1e-9)
      progress = {**progress, **adapted, 'curriculum': new_cur,
                  'interval_losses': interval_losses,
                  'window_losses': window_losses, 'interval_step': step + 1,
                  'interval_sums': None,
                  'wall_s': progress['wall_s'] + now - interval_start}
      record = {'step': step + 1, 'cur': new_cur['cur'], 'cur_checked': checked,
                'loss': means['loss'], 'train_seq_error': means['seq_error'],
                'grad_norm': means['grad_norm'], 'check_seq_error': check_error,
                'skipped_steps': skipped,
                'pull': float(pull_of(new_cur['advances'])), 'learning_rate': lr,
                'steps_per_s': rate, 'wall_s': progress['wall_s'],
                'time_left_s': (config.num_train_steps - step - 1) / rate,
                'advanced': advanced, 'merged_now': merged_now}
      if 'saturation' in means:
        record['saturation'] = means['saturation']
      if adapted:
        record['saturation_weight'] = adapted['saturation_weight']
      writer.write(record)
      log(_log_line(record))
      if save_at_interval_end(ckpts, config, state, progress, stop, log):
        break
      interval_start, interval_step = time.time(), step + 1

  ckpts.wait()
  ckpts.close()
  if stop.signum:
    writer.close()
    raise Interrupted(stop.signum, progress['step'])
  sets = relaxation.num_sets(state['params'])
  log(f'trained {progress["step"]} steps in {progress["wall_s"]:.0f} s of training; '
      f'curriculum at {progress["curriculum"]["cur"]} digits, '
      + ('one parameter set' if sets == 1 else f'{sets} relaxed parameter sets (not merged)'))
  params = parallel.local_copy(state['params'])  # evaluation: this process's first device
  results = evaluate.evaluate_lengths(params, cfg, task, config.eval_digits,
                                      config.eval_examples, config.eval_batch_size,
                                      config.seed, log=log)
  if primary:
    evaluate.write_json(workdir, results)
  writer.write_eval(results, progress['step'])
  writer.close()
  log(evaluate.format_table(task, results))
  evaluate_hard_inputs(config, params, cfg, task, workdir, log)
  return results


def evaluate_hard_inputs(config, params, cfg, task, workdir: str, log=print):
  """With config.eval_hard_examples > 0: the hard-input table and workdir/eval_hard.json."""
  if config.eval_hard_examples <= 0 or not tasks.has_hard_families(task):
    return None
  results = evaluate.evaluate_hard(params, cfg, task, config.eval_digits,
                                   config.eval_hard_examples, config.eval_batch_size,
                                   config.seed, log=log,
                                   families=config.eval_hard_families)
  if parallel.is_primary():
    evaluate.write_json(workdir, results, 'eval_hard.json')
  log(evaluate.format_hard_table(results))
  return results
