"""Many seeds in one program: `config.num_seeds = K > 1` trains K models at once.

Member k is the one-seed run with seed `config.seed + k` and, when `config.grid` lists
values, the (k mod C)-th of the C combinations of them (GRID_FIELDS order, the last field
varying fastest): its own initialisation, data, dropout, curriculum, relaxation pull and
learning-rate decay. The K train steps are `jax.vmap` of the one-seed train step over a
leading seed axis. With `config.seeds_group_by_width` (the default) there is one call per
training width among the members: each gathers the members whose batch has that bucket's
width, steps them together and scatters them back (compiled once per width and member
count). Otherwise one call steps every member at the widest member's width. Both train each
member as its one-seed run, up to float rounding (padding changes neither an example's
outputs nor its dropout: model.py); they differ in cost. Padded, the curriculum's long
batches (20% of each member's) set the width of most steps: with 8 badd members on the CPU
at 2-3 digits that made 0.50-0.56 steps/s, against 1.32-1.76 grouped over the same steps
51-250 (RESULTS.md, issue 4); on an accelerator, fewer launches may matter more.

A member whose curriculum reaches the maximum is merged as in a one-seed run but keeps its
shape: set 0 holds the merged set, the member runs with sets_in_use = 1 and no pull, and the
other sets' gradients and Adam moments are zero (relaxation.merge_into_first). So member k
trains as the one-seed run with its seed and hyperparameters, up to float rounding
(tests/test_seeds.py); without the noise stage of the optimizer, which draws per parameter
shape, exactly the same random numbers.

Differences from a one-seed run: a member whose gradients stay non-finite is not restored
from a checkpoint (its updates are skipped and counted; the others go on), and `dropout`
cannot be a grid field (the dropout rate is a constant of the compiled program).

At the end every member is evaluated at config.eval_digits; the best (fewest strict errors
at the longest length, then at the next longest, ..., then symbol errors) is written to
WORKDIR/best/ as a one-seed workdir (config.json and a checkpoint, from which it could even
train on alone) that `ngpu_jax.load(WORKDIR)` returns; WORKDIR/seeds.json holds every
member's seed, hyperparameters and results, and WORKDIR/eval.json the best member's.
"""

import functools
import itertools
import json
import os
import shutil
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from ngpu_jax import (checkpoint, curriculum, evaluate, metrics, model, parallel, relaxation,
                      train)

# grid field -> the config field it sets
GRID_FIELDS = {'learning_rate': 'learning_rate', 'init_scale': 'model.init_scale',
               'pull_factor': 'pull_factor', 'curriculum_bound': 'curriculum_bound',
               'grad_noise_scale': 'grad_noise_scale'}


def grid_combinations(config) -> list:
  """The grid's combinations as dicts {grid field: value}; [{}] without a grid."""
  fields = [f for f in GRID_FIELDS if tuple(config.grid.get(f, ()))]
  unknown = set(config.grid.keys()) - set(GRID_FIELDS)
  if unknown:
    raise ValueError(f'grid.{sorted(unknown)[0]} is not a grid field; the grid fields are '
                     f'{", ".join(GRID_FIELDS)}')
  return [dict(zip(fields, values))
          for values in itertools.product(*[tuple(config.grid[f]) for f in fields])]


def member_configs(config) -> list:
  """The K one-seed configs the members train with (num_seeds 1, no grid)."""
  combos = grid_combinations(config)
  if config.num_seeds % len(combos):
    raise ValueError(f'num_seeds ({config.num_seeds}) must be a multiple of the grid\'s '
                     f'{len(combos)} combinations, so that each gets as many seeds')
  members = []
  for k in range(config.num_seeds):
    member = ml_collections.ConfigDict(config.to_dict())
    member.num_seeds = 1
    member.seed = config.seed + k
    for name in GRID_FIELDS:
      member.grid[name] = ()
    for name, value in combos[k % len(combos)].items():
      *parents, leaf = GRID_FIELDS[name].split('.')
      node = functools.reduce(lambda c, p: c[p], parents, member)
      node[leaf] = float(value)
    members.append(member)
  return members


def check_config(config):
  """Validates the run and every member's config; returns (task, members)."""
  task = train.check_config(config)
  members = member_configs(config)
  for member in members:
    try:
      train.check_config(member)
    except ValueError as e:
      raise ValueError(f'seed {member.seed} (grid {hyperparameters(member)}): {e}') from None
  return task, members


def hyperparameters(member) -> dict:
  return {name: functools.reduce(lambda c, p: c[p], path.split('.'), member)
          for name, path in GRID_FIELDS.items()}


def _member(tree, k):
  return jax.tree.map(lambda x: x[k], tree)


def _set_member(tree, k, member_tree):
  return jax.tree.map(lambda x, m: x.at[k].set(m), tree, member_tree)


def _stack(trees):
  return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def _learning_rates(opt_state) -> np.ndarray:
  return np.array(opt_state.inner_state[-1].hyperparams['learning_rate'])


def member_model(state, k: int, merged: bool) -> dict:
  """Member k's parameters as a one-seed run holds them (one set once merged)."""
  params = _member(state['params'], k)
  return relaxation.first_set(params) if merged else params


def _group_step(vmapped_step, state, group, inputs, targets, lengths, keys, pulls,
                noise_scales, step, sets_in_use):
  """One train step of the members listed in `group` [G]: their state, keys, pulls, noise
  scales and sets in use gathered from the K members', their batches `inputs`/`targets`
  [G, B, width] and `lengths` [G, B]; returns the K members' state with theirs updated, and
  metrics [K] that are zero for the others (so that the groups' metrics add up)."""
  take = lambda x: x[group]
  new_state, metrics = vmapped_step(jax.tree.map(take, state), inputs, targets, lengths,
                                    take(keys), take(pulls), take(noise_scales), step,
                                    take(sets_in_use))
  state = jax.tree.map(lambda x, g: x.at[group].set(g), state, new_state)
  num_members = pulls.shape[0]
  return state, {name: jnp.zeros((num_members,), v.dtype).at[group].set(v)
                 for name, v in metrics.items()}


def optimizer(members):
  """The program's one optimizer. Its noise stage exists when any member uses noise; a zero
  scale then adds zeros."""
  return train.make_optimizer(max(members, key=lambda m: m.grad_noise_scale))


def initial_state(members, tx) -> dict:
  """The stacked fresh state: member k's initialisation and learning rate."""
  states = []
  for member in members:
    state = train.initial_state(member, train.model_config(member), tx, merged=False)
    states.append({**state, 'opt_state': train.set_learning_rate(state['opt_state'],
                                                                 member.learning_rate)})
  return _stack(states)


def _log_line(step, records, rate, eta):
  digits = ' '.join(str(r['cur']) for r in records)
  merged = sum(r['merged'] for r in records)
  return (f'step {step:>6}  loss {np.mean([r["loss"] for r in records]):.4f} (mean)  '
          f'digits<= [{digits}]  best check_seq_err '
          f'{min(r["check_seq_error"] for r in records):.3f}  merged {merged}/{len(records)}  '
          f'{rate:.2f} steps/s  left {int(eta) // 60}m{int(eta) % 60:02d}s')


def train_seeds(config, workdir: str, log=print) -> dict:
  """Trains the K members in one program (resuming from the workdir's latest checkpoint),
  evaluates each, saves the best to WORKDIR/best; returns the best member's results."""
  task, members = check_config(config)
  cfg = train.model_config(config)
  mesh = parallel.data_mesh(config.num_devices)
  parallel.check_batch(config.batch_size, mesh)
  primary = parallel.is_primary()
  log = log if primary else (lambda s: None)
  workdir = train.prepare_workdir(workdir)
  if primary:
    train.save_config(workdir, config)
  else:
    train.check_matches_workdir(workdir, config)
  tx = optimizer(members)
  ckpts = checkpoint.Checkpoints(workdir, keep_period=config.keep_checkpoint_every)
  n_max = task.length(config.max_train_digits)
  pulls = [relaxation.pull_schedule(m.pull_start, m.pull_factor, m.pull_cap) for m in members]

  def templates(progress):
    del progress  # merged members keep their shape
    state = parallel.replicate(initial_state(members, tx), mesh)
    return state['params'], state['opt_state']

  found = ckpts.restore_newest_good(templates, log=log)
  if found is None:
    progress = {'step': 0, 'wall_s': 0.0, 'members': [
        {'seed': m.seed, 'curriculum': curriculum.init_state(m.curriculum_start),
         'interval_losses': [], 'window_losses': []} for m in members]}
    state = parallel.replicate(initial_state(members, tx), mesh)
  else:
    latest, progress, params, opt_state = found
    state = {'params': params, 'opt_state': opt_state}
    log(f'resumed from {ckpts.directory}/{latest} (step {progress["step"]})')

  # The vmapped step's arguments: state, inputs, targets, lengths, key, pull, noise scale and
  # sets in use per member; the step number shared. _group_step gathers them for a group.
  group_step = jax.jit(functools.partial(
                           _group_step, jax.vmap(train.train_step_fn(
                               cfg, tx, config.dropout,
                               saturation_weight=config.saturation_weight,
                               per_example_loss=config.loss_per_example),
                               in_axes=(0, 0, 0, 0, 0, 0, 0, None, 0))),
                       donate_argnums=0, out_shardings=parallel.replicated(mesh),
                       compiler_options=train.compiler_options())
  split = functools.partial(parallel.split_batch, mesh=mesh, axis=1)
  check_logits = jax.jit(functools.partial(model.forward, cfg=cfg))
  keys = jnp.stack([jax.random.key(m.seed) for m in members])
  step_keys = jax.jit(jax.vmap(jax.random.fold_in, (0, None)))  # fold_in(key_k, step), all k
  noise_scales = np.array([m.grad_noise_scale for m in members], np.float32)
  writer = metrics.MetricsWriter(workdir, enabled=primary)
  sums, interval_step = train.resumed_interval(progress)
  interval_start = time.time()
  log(f'training {task.name}: {len(members)} seeds ({members[0].seed}..{members[-1].seed}) in '
      f'one program, {config.num_train_steps} steps, batch {config.batch_size} each, digits up '
      f'to {config.max_train_digits} (n={n_max}), {mesh.size} device(s) '
      f'({mesh.devices.flat[0].platform}), workdir {workdir}')

  with train.stop_on_signals() as stop:
    while progress['step'] < config.num_train_steps and not stop.signum:
      step = progress['step']
      batches = [train.sample_batch(task, m, p['curriculum'], step)
                 for m, p in zip(members, progress['members'])]
      merged = [p['curriculum']['merged'] for p in progress['members']]
      step_pulls = np.array([0.0 if done else pull_of(p['curriculum']['advances'])
                             for done, pull_of, p in zip(merged, pulls, progress['members'])],
                            np.float32)
      sets_in_use = np.array([1 if done else cfg.relax_sets for done in merged], np.int32)
      member_keys = step_keys(keys, step)
      widths = [train.bucket(x.shape[1], n_max, config.bucket_step) for x, _, _ in batches]
      if not config.seeds_group_by_width:
        widths = [max(widths)] * len(widths)
      for width in sorted(set(widths)):
        group = [k for k in range(len(members)) if widths[k] == width]
        pad = lambda a: np.pad(a, ((0, 0), (0, width - a.shape[1])))
        state, step_metrics = group_step(
            state, np.array(group, np.int32),
            split(np.stack([pad(batches[k][0]) for k in group])),
            split(np.stack([pad(batches[k][1]) for k in group])),
            split(np.stack([batches[k][2] for k in group])),
            member_keys, step_pulls, noise_scales, step, sets_in_use)
        sums = train.add_metrics(sums, step_metrics)
      progress = {**progress, 'step': step + 1}
      if (step + 1) % config.curriculum_every:
        if step + 1 == config.num_train_steps or stop.signum:  # stopping inside an interval
          progress['wall_s'] += time.time() - interval_start
          train.save_inside_interval(ckpts, state, progress, interval_step, sums)
        continue

      # Interval end: every member's curriculum check, relaxation, learning-rate decay.
      steps_done = step + 1 - interval_step
      finite_steps = np.asarray(sums.pop('finite_steps'))
      means = {k: np.asarray(v) / np.maximum(finite_steps, 1.0) for k, v in sums.items()}
      sums = None
      skipped = np.asarray(state['opt_state'].total_notfinite)
      in_a_row = np.asarray(state['opt_state'].notfinite_count)
      local = parallel.local_copy(state)
      lrs = _learning_rates(local['opt_state'])
      changed = False
      new_members, records = [], []
      for k, (member, p) in enumerate(zip(members, progress['members'])):
        cur_state = p['curriculum']
        if in_a_row[k] >= config.max_nonfinite_steps:
          log(f'WARNING: seed {member.seed}: {in_a_row[k]} training steps in a row had '
              'non-finite gradients (updates skipped; this member is not restored)')
        check_error = train.curriculum_check(task, member, check_logits,
                                             member_model(local, k, cur_state['merged']),
                                             cur_state, step + 1)
        new_cur = curriculum.advance(cur_state, check_error, member.curriculum_bound,
                                     member.max_train_digits)
        advanced = new_cur is not cur_state
        if advanced and not new_cur['merged']:
          one = _member(local, k)
          if pulls[k](cur_state['advances']) >= member.pull_cap:
            one = {**one, 'params': relaxation.average_sets(one['params'])}
          if new_cur['cur'] >= member.max_train_digits:
            one = relaxation.merge_into_first(one)  # params and Adam's moments
            new_cur = {**new_cur, 'merged': True}
          local = _set_member(local, k, one)
          changed = True
        interval_losses, window_losses, decay = train.decay_on_stall(
            member, p, float(means['loss'][k]), step + 1)
        if decay:
          lrs[k] = max(lrs[k] * member.lr_decay, member.min_learning_rate)
          changed = True
        new_members.append({**p, 'curriculum': new_cur, 'interval_losses': interval_losses,
                            'window_losses': window_losses})
        records.append({'step': step + 1, 'seed': member.seed, 'cur': new_cur['cur'],
                        'cur_checked': cur_state['cur'], 'loss': float(means['loss'][k]),
                        'train_seq_error': float(means['seq_error'][k]),
                        'grad_norm': float(means['grad_norm'][k]),
                        'check_seq_error': check_error, 'skipped_steps': int(skipped[k]),
                        'pull': float(pulls[k](new_cur['advances'])),
                        'learning_rate': float(lrs[k]), 'advanced': advanced,
                        'merged': new_cur['merged']})
      if changed:
        local = {**local, 'opt_state': train.set_learning_rate(local['opt_state'], lrs)}
        state = parallel.replicate(local, mesh)
      now = time.time()
      rate = steps_done / max(now - interval_start, 1e-9)
      progress = {**progress, 'members': new_members, 'interval_step': step + 1,
                  'interval_sums': None, 'wall_s': progress['wall_s'] + now - interval_start}
      for record in records:
        writer.write({**record, 'steps_per_s': rate, 'wall_s': progress['wall_s']},
                     prefix=f'seed_{record["seed"]}')
      log(_log_line(step + 1, records, rate, (config.num_train_steps - step - 1) / rate))
      if train.save_at_interval_end(ckpts, config, state, progress, stop, log):
        break
      interval_start, interval_step = time.time(), step + 1

  ckpts.wait()
  ckpts.close()
  writer.close()
  if stop.signum:
    raise train.Interrupted(stop.signum, progress['step'])
  log(f'trained {len(members)} seeds {progress["step"]} steps in {progress["wall_s"]:.0f} s '
      'of training; evaluating each')
  return _evaluate_and_select(config, members, parallel.local_copy(state), progress, task, cfg,
                              workdir, primary, log)


def rank_key(results: dict):
  """Sort key of a member's results: strict errors at the longest length first, then the
  next longest, ..., then symbol errors the same way (smaller is better)."""
  lengths = sorted(results, key=int, reverse=True)
  return (tuple(results[d]['seq_error'] for d in lengths)
          + tuple(results[d]['symbol_error'] for d in lengths))


def _evaluate_and_select(config, members, state, progress, task, cfg, workdir, primary, log):
  table = []
  for k, (member, p) in enumerate(zip(members, progress['members'])):
    merged = p['curriculum']['merged']
    log(f'seed {member.seed}: curriculum at {p["curriculum"]["cur"]} digits, '
        f'{"merged" if merged else "not merged"}')
    results = evaluate.evaluate_lengths(member_model(state, k, merged), cfg, task,
                                        member.eval_digits, member.eval_examples,
                                        member.eval_batch_size, member.seed, log=log)
    table.append({'seed': member.seed, 'hyperparameters': hyperparameters(member),
                  'curriculum': p['curriculum'], 'results': results})
  best = min(range(len(members)), key=lambda k: rank_key(table[k]['results']))
  log(format_seeds_table(task, table, best))
  if primary:
    _save_best(workdir, members[best], state, best, progress)
    evaluate.write_json(workdir, table[best]['results'])
    with open(os.path.join(workdir, 'seeds.json'), 'w') as f:
      json.dump({'best_seed': members[best].seed, 'members': table}, f, indent=1)
  log(f'best: seed {members[best].seed}, saved to {os.path.join(workdir, "best")} '
      f'(ngpu_jax.load({workdir!r}) returns it)')
  return table[best]['results']


def format_seeds_table(task, table, best: int) -> str:
  digits = list(table[0]['results'])
  grid = [name for name in GRID_FIELDS if len({str(t['hyperparameters'][name]) for t in table}) > 1]
  lines = [f'{"seed":>6} ' + ''.join(f'{name:>17}' for name in grid) + f'{"digits<=":>9} '
           + ' '.join(f'{"@" + str(d):>9}' for d in digits)
           + f'  ({task.name}, strict sequence error per member)']
  for k, row in enumerate(table):
    lines.append(f'{row["seed"]:>6} ' + ''.join(f'{row["hyperparameters"][name]:>17.4g}'
                                                for name in grid)
                 + f'{row["curriculum"]["cur"]:>9} '
                 + ' '.join(f'{row["results"][d]["seq_error"]:>9.4f}' for d in digits)
                 + ('  <- best' if k == best else ''))
  return '\n'.join(lines)


def _save_best(workdir, member, state, k, progress):
  """WORKDIR/best/: the best member as a one-seed workdir (config.json, one checkpoint)."""
  best_dir = os.path.join(workdir, 'best')
  shutil.rmtree(best_dir, ignore_errors=True)  # from an earlier end of this run
  os.makedirs(best_dir)
  train.save_config(best_dir, member)
  p = progress['members'][k]
  merged = p['curriculum']['merged']
  one = _member(state, k)
  if merged:
    one = relaxation.first_set(one)
  records = os.path.join(workdir, 'metrics.jsonl')
  if os.path.exists(records):  # the member's own training records, for its learning curves
    with open(records) as f, open(os.path.join(best_dir, 'metrics.jsonl'), 'w') as out:
      out.writelines(line for line in f if json.loads(line)['seed'] == member.seed)
  ckpts = checkpoint.Checkpoints(best_dir)
  ckpts.save(progress['step'], one['params'], one['opt_state'],
             {'step': progress['step'], 'curriculum': p['curriculum'],
              'interval_losses': p['interval_losses'], 'window_losses': p['window_losses'],
              'wall_s': progress['wall_s'], 'interval_step': progress['step'],
              'interval_sums': None})
  ckpts.wait()
  ckpts.close()


def load_members(workdir: str, step=None) -> list:
  """Every member of a many-seeds workdir at its latest checkpoint (or at checkpoint `step`),
  as `inference.Predictor`s (one set once merged), in member order."""
  from ngpu_jax import inference  # inference loads many-seeds runs through this module
  config = train.read_config(workdir)
  if config is None or config.get('num_seeds', 1) < 2:
    raise ValueError(f'{workdir} holds no many-seeds run (config.json with num_seeds > 1)')
  members = member_configs(config)
  template = jax.eval_shape(lambda: initial_state(members, optimizer(members)))
  ckpts = checkpoint.Checkpoints(workdir, read_only=True)
  try:
    if step is None:
      found = ckpts.restore_newest_good(lambda p: (template['params'], None),
                                        log=lambda s: None)
    else:
      kept = sorted(ckpts.manager.all_steps())
      if step not in kept:
        raise ValueError(f'{workdir} has no checkpoint {step}; it has {kept}')
      found = (step, ckpts.progress(step), ckpts.restore(step, template['params'])[0], None)
  finally:
    ckpts.close()
  if found is None:
    raise ValueError(f'{workdir} holds no checkpoint yet')
  step, progress, params, _ = found
  return [inference.Predictor(member, member_model({'params': params}, k,
                                                   p['curriculum']['merged']), step)
          for k, (member, p) in enumerate(zip(members, progress['members']))]

