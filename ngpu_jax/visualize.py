"""Pictures of what a trained Neural GPU does with one input (matplotlib, files only):

  state.png     the state ("mental image") over the steps: one panel per row h and channel,
                each an image with a line per step and a column per position;
  gates.png     the update and reset gates of every CGRU, averaged over the channels;
  readout.png   the answer the model would give if stopped after each step, and which of
                its symbols are right: one can watch the carry travel;
  state.gif     the whole state, step by step;
  learning_curves.png   loss, error rates, curriculum length and pull from metrics.jsonl.

  python -m ngpu_jax.main --mode=visualize --checkpoint=DIR --input="1011+0110" [--workdir=OUT]
"""

import json
import os

import matplotlib

matplotlib.use('Agg')  # files only, no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import animation  # noqa: E402

from ngpu_jax import model, tasks  # noqa: E402


def trace_text(predictor, text: str) -> dict:
  """The model's trace (numpy, batch axis dropped) for one human-written example, with its
  `inputs` [N] and `targets` [N]."""
  task = tasks.get(predictor.task)
  inputs = tasks.encode_text(task, text)
  traced = model.trace(predictor.params, inputs, np.array([inputs.shape[1]]),
                       predictor.model_config)
  out = {k: np.asarray(v)[..., 0, :, :] if k in ('update', 'reset') else np.asarray(v)[:, 0]
         for k, v in traced.items()}
  out.update(inputs=inputs[0], targets=tasks.solve(task, inputs)[0])
  return out


def plot_state(states_TxNxF, height: int, path: str, channels: int = 4) -> str:
  t, n, f = states_TxNxF.shape
  m = f // height
  channels = min(channels, m)
  fig, axes = plt.subplots(height, channels, figsize=(2.2 * channels, 1.8 * height),
                           squeeze=False)
  for h in range(height):
    for c in range(channels):
      ax = axes[h, c]
      ax.imshow(states_TxNxF[:, :, h * m + c], aspect='auto', cmap='RdBu', vmin=-1, vmax=1)
      ax.set_title(f'row {h}, channel {c}', fontsize=8)
      ax.set_xticks([])
      ax.set_yticks([])
  axes[-1, 0].set_xlabel('position')
  axes[-1, 0].set_ylabel('step')
  fig.suptitle(f'state over {t} steps (red -1 .. blue +1)')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path


def plot_gates(update_TxLxNxF, reset_TxLxNxF, path: str) -> str:
  layers = update_TxLxNxF.shape[1]
  fig, axes = plt.subplots(2, layers, figsize=(4 * layers + 1, 6), squeeze=False,
                           constrained_layout=True)
  for row, (name, gates) in enumerate((('update u', update_TxLxNxF), ('reset r', reset_TxLxNxF))):
    for layer in range(layers):
      ax = axes[row, layer]
      image = ax.imshow(gates[:, layer].mean(axis=-1), aspect='auto', cmap='viridis', vmin=0,
                        vmax=1)
      ax.set_title(f'{name}, CGRU {layer} (mean over channels)', fontsize=8)
      ax.set_xlabel('position')
      ax.set_ylabel('step')
  fig.colorbar(image, ax=axes.ravel().tolist())
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path


def plot_readout(logits_TxNxV, targets_N, task: tasks.Task, path: str) -> str:
  """Left: the symbol read out after each step; right: green where it is the final answer's
  symbol, red where not."""
  symbols = logits_TxNxV.argmax(-1)
  right = symbols == targets_N[None, :]
  fig, axes = plt.subplots(1, 2, figsize=(10, 4))
  axes[0].imshow(symbols, aspect='auto', cmap='tab20', vmin=0, vmax=19, interpolation='nearest')
  axes[0].set_title('symbol read out after each step (0 = padding)', fontsize=9)
  axes[1].imshow(right, aspect='auto', cmap='RdYlGn', vmin=0, vmax=1, interpolation='nearest')
  done = np.flatnonzero(right.all(axis=1))
  axes[1].set_title('right (green) or wrong (red); ' + (
      f'all right from step {done[0] + 1} of {len(right)}' if done.size
      else f'not all right after {len(right)} steps'), fontsize=9)
  for ax in axes:
    ax.set_xlabel('position (least-significant digit first)' if task.is_arithmetic
                  else 'position')
    ax.set_ylabel('step')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path


def animate_state(states_TxNxF, path: str, fps: int = 8) -> str:
  """Frame t: the state after step t, features (row h, channel c) down, positions across."""
  fig, ax = plt.subplots(figsize=(6, 4))
  image = ax.imshow(states_TxNxF[0].T, aspect='auto', cmap='RdBu', vmin=-1, vmax=1)
  ax.set_xlabel('position')
  ax.set_ylabel('feature (row h, channel c)')
  title = ax.set_title('')

  def frame(t):
    image.set_data(states_TxNxF[t].T)
    title.set_text(f'state after step {t + 1} of {len(states_TxNxF)}')
    return image, title

  movie = animation.FuncAnimation(fig, frame, frames=len(states_TxNxF), blit=False)
  movie.save(path, writer=animation.PillowWriter(fps=fps))
  plt.close(fig)
  return path


def plot_learning_curves(metrics_path: str, path: str) -> str:
  with open(metrics_path) as f:
    records = [json.loads(line) for line in f if line.strip()]
  if not records:
    raise ValueError(f'{metrics_path} holds no records')
  steps = [r['step'] for r in records]
  fig, axes = plt.subplots(2, 2, figsize=(10, 6))
  panels = ((('loss',), 'loss', True), (('train_seq_error', 'check_seq_error'),
                                         'sequence error', False),
            (('cur',), 'curriculum (digits)', False), (('pull', 'learning_rate'), '', True))
  for ax, (keys, label, log_scale) in zip(axes.ravel(), panels):
    for key in keys:
      ax.plot(steps, [r[key] for r in records], label=key)
    ax.set_xlabel('step')
    ax.set_ylabel(label)
    if log_scale:
      ax.set_yscale('log')
    ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path


def write_all(predictor, text: str, outdir: str, metrics_path=None) -> list:
  """Every picture for one example (and the learning curves when a metrics file is given);
  returns the paths written."""
  os.makedirs(outdir, exist_ok=True)
  traced = trace_text(predictor, text)
  task = tasks.get(predictor.task)
  paths = [
      plot_state(traced['states'], predictor.model_config.height,
                 os.path.join(outdir, 'state.png')),
      plot_gates(traced['update'], traced['reset'], os.path.join(outdir, 'gates.png')),
      plot_readout(traced['logits'], traced['targets'], task, os.path.join(outdir, 'readout.png')),
      animate_state(traced['states'], os.path.join(outdir, 'state.gif')),
  ]
  if metrics_path and os.path.exists(metrics_path):
    paths.append(plot_learning_curves(metrics_path, os.path.join(outdir, 'learning_curves.png')))
  return paths
