"""Package a trained model with the library: ngpu_jax/pretrained/NAME/.

  python experiments/ship_model.py --model=runs/copy_7seeds --name=copy \
      --digits=8,16,401,4001 --examples=128,128,64,8 --command="how it was trained"
      [--step=S] [--extra_steps=K]

Evaluates the model (a workdir, or the best member of a many-seeds workdir) with the strict
metric at --digits on fresh examples (seeded by --seed, apart from training data), and for
arithmetic tasks on --hard_examples examples of every hard-input family, and ships it only
if it made no error on the random examples: a shipped model is one that generalises in the
paper's sense. Its hard-input errors are recorded, not required to be zero (Price et al.
2016 found models exact on random inputs failing such families; so do ours, see
experiments/RESULTS.md). The results, the command, the code version, the machine and the
date go into info.json beside the parameters.

--extra_steps=K ships the model to run K steps past each input's length (model.extra_steps,
not in the paper; default: as it was trained): it is tested so, and `ngpu_jax.load` of the
shipped model runs it so.
"""

import datetime
import os
import platform
import subprocess
import sys

from absl import app, flags

import ngpu_jax
from ngpu_jax import evaluate, inference, tasks

FLAGS = flags.FLAGS
flags.DEFINE_string('model', None, 'Workdir of the trained model.', required=True)
flags.DEFINE_string('name', None, 'Shipped name: ngpu_jax.load("pretrained/NAME").',
                    required=True)
flags.DEFINE_integer('step', None, 'Checkpoint step to ship (default: the newest); see '
                     'config.keep_checkpoint_every.')
flags.DEFINE_integer('extra_steps', None, 'Steps past each input\'s length to test and ship '
                     'the model with (model.extra_steps; default: as it was trained).')
flags.DEFINE_list('digits', None, 'Test lengths (operand digits / sequence length).',
                  required=True)
flags.DEFINE_list('examples', None, 'Examples per test length.', required=True)
flags.DEFINE_integer('hard_examples', 8, 'Arithmetic tasks: examples per hard-input family '
                     'at every test length (0: none).')
flags.DEFINE_integer('seed', 1234, 'Seeds the test examples.')
flags.DEFINE_integer('batch_size', 32, 'Evaluation batch.')
flags.DEFINE_string('command', '', 'The command that trained the model, for info.json.')


def code_version() -> str:
  try:
    return subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True,
                          text=True, check=True).stdout.strip()
  except (OSError, subprocess.CalledProcessError):
    return 'unknown'


def main(argv):
  del argv
  try:
    predictor = ngpu_jax.load(FLAGS.model, FLAGS.step, extra_steps=FLAGS.extra_steps)
  except ValueError as e:  # a negative --extra_steps
    raise app.UsageError(str(e)) from None
  task = tasks.get(predictor.task)
  if predictor.model_config.extra_steps:
    print(f'testing (and shipping) it to run {predictor.model_config.extra_steps} steps past '
          'each input (model.extra_steps)')
  digits, examples = [int(d) for d in FLAGS.digits], [int(e) for e in FLAGS.examples]
  results = evaluate.evaluate_lengths(predictor.params, predictor.model_config, task, digits,
                                      examples, FLAGS.batch_size, FLAGS.seed)
  print(evaluate.format_table(task, results))
  errors = [r['seq_error'] for r in results.values()]
  if max(errors) > 0:  # before the hard inputs, which take as long again
    # A refusal is a result, not a misuse of the flags: a plain message and exit status 1.
    sys.exit(f'not shipped: {FLAGS.model} makes errors on random examples (largest strict '
             f'sequence error {max(errors):.4f}); only models that generalise are shipped')
  hard = None
  if tasks.has_hard_families(task) and FLAGS.hard_examples > 0:
    hard = evaluate.evaluate_hard(predictor.params, predictor.model_config, task, digits,
                                  FLAGS.hard_examples, FLAGS.batch_size, FLAGS.seed)
    print(evaluate.format_hard_table(hard))
  directory = os.path.join(inference.PRETRAINED_DIR, FLAGS.name)
  inference.save_shipped(predictor, directory, {
      'task': task.name, 'trained_with': FLAGS.command, 'source_workdir': FLAGS.model,
      'code': code_version(), 'date': datetime.date.today().isoformat(),
      'machine': f'{platform.machine()}, {os.cpu_count()} CPU cores ({platform.platform()})',
      'extra_steps': predictor.model_config.extra_steps,
      'eval_seed': FLAGS.seed, 'eval': results, 'eval_hard': hard})
  print(f'shipped {directory}: ngpu_jax.load("pretrained/{FLAGS.name}")')


if __name__ == '__main__':
  app.run(main)
