"""Load a trained model and predict: `ngpu_jax.load(workdir).predict(inputs_BxN)`.

A model is a training workdir (config.json and orbax checkpoints) or a shipped model,
`ngpu_jax.load('pretrained/NAME')`: the directory ngpu_jax/pretrained/NAME/ installed with
the package, holding config.json, params.npz (arrays only, read without pickle) and info.json
(how it was trained and what it reached, measured).
"""

import json
import os

import jax
import ml_collections
import numpy as np

from ngpu_jax import checkpoint, evaluate, model, relaxation, tasks, train


class Predictor:
  """A trained Neural GPU: `.task` (its name), `.config`, `.params`, `.predict(inputs)`,
  `.answer(text)`; `.directory`: where it was loaded from (its metrics.jsonl, when trained
  there)."""

  def __init__(self, config, params, step: int, directory: str = ''):
    self.directory = directory
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

  def answer(self, text: str) -> str:
    """The model's answer to one example written as people write it (most-significant digit
    first, e.g. '1011+0110' -> '10001'); ValueError for text the task cannot read."""
    task = tasks.get(self.task)
    return tasks.decode_text(task, self.predict(tasks.encode_text(task, text))[0])


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


PRETRAINED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pretrained')


def shipped_models() -> list:
  return sorted(name for name in os.listdir(PRETRAINED_DIR)
                if os.path.isfile(os.path.join(PRETRAINED_DIR, name, 'params.npz')))


def resolve(model: str) -> str:
  """The directory of a model: `pretrained/NAME` names a shipped model (unless a directory
  of that name exists here); anything else is a workdir path (str or os.PathLike)."""
  model = os.fspath(model)
  if model.startswith('pretrained/') and not os.path.isdir(model):
    name = model[len('pretrained/'):]
    path = os.path.join(PRETRAINED_DIR, name)
    if not os.path.isfile(os.path.join(path, 'params.npz')):
      raise ValueError(f'no shipped model {name!r}; the shipped models are: '
                       f'{", ".join("pretrained/" + n for n in shipped_models())}')
    return path
  return model


def save_shipped(predictor: Predictor, directory: str, info: dict) -> None:
  """Writes a model in the shipped form: config.json, params.npz, info.json (`info`: how it
  was trained and what it reached, plus the step)."""
  os.makedirs(directory, exist_ok=True)
  with open(os.path.join(directory, 'config.json'), 'w') as f:
    f.write(predictor.config.to_json(indent=1))
  np.savez(os.path.join(directory, 'params.npz'),
           **{name: np.asarray(value) for name, value in predictor.params.items()})
  with open(os.path.join(directory, 'info.json'), 'w') as f:
    json.dump({**info, 'step': predictor.step}, f, indent=1)


def _load_shipped(directory: str, config) -> Predictor:
  with np.load(os.path.join(directory, 'params.npz'), allow_pickle=False) as arrays:
    params = {name: jax.numpy.asarray(arrays[name]) for name in arrays.files}
  with open(os.path.join(directory, 'info.json')) as f:
    step = json.load(f)['step']
  expected = jax.eval_shape(lambda: model.init_params(jax.random.key(0),
                                                      train.model_config(config)))
  if params.get('gates_bias', np.zeros(0)).shape[:1] == (1,):  # merged (as trained models are)
    expected = jax.eval_shape(relaxation.merge, expected)
  got = jax.tree.map(lambda x: x.shape, params)
  if got != jax.tree.map(lambda x: x.shape, expected):
    raise ValueError(f'{directory}/params.npz does not hold the arrays its config.json '
                     'describes (a damaged or mixed-up shipped model)')
  return Predictor(config, params, step, directory)


def load(workdir: str, step=None, extra_steps=None) -> Predictor:
  """The model saved in `workdir` (its latest checkpoint, or `step`), or the shipped model
  `pretrained/NAME`. extra_steps: run it that many steps past its input's length
  (model.extra_steps; None: as it was saved)."""
  return with_extra_steps(_load(workdir, step), extra_steps)


def with_extra_steps(predictor: Predictor, extra_steps=None) -> Predictor:
  """The same model run `extra_steps` steps past its input's length (model.extra_steps), or
  itself for None. The parameters are shared, not copied."""
  if extra_steps is None:
    return predictor
  config = ml_collections.ConfigDict(predictor.config.to_dict())
  config.model.extra_steps = extra_steps
  return Predictor(config, predictor.params, predictor.step, predictor.directory)


def _load(workdir: str, step=None) -> Predictor:
  workdir = os.path.abspath(resolve(workdir))
  config = train.read_config(workdir) if os.path.isdir(workdir) else None
  if config is None:
    raise ValueError(f'{workdir} holds no trained model (no config.json); train one there first '
                     'or pass the workdir of a trained run')
  if config.get('num_seeds', 1) > 1:  # a many-seeds run: its model is the best member
    best = os.path.join(workdir, 'best')
    if not os.path.isdir(best):
      raise ValueError(f'{workdir} is a run of {config.num_seeds} seeds whose best member is '
                       'chosen when training ends; it has not ended yet (no best/ there)')
    return _load(best, step)
  if os.path.isfile(os.path.join(workdir, 'params.npz')):
    if step is not None:
      raise ValueError(f'{workdir} is a shipped model (one set of parameters, no steps); '
                       'load it without a step')
    return _load_shipped(workdir, config)
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
  return Predictor(config, params, step, workdir)
