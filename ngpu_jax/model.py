"""The Neural GPU (SPEC.md section 1): embed -> scanned CGRU steps -> readout.

The math is pure functions of (params, state); `NeuralGPU` is a thin Flax module that only
declares the parameters and calls `forward`.

Shapes: B batch, N width (sequence positions), H height (rows), M nmaps (channels),
V vocabulary, F = H * M (rows folded into channels, h-major: feature h * M + c),
R relaxed parameter sets, L CGRU layers per step.

The 3x3 convolution is written in banded form: rows are folded into channels, so the
convolution becomes a 1-D one along the sequence whose kernel is a block-banded
[kw * F, H * out] matrix built from the 3x3 kernel. The forward pass runs it as a 1-D
convolution (`conv1d`); the backward pass (`recurrence`, a hand-written VJP) gets the input
gradient as the 1-D convolution of the gradient with the flipped, transposed kernel and the kernel
gradient as a matmul, (the kw shifted copies of the input)^T @ gradient, accumulated per
relaxed set inside the backward scan. XLA's own
gradient of the 2-D `lax.conv` form was 4-9x slower on XLA:CPU (DESIGN.md);
`conv_impl='reference'` keeps that plain form, differentiated by JAX, for tests.

Two cells (`ModelConfig.cell`): 'cgru', the paper's, and 'dcgru', the improved cell of
Freivalds & Liepins 2017 (SPEC.md section 7): hard sigmoid/tanh gates, a diagonal update that
moves a third of the maps one position left and a third one position right, dropout on the
candidate, a saturation cost on the pre-activations, and optionally their input layer
(`hard_input`: the embedding through a hard tanh, with its own saturation cost and dropout).
'dcgru' is differentiated by JAX,
through `conv_banded`'s matmul VJP (no hand-written VJP for the whole recurrence).
"""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

# Parameters that exist once per relaxed set (leading axis R); all others are shared.
RELAXED = ('gates_kernel', 'gates_bias', 'cand_kernel', 'cand_bias')
CELLS = ('cgru', 'dcgru')
# Initial offsets of the gates' biases [update, reset]: the paper's CGRU starts both at +1;
# the DCGRU's hard sigmoids at 0.7 (update) and 0.5 (reset), as Freivalds & Liepins.
GATE_BIAS_START = {'cgru': (1.0, 1.0), 'dcgru': (0.7, 0.5)}
SATURATION_LIMIT = 0.9  # the DCGRU's saturation cost counts |pre-activation| beyond this


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  cell: str = 'cgru'  # 'cgru' (the paper's) or 'dcgru' (Freivalds & Liepins 2017)
  vocab_size: int = 14
  nmaps: int = 24  # M, feature maps per cell
  height: int = 4  # H, rows of the state
  kernel_width: int = 3  # kw, along the sequence
  kernel_height: int = 3  # kh, along the rows
  layers: int = 2  # L, CGRUs per step
  relax_sets: int = 6  # R, parameter sets; step t uses set t mod R
  steps_per_symbol: int = 1  # an example of length n gets n * steps_per_symbol steps ...
  # ... plus extra_steps. Not in the paper: the same cell run a few steps longer after its
  # last input step; trained models may be evaluated with it (RESULTS.md, bmul).
  extra_steps: int = 0
  cutoff: float = 1.2  # gate nonlinearity clip(cutoff * sigmoid(x) - (cutoff - 1) / 2, 0, 1)
  init_scale: float = 1.8  # kernels uniform in +-init_scale * sqrt(3 / fan_in)
  embed_scale: float = 1.7  # embedding uniform in +-embed_scale
  # 'dcgru' only: Freivalds & Liepins' input layer (the symbol's vector through a hard tanh,
  # with dropout and its own saturation cost) instead of the paper's linear one.
  hard_input: bool = False

  def __post_init__(self):
    if self.cell not in CELLS:
      raise ValueError(f'model.cell must be one of {CELLS}, got {self.cell!r}')
    for name in ('vocab_size', 'nmaps', 'height', 'layers', 'relax_sets', 'steps_per_symbol'):
      value = getattr(self, name)
      if not isinstance(value, int) or value < 1:
        raise ValueError(f'model.{name} must be an integer >= 1, got {value!r}')
    if not isinstance(self.extra_steps, int) or self.extra_steps < 0:
      raise ValueError(f'model.extra_steps must be an integer >= 0, got {self.extra_steps!r}')
    if self.hard_input and self.cell != 'dcgru':
      raise ValueError("model.hard_input is the 'dcgru' cell's input layer; set model.cell='dcgru'")
    for name in ('kernel_width', 'kernel_height'):
      value = getattr(self, name)
      if not isinstance(value, int) or value < 1 or value % 2 == 0:
        raise ValueError(f'model.{name} must be an odd integer >= 1, got {value!r}')


def _uniform(scale):
  return lambda key, shape: jax.random.uniform(key, shape, jnp.float32, -scale, scale)


def _kernel_init(cfg, fan_in):
  return _uniform(cfg.init_scale * np.sqrt(3.0 / fan_in))


def param_shapes(cfg: ModelConfig) -> dict:
  """Name -> (shape, initializer) of every parameter."""
  m, v, r, l = cfg.nmaps, cfg.vocab_size, cfg.relax_sets, cfg.layers
  kw, kh = cfg.kernel_width, cfg.kernel_height
  conv_init = _kernel_init(cfg, kw * kh * m)
  zeros = lambda key, shape: jnp.zeros(shape, jnp.float32)
  return {
      'embedding': ((v, m), _uniform(cfg.embed_scale)),
      'in_kernel': ((m, m), _kernel_init(cfg, m)),
      'in_bias': ((m,), zeros),
      'gates_kernel': ((r, l, kw, kh, m, 2 * m), conv_init),  # u and r gates, fused
      'gates_bias': ((r, l, 2 * m), zeros),
      'cand_kernel': ((r, l, kw, kh, m, m), conv_init),
      'cand_bias': ((r, l, m), zeros),
      'out_kernel': ((m, v), _kernel_init(cfg, m)),
      'out_bias': ((v,), zeros),
  }


def gate(x, cutoff):
  """sigma'(x) = clip(cutoff * sigmoid(x) - (cutoff - 1) / 2, 0, 1); cutoff 1.2 as the paper."""
  return jnp.clip(cutoff * jax.nn.sigmoid(x) - (cutoff - 1.0) / 2.0, 0.0, 1.0)


def banded_kernel(kernel_KWxKHxIxO, height, groups=1):
  """A 3x3 (kw x kh) kernel as the [kw * H * I, groups * H * O/groups] matrix of the
  convolution along rows folded into channels, zero padding at the top and bottom rows.

  Output features are ordered [group, h, channel] so that fused gates split into
  contiguous [H * M] blocks.
  """
  kw, kh, i, o = kernel_KWxKHxIxO.shape
  # select[k, hi, ho] = 1 where input row hi feeds output row ho through kernel row k.
  select = np.zeros((kh, height, height), np.float32)
  for k in range(kh):
    for ho in range(height):
      hi = ho + k - kh // 2
      if 0 <= hi < height:
        select[k, hi, ho] = 1.0
  w = jnp.einsum('wkio,kab->waibo', kernel_KWxKHxIxO, select)  # [kw, H, I, H, O]
  w = w.reshape(kw, height, i, height, groups, o // groups)
  w = w.transpose(0, 1, 2, 4, 3, 5)  # [kw, H, I, groups, H, O/groups]
  return w.reshape(kw * height * i, groups * height * (o // groups))


def shift_concat(s_BxNxF, kernel_width):
  """The kw shifted copies of the state side by side, zero beyond both ends: [B, N, kw * F]."""
  n = s_BxNxF.shape[1]
  pad = kernel_width // 2
  s_pad = jnp.pad(s_BxNxF, ((0, 0), (pad, pad), (0, 0)))
  return jnp.concatenate([s_pad[:, dx:dx + n] for dx in range(kernel_width)], axis=-1)


@jax.custom_batching.custom_vmap
def conv1d(x_BxNxI, w_KWxIxO):
  """The 1-D 'SAME' convolution along N, zero beyond both ends: `lax.conv` (on XLA:CPU
  faster than the shifted copies times one matmul: 1.1x at batch 32, n 41, 2.2x at batch 8,
  n 4001, measured 2026-11-27). Under `jax.vmap` with a kernel per member (the many-seeds
  program) the shifted copies times a batched matmul instead: a vmapped `lax.conv` becomes a
  grouped convolution, which made a 4-seed train step 4-27% slower on XLA:CPU (two
  interleaved A/Bs with a training sharing the CPU, 2026-11-28; not measured on a GPU)."""
  return jax.lax.conv_general_dilated(x_BxNxI, w_KWxIxO, (1,), 'SAME',
                                      dimension_numbers=('NWC', 'WIO', 'NWC'))


@conv1d.def_vmap
def _conv1d_vmap(axis_size, in_batched, x_KxBxNxI, w_KxKWxIxO):
  x_KxBxNxI, w_KxKWxIxO = [a if batched else jnp.broadcast_to(a, (axis_size,) + a.shape)
                           for a, batched in zip((x_KxBxNxI, w_KxKWxIxO), in_batched)]
  kw, i, o = w_KxKWxIxO.shape[1:]
  shifted = jax.vmap(shift_concat, (0, None))(x_KxBxNxI, kw)  # [K, B, N, kw * I]
  return jnp.einsum('kbnj,kjo->kbno', shifted, w_KxKWxIxO.reshape(axis_size, kw * i, o)), True


def conv_banded_transpose(g_BxNxG, w_KFxG, kernel_width):
  """The input gradient of `conv_banded` (its adjoint in s): the 1-D convolution of the
  gradient with the kernel flipped along the sequence and its input and output swapped.
  Equal to moving each block of `g @ w^T` back by its shift and summing, which XLA:CPU ran
  ~10% slower for a whole 'cgru' gradient (batch 32, n 41, m 24, interleaved calls, 2-core
  CPU, 2026-11-28): the pads and slices of the [B, N, kw * F] product were recomputed in
  every elementwise fusion that read them."""
  f = w_KFxG.shape[0] // kernel_width
  return conv1d(g_BxNxG, w_KFxG.reshape(kernel_width, f, -1)[::-1].transpose(0, 2, 1))


def conv_banded_kernel_grad(s_BxNxF, g_BxNxG, kernel_width):
  """The kernel gradient of `conv_banded` given its output's gradient: (the shifted copies of
  the input)^T times that gradient, one matmul over all B x N positions: [kw * F, G]."""
  k = s_BxNxF.shape[0] * s_BxNxF.shape[1]
  return shift_concat(s_BxNxF, kernel_width).reshape(k, -1).T @ g_BxNxG.reshape(k, -1)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def conv_banded(s_BxNxF, w_KFxG, kernel_width):
  """The convolution along the sequence with the banded kernel: `conv1d` over the
  [kw, F, G] kernel; equal to `shift_concat(s) @ w`, whose matmul gives the kernel gradient
  in its VJP: JAX's own gradient of the `lax.conv` made a 'dcgru' train step (m 48, batch
  32, n 41) 7.5x slower (1.0 s against 0.135 s, 2-core CPU, 2026-11-27;
  experiments/RESULTS.md, DCGRU section). The 'cgru' recurrence has its own VJP and does
  not differentiate this."""
  f, g = s_BxNxF.shape[-1], w_KFxG.shape[-1]
  return conv1d(s_BxNxF, w_KFxG.reshape(kernel_width, f, g))


def _conv_banded_fwd(s_BxNxF, w_KFxG, kernel_width):
  return conv_banded(s_BxNxF, w_KFxG, kernel_width), (s_BxNxF, w_KFxG)


def _conv_banded_bwd(kernel_width, residuals, g_BxNxG):
  s_BxNxF, w_KFxG = residuals
  return (conv_banded_transpose(g_BxNxG, w_KFxG, kernel_width),
          conv_banded_kernel_grad(s_BxNxF, g_BxNxG, kernel_width))


conv_banded.defvjp(_conv_banded_fwd, _conv_banded_bwd)


def conv_reference(s_BxNxF, kernel_KWxKHxIxO, height, groups=1):
  """The same convolution with `lax.conv_general_dilated` (the plain, slow form)."""
  b, n, f = s_BxNxF.shape
  o = kernel_KWxKHxIxO.shape[-1]
  out = jax.lax.conv_general_dilated(
      s_BxNxF.reshape(b, n, height, f // height), kernel_KWxKHxIxO, (1, 1), 'SAME',
      dimension_numbers=('NHWC', 'HWIO', 'NHWC'))  # [B, N, H, O]
  out = out.reshape(b, n, height, groups, o // groups).transpose(0, 1, 3, 2, 4)
  return out.reshape(b, n, o * height)


def prepare_weights(params, cfg: ModelConfig, conv_impl='banded'):
  """Per-set CGRU weights in the form the scanned step uses; leading axes [R, L].

  Biases are broadcast over the rows (and the gates' start offsets added) here, once,
  rather than in every step.
  """
  h, m = cfg.height, cfg.nmaps
  gates_kernel, cand_kernel = params['gates_kernel'], params['cand_kernel']
  if conv_impl == 'banded':
    band = lambda k, groups: banded_kernel(k, h, groups)
    for _ in range(2):  # map over the leading [R, L] axes
      band = jax.vmap(band, in_axes=(0, None))
    gates_kernel, cand_kernel = band(gates_kernel, 2), band(cand_kernel, 1)
  elif conv_impl != 'reference':
    raise ValueError(f"conv_impl must be 'banded' or 'reference', got {conv_impl!r}")
  r, l = params['gates_bias'].shape[:2]
  start = jnp.asarray(GATE_BIAS_START[cfg.cell], jnp.float32)[:, None, None]
  gates_bias = params['gates_bias'].reshape(r, l, 2, 1, m) + start
  gates_bias = jnp.broadcast_to(gates_bias, (r, l, 2, h, m)).reshape(r, l, 2 * h * m)
  cand_bias = jnp.broadcast_to(params['cand_bias'][:, :, None, :], (r, l, h, m))
  return dict(gates_kernel=gates_kernel, gates_bias=gates_bias, cand_kernel=cand_kernel,
              cand_bias=cand_bias.reshape(r, l, h * m))


def _conv_fn(cfg: ModelConfig, conv_impl):
  """conv(x, kernel, groups) in the form `prepare_weights(..., conv_impl)` made the kernel."""
  if conv_impl == 'banded':
    return lambda x, k, groups: conv_banded(x, k, cfg.kernel_width)
  return lambda x, k, groups: conv_reference(x, k, cfg.height, groups)


def cgru(s_BxNxF, w, cfg: ModelConfig, conv_impl='banded'):
  """One convolutional GRU: u . s + (1 - u) . tanh(U * (r . s) + B).

  Returns the new state and, for the backward pass, the gates [u, r] and the candidate c.
  """
  conv = _conv_fn(cfg, conv_impl)
  f = s_BxNxF.shape[-1]
  gates = gate(conv(s_BxNxF, w['gates_kernel'], 2) + w['gates_bias'], cfg.cutoff)
  u, r = gates[..., :f], gates[..., f:]
  c = jnp.tanh(conv(r * s_BxNxF, w['cand_kernel'], 1) + w['cand_bias'])
  return u * s_BxNxF + (1.0 - u) * c, (gates, c)


def hard_sigmoid(x):
  return jnp.clip(0.5 * x + 0.5, 0.0, 1.0)


def hard_tanh(x):
  return jnp.clip(x, -1.0, 1.0)


def diagonal_shift(s_BxNxF, nmaps: int):
  """The DCGRU's diagonal move, in every row: maps [M - 2k, M - k) take the value of the
  position before (content moves one position up the sequence), maps [M - k, M) of the
  position after, the first M - 2k stay; k = M // 3, zero beyond both ends."""
  b, n, f = s_BxNxF.shape
  x = s_BxNxF.reshape(b, n, f // nmaps, nmaps)
  k = nmaps // 3
  stay = nmaps - 2 * k
  from_before = jnp.pad(x[:, :-1, :, stay:stay + k], ((0, 0), (1, 0), (0, 0), (0, 0)))
  from_after = jnp.pad(x[:, 1:, :, stay + k:], ((0, 0), (0, 1), (0, 0), (0, 0)))
  return jnp.concatenate([x[..., :stay], from_before, from_after], axis=-1).reshape(b, n, f)


def saturation(pre, weight):
  """The DCGRU's saturation cost: sum of relu(|pre| - SATURATION_LIMIT) * weight."""
  return jnp.sum(jax.nn.relu(jnp.abs(pre) - SATURATION_LIMIT) * weight)


def dcgru(s_BxNxF, w, cfg: ModelConfig, keep_BxNxF, dropout_rate, live_BxNx1,
          conv_impl='banded'):
  """One diagonal convolutional GRU (Freivalds & Liepins 2017):
  u . shift(s) + (1 - u) . dropout(htanh(C * (r . s) + b)), [u, r] = hsig(G * s + b').

  Returns the new state, (gates [u, r], candidate) for pictures, and the saturation cost of
  the pre-activations at the positions where live_BxNx1 is 1.
  """
  conv = _conv_fn(cfg, conv_impl)
  f = s_BxNxF.shape[-1]
  gates_pre = conv(s_BxNxF, w['gates_kernel'], 2) + w['gates_bias']
  gates = hard_sigmoid(gates_pre)
  u, r = gates[..., :f], gates[..., f:]
  c_pre = conv(r * s_BxNxF, w['cand_kernel'], 1) + w['cand_bias']
  c = _dropout(hard_tanh(c_pre), keep_BxNxF, dropout_rate)
  new = u * diagonal_shift(s_BxNxF, cfg.nmaps) + (1.0 - u) * c
  return new, (gates, c), saturation(gates_pre, live_BxNx1) + saturation(c_pre, live_BxNx1)


def gate_grad(g, cutoff):
  """d gate(x) / dx from the gate's value g: cutoff * sigmoid'(x) inside (0, 1), 0 where clipped."""
  sig = (g + (cutoff - 1.0) / 2.0) / cutoff
  return jnp.where((g > 0.0) & (g < 1.0), cutoff * sig * (1.0 - sig), 0.0)


def embed_linear(params, inputs_BxN):
  """Row 0 of s0 before the 'dcgru' input layer's hard tanh: tanh(E[i]) then a 1x1
  convolution. [B, N, M]."""
  live = (inputs_BxN != 0)[..., None]
  e = jnp.tanh(params['embedding'][inputs_BxN] * live)  # padding row forced to zero
  return e @ params['in_kernel'] + params['in_bias']


def embed(params, inputs_BxN, cfg: ModelConfig):
  """s0: `embed_linear` in row 0, through a hard tanh with `cfg.hard_input` (Freivalds &
  Liepins' input layer: a 1x1 convolution of the one-hot symbols, then hard tanh; here the
  symbol's vector is tanh(E[i]) @ K + b, the same kind of per-symbol table); other rows
  zero. [B, N, F]."""
  e = embed_linear(params, inputs_BxN)
  if cfg.hard_input:
    e = hard_tanh(e)
  b, n = inputs_BxN.shape
  rest = jnp.zeros((b, n, (cfg.height - 1) * cfg.nmaps), e.dtype)
  return jnp.concatenate([e, rest], axis=-1)  # h-major: row 0 is the first M features


def _dropout(s_BxNxF, keep_BxNxF, rate):
  if rate == 0.0:
    return s_BxNxF
  return jnp.where(keep_BxNxF, s_BxNxF / (1.0 - rate), 0.0)


def _layer(tree, index):
  return jax.tree.map(lambda x: x[index], tree)


def _step(weights, s_BxNxF, t, sets, keep_BxNxF, mask_BxNx1, steps_B, cfg, dropout_rate,
          conv_impl):
  """Step t of the recurrence (relaxed set t mod `sets`, its L cells); frozen examples keep s.

  Returns the new state, the layers' (gates, candidate) (for the backward pass and
  pictures) and the step's saturation cost (0 for 'cgru'). Dropout: 'cgru' on the state at
  the step's start, 'dcgru' on every cell's candidate (the same mask).
  """
  w_set = _layer(weights, t % sets)
  active_Bx1x1 = (t < steps_B)[:, None, None]
  parts, cost = [], jnp.zeros((), jnp.float32)
  if cfg.cell == 'cgru':
    x = _dropout(s_BxNxF, keep_BxNxF, dropout_rate)
    for layer in range(cfg.layers):
      x, part = cgru(x, _layer(w_set, layer), cfg, conv_impl)
      x = x * mask_BxNx1
      parts.append(part)
  else:
    x = s_BxNxF
    for layer in range(cfg.layers):
      x, part, layer_cost = dcgru(x, _layer(w_set, layer), cfg, keep_BxNxF, dropout_rate,
                                  mask_BxNx1 * active_Bx1x1, conv_impl)
      x = x * mask_BxNx1
      parts.append(part)
      cost += layer_cost
  return jnp.where(active_Bx1x1, x, s_BxNxF), parts, cost


def _scan(weights, s0_BxNxF, sets, mask_BxNx1, steps_B, keep_T, cfg, dropout_rate, conv_impl):
  """(final state, summed saturation cost) after T = len(keep_T) steps, autodiff form."""
  def body(carry, xs):
    s, cost = carry
    t, keep = xs
    new, _, step_cost = _step(weights, s, t, sets, keep, mask_BxNx1, steps_B, cfg,
                              dropout_rate, conv_impl)
    return (new, cost + step_cost), None
  return jax.lax.scan(body, (s0_BxNxF, jnp.zeros((), jnp.float32)),
                      (jnp.arange(keep_T.shape[0]), keep_T))[0]


def batch_groups(batch: int) -> int:
  """How many independent parts the banded recurrence splits a batch into: 2 on a CPU when
  the batch is even, else 1. XLA:CPU runs independent operations side by side on its
  threads, and there the small matmuls of two half batches, one per thread, beat one
  matmul on both threads. 2-core CPU, 2026-12-04, interleaved calls: the train step at batch
  32, n 41, m 24 took 360 ms in 1 part, 297 in 2, 301 in 4, 309 in 8; the evaluation
  forward pass at batch 8, n 401 1.71 s in 1 part, 1.53 in 2, 1.50 in 4, and at n 4001 the
  same within 3%. On an accelerator one large matmul beats several small ones in turn."""
  return 2 if jax.default_backend() == 'cpu' and batch % 2 == 0 else 1


def _split_batch(x, groups, axis=0):
  """x split into `groups` equal parts along its batch axis; x itself `groups` times when it
  has no such axis (the [T] placeholder of masks when dropout is off)."""
  if x.ndim <= axis:
    return [x] * groups
  return jnp.split(x, groups, axis=axis)


def _banded_scan(weights, s0_BxNxF, sets, mask_BxNx1, steps_B, keep_T, cfg, dropout_rate,
                 keep_residuals: bool):
  """The 'cgru' recurrence in banded form with the batch in `batch_groups` independent
  parts: (final state, per part the stacked [T, ...] (input state, layers' (gates,
  candidate)) of every step, or None)."""
  groups = batch_groups(s0_BxNxF.shape[0])
  masks, steps = _split_batch(mask_BxNx1, groups), _split_batch(steps_B, groups)

  def body(s_G, xs):
    t, keep = xs
    new_G, residuals_G = [], []
    for s, keep_g, mask, steps_g in zip(s_G, _split_batch(keep, groups), masks, steps):
      new, parts, _ = _step(weights, s, t, sets, keep_g, mask, steps_g, cfg, dropout_rate,
                            'banded')
      new_G.append(new)
      residuals_G.append((s, parts))
    return tuple(new_G), tuple(residuals_G) if keep_residuals else None
  s_final_G, residuals_GT = jax.lax.scan(
      body, tuple(_split_batch(s0_BxNxF, groups)), (jnp.arange(keep_T.shape[0]), keep_T))
  return jnp.concatenate(s_final_G), residuals_GT


@functools.partial(jax.custom_vjp, nondiff_argnums=(6, 7))
def recurrence(weights, s0_BxNxF, sets, mask_BxNx1, steps_B, keep_T, cfg, dropout_rate):
  """The final state after T = len(keep_T) steps, banded form, with a hand-written VJP.

  The forward pass keeps each step's input state and each CGRU's gates and candidate; the
  backward scan rebuilds the CGRU inputs from them, carries the state's gradient and adds
  each step's kernel gradients into its relaxed set's slot (0.40 s against 0.66 s for JAX's
  own gradient of the same scan, batch 32, n 41, m 24, 2-core CPU, 2026-11-27). Both passes
  run the batch as `batch_groups` independent parts. Tested against autodiff of the
  `lax.conv` reference (tests/test_model.py).
  """
  return _banded_scan(weights, s0_BxNxF, sets, mask_BxNx1, steps_B, keep_T, cfg, dropout_rate,
                      keep_residuals=False)[0]


def _recurrence_fwd(weights, s0_BxNxF, sets, mask_BxNx1, steps_B, keep_T, cfg, dropout_rate):
  s_final, residuals_GT = _banded_scan(weights, s0_BxNxF, sets, mask_BxNx1, steps_B, keep_T,
                                       cfg, dropout_rate, keep_residuals=True)
  return s_final, (weights, sets, mask_BxNx1, steps_B, keep_T, residuals_GT)


def _step_bwd(w_set, d, t, keep, s, parts, mask_BxNx1, steps_B, cfg, dropout_rate):
  """One step of the backward scan for one part of the batch: (the gradient of the step's
  input state, {name: [per layer gradient]} of the step's set)."""
  kw, f = cfg.kernel_width, d.shape[-1]
  active = (t < steps_B)[:, None, None]
  ds = d
  d = jnp.where(active, d, 0.0)
  inputs = [_dropout(s, keep, dropout_rate)]
  for gates, c in parts[:-1]:
    u = gates[..., :f]
    inputs.append((u * inputs[-1] + (1.0 - u) * c) * mask_BxNx1)
  dset = {name: [None] * cfg.layers for name in w_set}
  for layer in reversed(range(cfg.layers)):
    w = _layer(w_set, layer)
    x, (gates, c) = inputs[layer], parts[layer]
    u, r = gates[..., :f], gates[..., f:]
    d = d * mask_BxNx1
    dc_pre = d * (1.0 - u) * (1.0 - c * c)
    drs = conv_banded_transpose(dc_pre, w['cand_kernel'], kw)
    dgates_pre = jnp.concatenate([d * (x - c), drs * x], axis=-1) * gate_grad(gates, cfg.cutoff)
    d = d * u + drs * r + conv_banded_transpose(dgates_pre, w['gates_kernel'], kw)
    for name, conv_in, dpre in (('gates', x, dgates_pre), ('cand', r * x, dc_pre)):
      dset[name + '_kernel'][layer] = conv_banded_kernel_grad(conv_in, dpre, kw)
      dset[name + '_bias'][layer] = dpre.sum((0, 1))
  d = _dropout(d, keep, dropout_rate)  # linear in s: its own transpose
  return jnp.where(active, d, ds), dset


def _recurrence_bwd(cfg, dropout_rate, residuals, ds_final):
  """Reverse scan. Per CGRU, out = (u x + (1 - u) c) * mask with c = tanh(C(r x) + b_c),
  [u, r] = gate(G(x) + b_g), C and G the banded convolutions: given d = dL/d out, mask
  applied, dc_pre = d (1 - u)(1 - c^2); d(r x) = C^T dc_pre; dgates_pre =
  [d (x - c), d(r x) x] gate'; dx = d u + d(r x) r + G^T dgates_pre; the kernel gradients
  are (shifted copies of x or r x)^T times dgates_pre or dc_pre, summed over the batch's
  parts. Frozen examples pass their gradient through unchanged."""
  weights, sets, mask_BxNx1, steps_B, keep_T, residuals_GT = residuals
  groups = len(residuals_GT)
  masks, steps = _split_batch(mask_BxNx1, groups), _split_batch(steps_B, groups)

  def body(carry, xs):
    ds_G, dweights = carry
    t, keep, residuals_G = xs
    index = t % sets
    w_set = _layer(weights, index)
    new_ds_G, dsets = [], []
    for ds, keep_g, (s, parts), mask, steps_g in zip(
        ds_G, _split_batch(keep, groups), residuals_G, masks, steps):
      new_ds, dset = _step_bwd(w_set, ds, t, keep_g, s, parts, mask, steps_g, cfg,
                               dropout_rate)
      new_ds_G.append(new_ds)
      dsets.append(dset)
    dweights = {name: dweights[name].at[index].add(
                    jnp.stack([sum(dset[name][layer] for dset in dsets)
                               for layer in range(cfg.layers)]))
                for name in dweights}
    return (tuple(new_ds_G), dweights), None

  dweights0 = {name: jnp.zeros_like(weights[name]) for name in weights}
  (ds0_G, dweights), _ = jax.lax.scan(
      body, (tuple(_split_batch(ds_final, groups)), dweights0),
      (jnp.arange(keep_T.shape[0]), keep_T, residuals_GT), reverse=True)
  return dweights, jnp.concatenate(ds0_G), None, None, None, None


recurrence.defvjp(_recurrence_fwd, _recurrence_bwd)


def step_count(cfg: ModelConfig, n):
  """The steps an example of length n gets (an int, or an array of them)."""
  return n * cfg.steps_per_symbol + cfg.extra_steps


def _prelude(params, inputs_BxN, lengths_B, cfg, conv_impl, steps_B=None):
  """(mask [B, N, 1], steps per example [B] (default step_count of their lengths), step
  count T, weights, s0 [B, N, F])."""
  n = inputs_BxN.shape[1]
  mask_BxNx1 = (jnp.arange(n)[None, :] < lengths_B[:, None])[..., None].astype(jnp.float32)
  s0 = embed(params, inputs_BxN, cfg) * mask_BxNx1
  if steps_B is None:
    steps_B = step_count(cfg, lengths_B)
  return (mask_BxNx1, steps_B, step_count(cfg, n), prepare_weights(params, cfg, conv_impl), s0)


def readout(params, s_BxNxF, cfg: ModelConfig):
  """Logits [..., N, V] from row 0 of a state."""
  return s_BxNxF[..., :cfg.nmaps] @ params['out_kernel'] + params['out_bias']


def _mix32(x_u32):
  """murmur3's 32-bit finalizer: a bijection of uint32 in which every input bit changes
  about half of the output bits."""
  x_u32 = (x_u32 ^ (x_u32 >> 16)) * jnp.uint32(0x85EBCA6B)
  x_u32 = (x_u32 ^ (x_u32 >> 13)) * jnp.uint32(0xC2B2AE35)
  return x_u32 ^ (x_u32 >> 16)


def dropout_masks(key, keep_prob: float, num_steps: int, b: int, n: int, f: int):
  """keep[T, B, N, F] for `num_steps` steps at width n: the mask of step t at position i
  comes from the key fold_in(fold_in(key, t), i), so it does not depend on the width or the
  step count: an example gets the same dropout in any bucket (and in a many-seeds program,
  which may step a member at another member's width, the same as in its own run).

  The keys are JAX's threefry; each (t, i) key's two words k0, k1 are spread over the
  position's b x ceil(f / 2) mask words as mix32(mix32(counter ^ k0) + k1), counter = the
  word's index (distinct counters give distinct words, mix32 being a bijection). Each 32-bit
  word gives two 16-bit uniforms, kept where below keep_prob * 2^16 (the probability exact
  to 2^-16). The masks of a train step at batch 32, n 41 take 2 ms and 0.46 s of compilation
  this way, 48 ms and 1.23 s with every word drawn by threefry (2-core CPU, 2026-11-29).
  """
  words = -(-f // 2)
  threshold = round(keep_prob * 2**16)
  fold_in = jax.vmap(jax.random.fold_in, (None, 0))
  keys_TxN = jax.vmap(fold_in, (0, None))(fold_in(key, jnp.arange(num_steps)), jnp.arange(n))
  k_TxNx2 = jax.random.key_data(keys_TxN)
  counter_BxW = jnp.arange(b * words, dtype=jnp.uint32).reshape(b, words)
  bits_TxNxBxW = _mix32(_mix32(counter_BxW ^ k_TxNx2[:, :, None, None, 0])
                        + k_TxNx2[:, :, None, None, 1])
  halves = jax.lax.bitcast_convert_type(bits_TxNxBxW, jnp.uint16)
  keep_TxNxBxF = halves.reshape(num_steps, n, b, 2 * words)[..., :f] < threshold
  return keep_TxNxBxF.transpose(0, 2, 1, 3)


def forward_with_saturation(params, inputs_BxN, lengths_B, cfg: ModelConfig, *,
                            dropout_rate=0.0, dropout_key=None, conv_impl='banded',
                            sets_in_use=None, steps_B=None):
  """(logits [B, N, V], saturation cost) for int inputs [B, N].

  Example b occupies positions < lengths_B[b] and gets exactly
  step_count(cfg, lengths_B[b]) steps: positions past its length are held at zero after
  every cell (the zero boundary it would have at its own width) and its state is frozen
  after its last step, so padding it into a wider batch does not change its outputs.
  conv_impl 'banded' (the fast form; for 'cgru' with its own VJP) or 'reference' (2-D
  `lax.conv`, autodiff).
  sets_in_use: step t uses relaxed set t mod sets_in_use (default: all R sets); an int
  array, so that a many-seeds program can hold a merged member as set 0 of R (seeds.py).
  steps_B: the examples' step counts instead (at most step_count(cfg, N)), for training
  examples that run for their bucket's width (config.train_steps = 'bucket').
  The saturation cost ('dcgru'; 0 for 'cgru') is summed over the examples' own positions
  and steps (the input layer's once per step) and divided by the number of those
  position-steps, as Freivalds & Liepins divide by length^2 * batch.
  """
  mask_BxNx1, steps_B, num_steps, weights, s0 = _prelude(params, inputs_BxN, lengths_B, cfg,
                                                         conv_impl, steps_B)
  sets = jnp.asarray(params['gates_bias'].shape[0] if sets_in_use is None else sets_in_use,
                     jnp.int32)
  # Dropout masks of all steps drawn at once; a placeholder of T zeros when off.
  keep_T = (dropout_masks(dropout_key, 1.0 - dropout_rate, num_steps, *s0.shape)
            if dropout_rate > 0.0 else jnp.zeros((num_steps,), bool))
  input_cost = jnp.zeros((), jnp.float32)
  if cfg.hard_input:
    # Their input layer: dropout on it, and its saturation cost weighted by the example's
    # step count, as they weight it by the length (one cost per position and step).
    input_cost = saturation(embed_linear(params, inputs_BxN),
                            mask_BxNx1 * steps_B[:, None, None])
    if dropout_rate > 0.0:
      keep_in = dropout_masks(jax.random.fold_in(dropout_key, 1), 1.0 - dropout_rate, 1,
                              *s0.shape)[0]
      s0 = _dropout(s0, keep_in, dropout_rate)
  if cfg.cell == 'cgru' and conv_impl == 'banded':
    s_final = recurrence(weights, s0, sets, mask_BxNx1, steps_B, keep_T, cfg,
                         float(dropout_rate))
    cost = jnp.zeros((), jnp.float32)
  else:
    s_final, cost = _scan(weights, s0, sets, mask_BxNx1, steps_B, keep_T, cfg, dropout_rate,
                          conv_impl)
  position_steps = jnp.maximum(jnp.sum(lengths_B * steps_B), 1).astype(jnp.float32)
  return readout(params, s_final, cfg), (cost + input_cost) / position_steps


def forward(params, inputs_BxN, lengths_B, cfg: ModelConfig, **kwargs):
  """Logits [B, N, V] for int inputs [B, N]; `forward_with_saturation` without the cost."""
  return forward_with_saturation(params, inputs_BxN, lengths_B, cfg, **kwargs)[0]


@functools.partial(jax.jit, static_argnames=('cfg',))
def trace(params, inputs_BxN, lengths_B, cfg: ModelConfig) -> dict:
  """What happens inside, for pictures: after every step t, `states` [T, B, N, F], the
  CGRUs' gates `update` and `reset` [T, L, B, N, F], and the readout's `logits`
  [T, B, N, V] of that state (what the model would answer if stopped there). No dropout."""
  mask_BxNx1, steps_B, num_steps, weights, s0 = _prelude(params, inputs_BxN, lengths_B, cfg,
                                                         'banded')
  f = s0.shape[-1]

  def body(s, t):
    new, parts, _ = _step(weights, s, t, weights['gates_bias'].shape[0], None, mask_BxNx1,
                          steps_B, cfg, 0.0, 'banded')
    gates = jnp.stack([g for g, _ in parts])  # [L, B, N, 2F]
    return new, (new, gates)

  _, (states, gates) = jax.lax.scan(body, s0, jnp.arange(num_steps))
  return {'states': states, 'update': gates[..., :f], 'reset': gates[..., f:],
          'logits': readout(params, states, cfg)}


class NeuralGPU(nn.Module):
  """Thin Flax wrapper: declares the parameters, calls the pure `forward`."""
  config: ModelConfig
  conv_impl: str = 'banded'

  @nn.compact
  def __call__(self, inputs_BxN, lengths_B, *, dropout_rate=0.0, train=False):
    params = {name: self.param(name, init, shape)
              for name, (shape, init) in param_shapes(self.config).items()}
    key = self.make_rng('dropout') if train and dropout_rate > 0 else None
    return forward(params, inputs_BxN, lengths_B, self.config,
                   dropout_rate=dropout_rate if train else 0.0, dropout_key=key,
                   conv_impl=self.conv_impl)


def init_params(key, cfg: ModelConfig) -> dict:
  """The parameters of a fresh model (R relaxed sets), as a flat dict name -> array."""
  dummy = jnp.ones((1, 3), jnp.int32)
  return NeuralGPU(cfg).init(key, dummy, jnp.array([3]))['params']


@functools.partial(jax.jit, static_argnames=('cfg',))
def predict_logits(params, inputs_BxN, lengths_B, cfg: ModelConfig):
  return forward(params, inputs_BxN, lengths_B, cfg)
