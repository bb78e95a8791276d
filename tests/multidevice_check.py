"""Checks run by tests/test_parallel.py in a process that has 4 simulated CPU devices
(XLA_FLAGS=--xla_force_host_platform_device_count=4); prints one JSON object of results."""

import json
import os
import sys
import tempfile

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ngpu_jax  # noqa: E402
from conftest import tiny_config  # noqa: E402
from ngpu_jax import checkpoint, model, parallel, seeds, tasks, train  # noqa: E402


def max_diff(a, b) -> float:
  return max(float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))))
             for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def main():
  assert jax.device_count() == 4, jax.devices()
  config = tiny_config(batch_size=8)
  cfg, tx = train.model_config(config), train.make_optimizer(config)
  x, y = tasks.sample(tasks.get('badd'), 3, 8, np.random.default_rng(0))
  lengths = np.array([7, 7, 5, 7, 3, 7, 7, 6], np.int32)  # mixed, as in bucketed batches
  key = jax.random.key(5)

  def loss_fn(params, x, y, lengths):
    logits = model.forward(params, x, lengths, cfg, dropout_rate=0.1, dropout_key=key)
    return train.masked_cross_entropy(logits, y, lengths)

  runs = {}
  for n in (1, 2, 4):
    mesh = parallel.data_mesh(n)
    split = lambda a: parallel.split_batch(a, mesh)
    state = parallel.replicate(train.initial_state(config, cfg, tx, merged=False), mesh)
    loss, grads = jax.jit(jax.value_and_grad(loss_fn))(state['params'], split(x), split(y),
                                                       split(lengths))
    step = jax.jit(train.train_step_fn(cfg, tx, 0.1), out_shardings=parallel.replicated(mesh))
    for t in range(3):
      state, _ = step(state, split(x), split(y), split(lengths), jax.random.key(t), 0.01, 0.0, t)
    runs[n] = dict(loss=loss, grads=grads, state=state, mesh=mesh,
                   batch_devices=len(split(x).sharding.device_set),
                   param_devices=len(state['params']['embedding'].sharding.device_set))
  out = {n: {'batch_devices': r['batch_devices'], 'param_devices': r['param_devices'],
             'loss_diff': abs(float(r['loss']) - float(runs[1]['loss'])),
             'grad_diff': max_diff(r['grads'], runs[1]['grads']),
             'params_diff_after_3_steps': max_diff(r['state'], runs[1]['state'])}
         for n, r in runs.items()}

  # A checkpoint written on 4 devices restores on 1; one written on 1 restores on 2.
  for src, dst in ((4, 1), (1, 2)):
    with tempfile.TemporaryDirectory() as workdir:
      ckpts = checkpoint.Checkpoints(workdir)
      state = runs[src]['state']
      ckpts.save(3, state['params'], state['opt_state'], {'step': 3})
      ckpts.wait()
      template = parallel.replicate(train.initial_state(config, cfg, tx, merged=False),
                                    runs[dst]['mesh'])
      params, opt_state = ckpts.restore(3, template['params'], template['opt_state'])
      ckpts.close()
      out[f'restore_{src}_to_{dst}'] = {
          'equal': max_diff({'p': params, 'o': opt_state}, state) == 0.0,
          'devices': len(params['embedding'].sharding.device_set)}

  # The whole training loop on 2 devices against 1.
  finals = {}
  for n in (1, 2):
    with tempfile.TemporaryDirectory() as workdir:
      train.train_and_evaluate(tiny_config(num_train_steps=30, num_devices=n), workdir,
                               log=lambda s: None)
      finals[n] = ngpu_jax.load(workdir).params
  out['train_and_evaluate_params_diff_2_vs_1'] = max_diff(finals[2], finals[1])

  # Many seeds in one program, the batch of every member split across 2 devices (buckets of
  # 2, so that the members often differ in width and step in groups: seeds._group_step).
  members = {}
  for n in (1, 2):
    with tempfile.TemporaryDirectory() as workdir:
      train.train_and_evaluate(tiny_config(num_train_steps=20, num_seeds=2, num_devices=n,
                                           bucket_step=2),
                               workdir, log=lambda s: None)
      members[n] = [m.params for m in seeds.load_members(workdir)]
  out['seeds_params_diff_2_vs_1'] = max_diff(members[2], members[1])

  try:
    train.train_and_evaluate(tiny_config(batch_size=6, num_devices=4), tempfile.mkdtemp())
    out['indivisible_batch_error'] = None
  except ValueError as e:
    out['indivisible_batch_error'] = str(e)
  print(json.dumps(out))


if __name__ == '__main__':
  main()
