"""Kill a training run with SIGKILL at random moments, restart it on the same workdir each
time, and check that it ends bitwise identical to a run that was never interrupted.

  python experiments/kill_resume.py --cycles=10     # about 10 minutes on a 2-core CPU

Each cycle starts `python -m ngpu_jax.main` on the workdir, waits for its first progress
line (compilation done, training under way), lets it run for a random time in
[0, --max_kill_s] seconds (so kills land in training steps, checkpoint writes and evaluation
alike) and sends SIGKILL. After the cycles the run is
finished on the same workdir, an uninterrupted run with the same config is trained in a
second workdir, and the parameters and optimizer states of both are compared bit for bit.
Exit status 0 only when every restart resumed and the final states are identical.
"""

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

from absl import app
from absl import flags
from absl import logging
import jax
import numpy as np

from ngpu_jax import checkpoint, train

FLAGS = flags.FLAGS
flags.DEFINE_integer('cycles', 10, 'Kill/restart cycles.')
flags.DEFINE_integer('seed', 0, 'Seeds the kill times (the training seed is in the config).')
flags.DEFINE_float('max_kill_s', 8.0, 'Each kill comes this many seconds or fewer after the '
                   "restarted run's first progress line.")
flags.DEFINE_string('config', 'experiments/configs/default.py', 'Config file of the run.')
flags.DEFINE_integer('num_train_steps', 2500, 'Length of the run (config.num_train_steps).')
flags.DEFINE_integer('checkpoint_every', 25, 'config.checkpoint_every (and curriculum_every).')
flags.DEFINE_string('workdir', None, 'Where the two runs go (default: a temporary directory).')
flags.DEFINE_bool('json', False, 'Print one JSON summary as the last line.')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def command(workdir: str) -> list:
  every = FLAGS.checkpoint_every
  return [sys.executable, '-m', 'ngpu_jax.main', f'--config={FLAGS.config}',
          f'--workdir={workdir}', f'--config.num_train_steps={FLAGS.num_train_steps}',
          f'--config.checkpoint_every={every}', f'--config.curriculum_every={every}',
          f'--config.lr_decay_every={4 * every}', '--config.eval_examples=(8,8,8)']


def start(workdir: str):
  """The run as a child process, and a list its stdout lines are appended to as they come."""
  env = dict(os.environ, PYTHONUNBUFFERED='1')
  proc = subprocess.Popen(command(workdir), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
  lines = []
  reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, '')),
                            daemon=True)
  reader.start()
  return proc, lines, reader


def latest_step(workdir: str):
  ckpts = checkpoint.Checkpoints(workdir, read_only=True)
  try:
    return ckpts.latest_step()
  finally:
    ckpts.close()


def final_state(workdir: str):
  """(params, opt_state) of the workdir's newest checkpoint."""
  config = train.read_config(workdir)
  cfg, tx = train.model_config(config), train.make_optimizer(config)
  ckpts = checkpoint.Checkpoints(workdir, read_only=True)

  def templates(progress):
    state = train.initial_state(config, cfg, tx, progress['curriculum']['merged'])
    return state['params'], state['opt_state']

  try:
    step, _, params, opt_state = ckpts.restore_newest_good(templates)
  finally:
    ckpts.close()
  return step, params, opt_state


def identical(a, b) -> bool:
  leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
  return len(leaves_a) == len(leaves_b) and all(
      np.asarray(x).dtype == np.asarray(y).dtype and np.array_equal(x, y)
      for x, y in zip(leaves_a, leaves_b))


def main(argv):
  del argv
  logging.set_verbosity(logging.ERROR)  # orbax logs every checkpoint it opens
  rng = random.Random(FLAGS.seed)
  base = FLAGS.workdir or tempfile.mkdtemp(prefix='kill_resume_')
  killed_dir, once_dir = os.path.join(base, 'killed'), os.path.join(base, 'uninterrupted')
  cycles = []
  for cycle in range(FLAGS.cycles):
    before = latest_step(killed_dir) if os.path.isdir(killed_dir) else None
    proc, lines, reader = start(killed_dir)
    deadline = time.time() + 300
    while not any(line.startswith('step ') for line in lines):
      if proc.poll() is not None or time.time() > deadline:
        break
      time.sleep(0.02)
    delay = rng.uniform(0.0, FLAGS.max_kill_s)
    time.sleep(delay)
    finished = proc.poll() is not None
    if not finished:
      proc.send_signal(signal.SIGKILL)
    proc.wait()
    reader.join(timeout=10)
    resumed = [line for line in lines if line.startswith('resumed from')]
    resumed_step = int(resumed[0].rsplit('step ', 1)[1].rstrip(')\n')) if resumed else None
    record = {'cycle': cycle + 1, 'checkpoint_before': before, 'resumed_step': resumed_step,
              'killed_after_s': round(delay, 2), 'finished_before_kill': finished,
              'checkpoint_after': latest_step(killed_dir)}
    # A restart resumed when it continued from the newest checkpoint there was.
    record['resumed'] = resumed_step == before if before is not None else not resumed
    cycles.append(record)
    print(f"cycle {cycle + 1}: checkpoint before {before}, resumed from {resumed_step}, "
          f"killed {delay:.1f} s into training"
          + (' (the run had already finished)' if finished else '')
          + f", newest checkpoint after {record['checkpoint_after']}", flush=True)

  for workdir in (killed_dir, once_dir):
    result = subprocess.run(command(workdir), cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
      sys.exit(f'the final run in {workdir} failed:\n{result.stderr[-2000:]}')
  step_a, params_a, opt_a = final_state(killed_dir)
  step_b, params_b, opt_b = final_state(once_dir)
  same = step_a == step_b and identical(params_a, params_b) and identical(opt_a, opt_b)
  resumed = sum(c['resumed'] for c in cycles)
  from_checkpoint = sum(c['checkpoint_before'] is not None for c in cycles)
  summary = {'cycles': FLAGS.cycles, 'resumed': resumed, 'from_checkpoint': from_checkpoint,
             'final_step': step_a, 'identical': same, 'workdir': base, 'cycle_records': cycles}
  print(f'{resumed} of {FLAGS.cycles} restarts resumed from the newest checkpoint '
        f'({from_checkpoint} had one, the others started afresh); final '
        f'parameters and optimizer state {"IDENTICAL" if same else "DIFFERENT"} to the '
        f'uninterrupted run (step {step_a} vs {step_b}); workdirs in {base}')
  if FLAGS.json:
    print(json.dumps(summary))
  if not same or resumed != FLAGS.cycles:
    sys.exit(1)


if __name__ == '__main__':
  app.run(main)
