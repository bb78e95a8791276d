"""Checkpoints with orbax's CheckpointManager, in WORKDIR/checkpoints/STEP/.

Each checkpoint holds three items: `params`, `opt_state` (arrays, orbax's standard format, no
pickle) and `progress` (JSON: step, curriculum, learning-rate history...). Data and dropout
randomness are pure functions of (seed, step), so `progress` with the arrays is everything a
run needs to continue exactly.

Restoring needs templates with the right shapes; whether the relaxed sets were merged (one
set instead of R) is read from `progress` first.

Damage: orbax writes a checkpoint into a temporary directory and renames it when complete,
so a half-written one is never listed. `progress` also holds a SHA-256 of every array saved;
a checkpoint whose files are missing, unreadable or whose arrays do not hash to it is damaged
(`CheckpointDamaged`), and `restore_newest_good` falls back to the one before it.
"""

import hashlib
import os
import shutil

import jax
import numpy as np
import orbax.checkpoint as ocp


class CheckpointDamaged(Exception):
  """A checkpoint that cannot be read back as it was written."""


def checksum(tree) -> str:
  """SHA-256 of the leaves' dtypes, shapes and bytes, in tree order."""
  digest = hashlib.sha256()
  for leaf in jax.tree.leaves(tree):
    array = np.asarray(leaf)
    digest.update(f'{array.dtype}{array.shape}'.encode())
    digest.update(np.ascontiguousarray(array).tobytes())
  return digest.hexdigest()


class Checkpoints:
  """Save and restore one run's checkpoints; keeps the newest `max_to_keep` and, with
  `keep_period`, every checkpoint whose step is a multiple of it."""

  def __init__(self, workdir: str, max_to_keep: int = 3, read_only: bool = False,
               keep_period: int = 0):
    self.read_only = read_only
    self.directory = os.path.join(os.path.abspath(workdir), 'checkpoints')
    self.manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(
            max_to_keep=None if read_only else max_to_keep, keep_period=keep_period or None,
            create=not read_only, read_only=read_only,
            save_interval_steps=0 if read_only else 1),
        item_names=('params', 'opt_state', 'progress'))

  def latest_step(self):
    return self.manager.latest_step()

  def save(self, step: int, params, opt_state, progress: dict):
    progress = {**progress, 'checksums': {'params': checksum(params),
                                          'opt_state': checksum(opt_state)}}
    self.manager.save(step, args=ocp.args.Composite(
        params=ocp.args.StandardSave(params),
        opt_state=ocp.args.StandardSave(opt_state),
        progress=ocp.args.JsonSave(progress)))

  def progress(self, step=None) -> dict:
    """The JSON progress saved with a checkpoint (without its checksums)."""
    progress = dict(self._saved_progress(step))
    progress.pop('checksums', None)
    return progress

  def _saved_progress(self, step=None) -> dict:
    step = self.latest_step() if step is None else step
    return self.manager.restore(step, args=ocp.args.Composite(
        progress=ocp.args.JsonRestore()))['progress']

  def restore(self, step, params_template, opt_state_template=None):
    """(params, opt_state or None) restored onto the templates' shapes and shardings.

    Raises CheckpointDamaged when the files cannot be read or the arrays do not match the
    checksums saved with them.
    """
    items = {'params': ocp.args.StandardRestore(_abstract(params_template))}
    if opt_state_template is not None:
      items['opt_state'] = ocp.args.StandardRestore(_abstract(opt_state_template))
    try:
      saved = self._saved_progress(step).get('checksums', {})
      restored = self.manager.restore(step, args=ocp.args.Composite(**items))
    except Exception as e:  # orbax/tensorstore raise many types for missing or bad files
      raise CheckpointDamaged(f'checkpoint {step} cannot be read: {type(e).__name__}: '
                              f'{str(e).splitlines()[0] if str(e) else ""}') from e
    for name, tree in restored.items():
      if name in saved and checksum(tree) != saved[name]:
        raise CheckpointDamaged(f'checkpoint {step}: {name} does not match its checksum')
    return restored['params'], restored.get('opt_state') if opt_state_template is not None else None

  def restore_newest_good(self, templates, log=print):
    """(step, progress, params, opt_state) of the newest checkpoint that reads back intact;
    None when there is no checkpoint.

    `templates(progress)` gives the (params, opt_state) templates for a checkpoint's progress.
    Damaged newer checkpoints are moved to WORKDIR/damaged_checkpoints/ (kept, not deleted)
    so that the run can save those steps again (not in read-only mode). When no checkpoint
    is readable nothing is moved and ValueError says so.
    """
    steps = sorted(self.manager.all_steps(), reverse=True)
    if not steps:
      return None
    problems = []
    for step in steps:
      try:
        try:
          progress = self.progress(step)
        except Exception as e:
          raise CheckpointDamaged(f'checkpoint {step}: its progress file cannot be read '
                                  f'({type(e).__name__})') from e
        params, opt_state = self.restore(step, *templates(progress))
      except CheckpointDamaged as e:
        log(f'WARNING: {e}; trying the one before it')
        problems.append(str(e))
        continue
      if not self.read_only:
        for damaged in steps[:steps.index(step)]:
          self._move_aside(damaged, log)
      return step, progress, params, opt_state
    raise ValueError(f'no readable checkpoint in {self.directory} ({"; ".join(problems)}); '
                     'nothing was changed: repair or move the checkpoints, or use another '
                     '--workdir')

  def _move_aside(self, step, log):
    target_dir = os.path.join(os.path.dirname(self.directory), 'damaged_checkpoints')
    os.makedirs(target_dir, exist_ok=True)
    target = os.path.join(target_dir, str(step))
    suffix = 0
    while os.path.exists(target):
      suffix += 1
      target = os.path.join(target_dir, f'{step}.{suffix}')
    shutil.move(os.path.join(self.directory, str(step)), target)
    log(f'WARNING: moved damaged checkpoint {step} to {target}')
    self.manager.reload()

  def wait(self):
    self.manager.wait_until_finished()

  def close(self):
    self.manager.close()


def _abstract(tree):
  """Shapes, dtypes and shardings to restore onto (the first device where none is given)."""
  default = jax.sharding.SingleDeviceSharding(jax.devices()[0])
  return jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype,
                                     sharding=getattr(x, 'sharding', None) or default), tree)
