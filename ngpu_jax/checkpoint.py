"""Checkpoints with orbax's CheckpointManager, in WORKDIR/checkpoints/STEP/.

Each checkpoint holds three items: `params`, `opt_state` (arrays, orbax's standard format, no
pickle) and `progress` (JSON: step, curriculum, learning-rate history...). Data and dropout
randomness are pure functions of (seed, step), so `progress` with the arrays is everything a
run needs to continue exactly.

Restoring needs templates with the right shapes; whether the relaxed sets were merged (one
set instead of R) is read from `progress` first.
"""

import os

import jax
import orbax.checkpoint as ocp


class Checkpoints:
  """Save and restore one run's checkpoints; keeps the newest `max_to_keep`."""

  def __init__(self, workdir: str, max_to_keep: int = 3, read_only: bool = False):
    self.directory = os.path.join(os.path.abspath(workdir), 'checkpoints')
    self.manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(
            max_to_keep=None if read_only else max_to_keep, create=not read_only,
            read_only=read_only, save_interval_steps=0 if read_only else 1),
        item_names=('params', 'opt_state', 'progress'))

  def latest_step(self):
    return self.manager.latest_step()

  def save(self, step: int, params, opt_state, progress: dict):
    self.manager.save(step, args=ocp.args.Composite(
        params=ocp.args.StandardSave(params),
        opt_state=ocp.args.StandardSave(opt_state),
        progress=ocp.args.JsonSave(progress)))

  def progress(self, step=None) -> dict:
    step = self.latest_step() if step is None else step
    return self.manager.restore(step, args=ocp.args.Composite(
        progress=ocp.args.JsonRestore()))['progress']

  def restore(self, step, params_template, opt_state_template=None):
    """(params, opt_state or None) restored onto the templates' shapes and shardings."""
    items = {'params': ocp.args.StandardRestore(_abstract(params_template))}
    if opt_state_template is not None:
      items['opt_state'] = ocp.args.StandardRestore(_abstract(opt_state_template))
    restored = self.manager.restore(step, args=ocp.args.Composite(**items))
    return restored['params'], restored.get('opt_state') if opt_state_template is not None else None

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
