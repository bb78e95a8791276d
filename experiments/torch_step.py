"""The Neural GPU train step written in PyTorch eager, for `benchmark.py --pytorch`.

Issue 3 asks for a JAX train step faster than "the same step written in PyTorch eager on
this CPU". This module is that step, so that the two can be timed in one run on one
machine. It needs `torch`, which the project does not depend on (install it beside the
project to use this); nothing in `ngpu_jax/` or the tests imports it.

The same computation as `train.train_step_fn` for a batch whose examples are all n long
(the benchmark's batches): embedding into row 0, n steps of L CGRUs with step t using
relaxed set t mod R, dropout on the state at each step's start, readout from row 0, masked
cross-entropy plus the pull penalty, global-norm clipping and Adam. The state is
[B, M, H, N] and each CGRU's convolutions are `torch.nn.functional.conv2d` over (H, N) with
the 3x3 kernels (oneDNN on a CPU), so autograd runs PyTorch's own convolution gradients.
Of the layouts tried, [B, M, H, N] was the fastest: the train step at batch 32, n 41, m 24
took 399 ms against 434-440 ms with [B, M, N, H] and 460 ms with channels-last tensors
(torch 2.14.1, 2-core CPU, 2026-12-04, medians of 7 calls).
Dropout draws from PyTorch's generator, not the JAX masks; `tests/test_torch_step.py`
checks the logits and gradients against JAX with dropout off.
"""

import numpy as np
import torch
import torch.nn.functional as F

from ngpu_jax import model


def to_torch(params) -> dict:
  """JAX parameters -> float32 torch leaf tensors that require gradients; the kernels
  [R, L, kw, kh, I, O] become conv2d weights [R, L, O, I, kh, kw]."""
  out = {}
  for name, value in params.items():
    value = torch.from_numpy(np.array(value, np.float32))
    if name in ('gates_kernel', 'cand_kernel'):
      value = value.permute(0, 1, 5, 4, 3, 2).contiguous()
    out[name] = value.requires_grad_(True)
  return out


def forward(p: dict, inputs_BxN: torch.Tensor, cfg: model.ModelConfig,
            dropout_rate: float = 0.0) -> torch.Tensor:
  """Logits [B, N, V] of int64 inputs [B, N], every example n long (n steps)."""
  b, n = inputs_BxN.shape
  m, h = cfg.nmaps, cfg.height
  live = (inputs_BxN != 0).unsqueeze(-1).float()
  e = torch.tanh(p['embedding'][inputs_BxN] * live) @ p['in_kernel'] + p['in_bias']
  s = torch.cat([e.permute(0, 2, 1).unsqueeze(2), e.new_zeros(b, m, h - 1, n)], dim=2)
  gate_start = torch.tensor(model.GATE_BIAS_START['cgru']).repeat_interleave(m)
  pad = (cfg.kernel_height // 2, cfg.kernel_width // 2)
  for t in range(model.step_count(cfg, n)):
    r_set = t % cfg.relax_sets
    x = F.dropout(s, dropout_rate, training=dropout_rate > 0.0)
    for layer in range(cfg.layers):
      gates_bias = (p['gates_bias'][r_set, layer] + gate_start).view(1, 2 * m, 1, 1)
      pre = F.conv2d(x, p['gates_kernel'][r_set, layer], padding=pad) + gates_bias
      gates = torch.clamp(cfg.cutoff * torch.sigmoid(pre) - (cfg.cutoff - 1.0) / 2.0, 0.0, 1.0)
      u, r = gates[:, :m], gates[:, m:]
      cand_bias = p['cand_bias'][r_set, layer].view(1, m, 1, 1)
      c = torch.tanh(F.conv2d(r * x, p['cand_kernel'][r_set, layer], padding=pad) + cand_bias)
      x = u * x + (1.0 - u) * c
    s = x
  return s[:, :, 0].permute(0, 2, 1) @ p['out_kernel'] + p['out_bias']


def pull_penalty(p: dict) -> torch.Tensor:
  return sum(((p[name] - p[name].mean(0, keepdim=True))**2).sum() for name in model.RELAXED)


def make_train_step(params, cfg: model.ModelConfig, config):
  """step(inputs [B, N] int64, targets [B, N] int64, pull float) -> cross-entropy, with the
  parameters (`step.params`, torch layout) and Adam's state held inside; the recipe
  (learning rate, Adam's epsilon, clipping, dropout) from the ml_collections `config`."""
  p = to_torch(params)
  optimizer = torch.optim.Adam(p.values(), lr=config.learning_rate, eps=config.adam_eps)

  def step(inputs_BxN, targets_BxN, pull):
    optimizer.zero_grad(set_to_none=True)
    logits = forward(p, inputs_BxN, cfg, config.dropout)
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets_BxN.reshape(-1))
    loss = ce + pull * pull_penalty(p)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(p.values(), config.grad_clip)
    optimizer.step()
    return ce.detach()

  step.params = p
  return step
