"""Evaluate every member of a many-seeds run (`--config.num_seeds=K`) at its newest
checkpoint, at lengths of your choice; the program itself tests each member only at the
config's `eval_digits` when it ends. Used for the small ablations in experiments/RESULTS.md,
whose members had not reached the longest trained length, to compare them where they had.

  python experiments/eval_members.py --workdir=runs/abl_bmul/base --digits=4,5,6 \
      [--examples=128] [--batch_size=64] [--json=members.json] [--seeds=0,2] [--step=S]

Each member is tested on the examples its own program's final evaluation would draw (its
seed as the evaluation seed; `--mode=eval --config.seed=SEED`), so the members of two arms
with the same seeds see the same examples. Strict sequence error, and per length the
lenient and symbol errors in --json. --seeds tests only those members (a long length on the
members that passed a shorter one). --step tests a kept checkpoint other than the newest.
"""

import json

from absl import app, flags

from ngpu_jax import evaluate, seeds, tasks

FLAGS = flags.FLAGS
flags.DEFINE_string('workdir', None, 'Workdir of a many-seeds run.', required=True)
flags.DEFINE_list('digits', None, 'Test lengths.', required=True)
flags.DEFINE_integer('examples', 128, 'Examples per length and member.')
flags.DEFINE_integer('batch_size', 64, 'Evaluation batch.')
flags.DEFINE_string('json', '', 'Write every member\'s rates to this file.')
flags.DEFINE_list('seeds', [], 'Test only these members (default: all).')
flags.DEFINE_integer('step', None, 'Checkpoint to test (default: the newest).')


def main(argv):
  del argv
  digits = [int(d) for d in FLAGS.digits]
  if FLAGS.examples < 1 or min(digits) < 1:
    raise app.UsageError('--digits and --examples must be positive')
  rows = []
  try:
    members = seeds.load_members(FLAGS.workdir, FLAGS.step)
  except ValueError as e:
    raise app.UsageError(str(e))
  if FLAGS.seeds:
    run_seeds = [m.config.seed for m in members]
    wanted = [int(k) for k in FLAGS.seeds if k.isdigit()]
    if len(wanted) < len(FLAGS.seeds) or not set(wanted) <= set(run_seeds):
      raise app.UsageError(f'--seeds={",".join(FLAGS.seeds)}: the run has seeds {run_seeds}')
    members = [m for m in members if m.config.seed in wanted]
  print('  seed   step  ' + ''.join(f'{"@" + str(d):>9}' for d in digits) +
        '  (strict sequence error per member)', flush=True)
  for member in members:
    results = evaluate.evaluate_lengths(
        member.params, member.model_config, tasks.get(member.task), digits,
        [FLAGS.examples] * len(digits), FLAGS.batch_size, member.config.seed,
        log=lambda s: None)
    rows.append({'seed': member.config.seed, 'step': member.step,
                 'results': {str(d): r for d, r in results.items()}})
    print(f'{member.config.seed:6d} {member.step:6d}  ' +
          ''.join(f'{results[d]["seq_error"]:9.4f}' for d in digits), flush=True)
  if FLAGS.json:
    with open(FLAGS.json, 'w') as f:
      json.dump({'workdir': FLAGS.workdir, 'examples': FLAGS.examples, 'members': rows}, f,
                indent=1)


if __name__ == '__main__':
  app.run(main)
