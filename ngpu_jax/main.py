"""Command line: train, evaluate or query a Neural GPU.

  python -m ngpu_jax.main --config=experiments/configs/badd.py --workdir=DIR
      [--mode=train|eval] [--config.FIELD=VALUE ...]
  python -m ngpu_jax.main --mode=predict --checkpoint=DIR --input="1011+0110"
  python -m ngpu_jax.main --mode=visualize --checkpoint=DIR --input="1011+0110" [--workdir=OUT]
  (or the same with the console script: ngpu-jax ...)
DIR in --checkpoint may also name a shipped model: --checkpoint=pretrained/copy.

train: trains (resuming from DIR's latest checkpoint if there is one), then evaluates at
       config.eval_digits, prints the table and writes DIR/eval.json.
eval:  evaluates the latest checkpoint of --checkpoint (default DIR; --step=S for another
       kept one) at config.eval_digits (the config must describe the same task and model;
       --config.model.extra_steps=K runs it K steps past each input's length) and writes
       DIR/eval.json.
predict: prints the model's answer to --input, written as people write numbers
       (most-significant digit first), and whether it is right.
visualize: pictures of the model working on --input: its state over the steps, its gates,
       the answer it would give after each step, a GIF, and the learning curves
       (PNG/GIF files in WORKDIR/visualize/, WORKDIR defaulting to the model's).
Errors in the input are reported on one line on stderr, with exit status 2.
SIGINT (Ctrl-C) or SIGTERM during training saves a checkpoint of the current step and exits
with status 128 + the signal number; the same command resumes exactly where it stopped.
Training uses all local devices (config.num_devices), data parallel; several processes join
one run with --coordinator_address/--num_processes/--process_id or --distributed.
--config.num_seeds=K trains K seeds in one program and keeps the best (DIR/best/, DIR/seeds.json).

Main config fields (all of them, with comments: ngpu_jax/config.py; README's table):
  task (copy rev dup sort badd qadd dadd bmul qmul dmul badd3 badd_carry dmul_bcd
    bmul_full)   seed
  batch_size   num_train_steps   train_minutes (stop after this much training)
  max_train_digits   eval_digits, eval_examples (tuples)   eval_hard_examples
  learning_rate   dropout   grad_noise_scale   curriculum_bound
  pull_start, pull_factor, pull_cap   num_devices   num_seeds, grid.FIELD
  model.nmaps   model.height   model.relax_sets   model.layers   model.extra_steps
"""

import importlib.util
import os
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from ngpu_jax import evaluate, inference, parallel, tasks, train

_CONFIG = config_flags.DEFINE_config_file(
    'config', None, 'Config file, e.g. experiments/configs/badd.py; fields can be changed with '
    '--config.FIELD=VALUE (sequences as tuples: --config.eval_digits="(20,200)").',
    lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Run directory: checkpoints, metrics.jsonl, '
                               'eval.json. A run on a workdir with a checkpoint resumes it.')
_MODE = flags.DEFINE_enum(
    'mode', 'train', ['train', 'eval', 'predict', 'visualize'],
    'train: train then evaluate; eval: evaluate a trained model at config.eval_digits; '
    'predict: answer --input with a trained model; visualize: pictures of the model working '
    'on --input (PNG and GIF files in WORKDIR/visualize/, default the model\'s workdir).')
_CHECKPOINT = flags.DEFINE_string(
    'checkpoint', None, 'eval/predict/visualize: the trained model to use, a workdir or a '
    'shipped model pretrained/NAME (default: --workdir).')
_STEP = flags.DEFINE_integer(
    'step', None, 'eval/predict/visualize: the checkpoint step to use (default: the newest '
    'readable one); runs with config.keep_checkpoint_every keep older ones to choose from.')
_COORDINATOR = flags.DEFINE_string(
    'coordinator_address', None, 'Several processes (hosts): host:port of process 0; with '
    '--num_processes and --process_id. Each process runs the same command.')
_NUM_PROCESSES = flags.DEFINE_integer('num_processes', None, 'Several processes: how many.')
_PROCESS_ID = flags.DEFINE_integer('process_id', None, 'Several processes: this one, 0..N-1.')
_DISTRIBUTED = flags.DEFINE_bool(
    'distributed', False, 'Join a multi-process run whose settings JAX detects itself (Cloud '
    'TPU pod slices, SLURM); implied by --coordinator_address.')
_INPUT = flags.DEFINE_string(
    'input', None, 'predict: an example as people write it, most-significant digit first, '
    'e.g. "1011+0110" for badd or "0110" for rev.')


def evaluate_model(config, model_dir: str, workdir: str, step=None) -> dict:
  """Evaluates the model in model_dir (its newest checkpoint, or `step`) at
  config.eval_digits; eval.json goes to workdir."""
  train.check_config(config)
  train.check_matches_workdir(model_dir, config)
  predictor = inference.load(model_dir, step, config.model.extra_steps)
  task = tasks.get(config.task)
  extra = config.model.extra_steps
  print(f'evaluating {model_dir} (step {predictor.step}'
        + (f', {extra} steps past each input' if extra else '') + ')', flush=True)
  results = evaluate.evaluate_lengths(predictor.params, predictor.model_config, task,
                                      config.eval_digits, config.eval_examples,
                                      config.eval_batch_size, config.seed)
  workdir = train.prepare_workdir(workdir)
  evaluate.write_json(workdir, results)
  print(evaluate.format_table(task, results), flush=True)
  train.evaluate_hard_inputs(config, predictor.params, predictor.model_config, task, workdir,
                             log=lambda s: print(s, flush=True))
  return results


def visualize_text(model_dir: str, text: str, workdir: str, step=None) -> list:
  """Writes the pictures of the model in model_dir working on one example."""
  from ngpu_jax import visualize  # matplotlib only for this mode

  predictor = inference.load(model_dir, step)
  outdir = os.path.join(train.prepare_workdir(workdir), 'visualize')
  paths = visualize.write_all(predictor, text, outdir,
                              os.path.join(predictor.directory, 'metrics.jsonl'))
  for path in paths:
    print(path, flush=True)
  return paths


def predict_text(model_dir: str, text: str, step=None) -> bool:
  """Prints the model's answer to one human-written example and whether it is right."""
  predictor = inference.load(model_dir, step)
  task = tasks.get(predictor.task)
  answer = predictor.answer(text)
  truth = tasks.decode_text(task, tasks.solve(task, tasks.encode_text(task, text))[0])
  right = answer == truth
  print(f'{text} -> {answer}  ({"right" if right else f"wrong: the answer is {truth}"}; '
        f'{task.name} model from {model_dir}, step {predictor.step})', flush=True)
  return right


def _fail(message: str):
  print(f'ngpu-jax: error: {message}', file=sys.stderr)
  sys.exit(2)


def _field_names(config, prefix='') -> list:
  names = []
  for key, value in config.items():
    if hasattr(value, 'items'):
      names += _field_names(value, f'{prefix}{key}.')
    else:
      names.append(prefix + key)
  return names


def _explain_config_error(argv, error) -> str:
  """What is wrong with --config or a --config.FIELD override, in one line."""
  paths = [a.split('=', 1)[1] for a in argv if a.startswith('--config=')]
  if not paths:
    return f'{error}'
  path = paths[-1]
  if not os.path.isfile(path):
    return f'config file {path!r} does not exist'
  try:
    spec = importlib.util.spec_from_file_location('ngpu_jax_user_config', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config()
    fields = _field_names(config)
  except Exception as e:  # pylint: disable=broad-except  # any failure of the user's file
    return (f'cannot load the config file {path!r}: it must define get_config() returning an '
            f'ml_collections ConfigDict ({type(e).__name__}: {e})')
  for arg in argv:
    if arg.startswith('--config.'):
      field = arg[len('--config.'):].split('=', 1)[0]
      if field not in fields:
        return f'unknown config field {field!r}; valid fields: {", ".join(fields)}'
  return f'{error}'


def parse_flags(argv):
  """absl's flag parsing, with one-line errors (exit 2) for a config file that cannot be
  loaded, an unknown --config.FIELD and any other bad flag."""
  try:
    rest = flags.FLAGS(argv)
    if _CONFIG.value is not None:
      _CONFIG.value.keys()  # config files load lazily: make their errors show here
    return rest
  except (AttributeError, KeyError, OSError) as e:
    _fail(_explain_config_error(argv, e))
  except flags.Error as e:
    _fail(f'{e}; see --help')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {" ".join(argv[1:])}')
  logging.set_verbosity(logging.ERROR)  # orbax logs every checkpoint step (INFO, WARNING)
  if _COORDINATOR.value or _DISTRIBUTED.value:
    parallel.initialize_distributed(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value)
  config, mode = _CONFIG.value, _MODE.value
  model_dir = _CHECKPOINT.value or _WORKDIR.value
  try:
    if model_dir and mode != 'train':
      if model_dir != inference.resolve(model_dir) and not _WORKDIR.value and mode != 'predict':
        raise ValueError(f'{mode} writes files: pass --workdir=OUT with the shipped model '
                         f'{model_dir}')
      model_dir = inference.resolve(model_dir)
    if mode == 'predict':
      if not model_dir:
        raise ValueError('predict needs a trained model: pass --checkpoint=DIR or --workdir=DIR')
      if not _INPUT.value:
        raise ValueError('predict needs --input, e.g. --input="1011+0110"')
      predict_text(model_dir, _INPUT.value, _STEP.value)
      return
    if mode == 'visualize':
      if not model_dir:
        raise ValueError('visualize needs a trained model: pass --checkpoint=DIR or --workdir=DIR')
      if not _INPUT.value:
        raise ValueError('visualize needs --input, e.g. --input="1011+0110"')
      visualize_text(model_dir, _INPUT.value, _WORKDIR.value or model_dir, _STEP.value)
      return
    if config is None:
      raise ValueError('--config is required, e.g. --config=experiments/configs/default.py')
    if not _WORKDIR.value:
      raise ValueError('--workdir is required, e.g. --workdir=/tmp/ngpu_run')
    if mode == 'train':
      if _STEP.value is not None:
        raise ValueError('--step is for eval/predict/visualize; training resumes from the '
                         'newest checkpoint')
      train.train_and_evaluate(config, _WORKDIR.value, log=lambda s: print(s, flush=True))
    else:
      evaluate_model(config, model_dir, _WORKDIR.value, _STEP.value)
  except ValueError as e:
    _fail(str(e))
  except train.Interrupted as e:
    print(f'ngpu-jax: {e}', file=sys.stderr)
    sys.exit(128 + e.signum)


def run():
  """Console-script entry point (`ngpu-jax`): absl's --help shows the flags and usage of the
  module named in sys.argv[0], here the script, so register them for it."""
  for name in ('config', 'workdir', 'mode', 'checkpoint', 'step', 'input',
               'coordinator_address', 'num_processes', 'process_id', 'distributed'):
    flags.FLAGS.register_key_flag_for_module(sys.argv[0], flags.FLAGS[name])
  sys.modules['__main__'].__doc__ = __doc__
  app.run(main, flags_parser=parse_flags)


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
