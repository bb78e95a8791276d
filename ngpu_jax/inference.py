"""Load a trained model and predict: `ngpu_jax.load(workdir).predict(inputs_BxN)`."""

import os

import jax
import numpy as np

from ngpu_jax import checkpoint, evaluate, model, relaxation, tasks, train


class Predictor:
  """A trained Neural GPU: `.task` (its name), `.config`, `.params`, `.predict(inputs)`."""

  def __init__(self, config, params, step: int):
    self.config = config
    self.task = config.task
    self.model_config = train.model_config(config)
    self.params = params
    self.step = step

  def predict(self, inputs_BxN, batch_size: int = 32) -> np.ndarray:
    """Predicted symbol ids [B, N] (argmax, one forward pass) for int inputs [B, N] in the
    SPEC encoding. Every row is taken at the full width N (N steps)."""
    inputs_BxN = check_inputs(inputs_BxN, self.model_config.vocab_size)
    evaluate.check_fits(self.model_config, inputs_BxN.shape[1],
                        min(batch_size, inputs_BxN.shape[0]), inputs_BxN.shape[0], 'predicting')
    return evaluate.predict(self.params, inputs_BxN, self.model_config,
                            min(batch_size, inputs_BxN.shape[0]))


def check_inputs(inputs_BxN, vocab_size: int) -> np.ndarray:
  """Validates predict inputs; returns them as int32. Raises ValueError."""
  array = np.asarray(inputs_BxN)
  if array.dtype == object or not np.issubdtype(array.dtype, np.integer):
    raise ValueError(f'inputs must be an integer array of symbol ids, got dtype {array.dtype}')
  if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
    raise ValueError(f'inputs must have shape [batch, n] with batch, n >= 1, got {array.shape}')
  bad = (array < 0) | (array >= vocab_size)
  if bad.any():
    value = array[bad][0]
    raise ValueError(f'inputs hold symbol id {value}, outside the vocabulary 0..{vocab_size - 1} '
                     f'(0 padding, digit v -> v + 1, + -> {tasks.PLUS}, * -> {tasks.TIMES})')
  return array.astype(np.int32)


def load(workdir: str, step=None) -> Predictor:
  """The model saved in `workdir` (its latest checkpoint, or `step`)."""
  workdir = os.path.abspath(workdir)
  config = train.read_config(workdir) if os.path.isdir(workdir) else None
  if config is None:
    raise ValueError(f'{workdir} holds no trained model (no config.json); train one there first '
                     'or pass the workdir of a trained run')
  cfg = train.model_config(config)

  def templates(progress):
    template = jax.eval_shape(lambda: model.init_params(jax.random.key(0), cfg))
    if progress['curriculum']['merged']:
      template = jax.eval_shape(relaxation.merge, template)
    return template, None

  ckpts = checkpoint.Checkpoints(workdir, read_only=True)
  try:
    if step is None:
      found = ckpts.restore_newest_good(templates, log=lambda s: None)
      if found is None:
        raise ValueError(f'{workdir} holds no checkpoint; train there first')
      step, _, params, _ = found
    else:
      if step not in ckpts.manager.all_steps():
        raise ValueError(f'{workdir} has no checkpoint {step}; it has {list(ckpts.manager.all_steps())}')
      try:
        params, _ = ckpts.restore(step, *templates(ckpts.progress(step)))
      except checkpoint.CheckpointDamaged as e:
        raise ValueError(f'{e}; load another step') from None
  finally:
    ckpts.close()
  return Predictor(config, params, step)
