"""The Neural GPU (SPEC.md section 1): embed -> scanned CGRU steps -> readout.

The math is pure functions of (params, state); `NeuralGPU` is a thin Flax module that only
declares the parameters and calls `forward`.

Shapes: B batch, N width (sequence positions), H height (rows), M nmaps (channels),
V vocabulary, F = H * M (rows folded into channels, h-major: feature h * M + c),
R relaxed parameter sets, L CGRU layers per step.

The 3x3 convolution is written as a matmul: rows are folded into channels, so the
convolution becomes a 1-D one along the sequence whose kernel is a block-banded
[kw * F, H * out] matrix built from the 3x3 kernel; the `kw` shifted copies of the state
are concatenated and multiplied once. On XLA:CPU this differentiates 4-9x faster than
`lax.conv_general_dilated` (DESIGN.md). `conv_impl='reference'` keeps the plain
`lax.conv_general_dilated` form for tests.
"""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

# Parameters that exist once per relaxed set (leading axis R); all others are shared.
RELAXED = ('gates_kernel', 'gates_bias', 'cand_kernel', 'cand_bias')


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  vocab_size: int = 14
  nmaps: int = 24  # M, feature maps per cell
  height: int = 4  # H, rows of the state
  kernel_width: int = 3  # kw, along the sequence
  kernel_height: int = 3  # kh, along the rows
  layers: int = 2  # L, CGRUs per step
  relax_sets: int = 6  # R, parameter sets; step t uses set t mod R
  steps_per_symbol: int = 1  # an example of length n gets n * steps_per_symbol steps
  cutoff: float = 1.2  # gate nonlinearity clip(cutoff * sigmoid(x) - (cutoff - 1) / 2, 0, 1)
  init_scale: float = 1.8  # kernels uniform in +-init_scale * sqrt(3 / fan_in)
  embed_scale: float = 1.7  # embedding uniform in +-embed_scale

  def __post_init__(self):
    for name in ('vocab_size', 'nmaps', 'height', 'layers', 'relax_sets', 'steps_per_symbol'):
      value = getattr(self, name)
      if not isinstance(value, int) or value < 1:
        raise ValueError(f'model.{name} must be an integer >= 1, got {value!r}')
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


def conv_matmul(s_BxNxF, w_KFxG, kernel_width):
  """Convolution along the sequence: the kw shifted copies side by side, one matmul."""
  n = s_BxNxF.shape[1]
  pad = kernel_width // 2
  s_pad = jnp.pad(s_BxNxF, ((0, 0), (pad, pad), (0, 0)))
  shifted = jnp.concatenate([s_pad[:, dx:dx + n] for dx in range(kernel_width)], axis=-1)
  return shifted @ w_KFxG


def conv_reference(s_BxNxF, kernel_KWxKHxIxO, height, groups=1):
  """The same convolution with `lax.conv_general_dilated` (the plain, slow form)."""
  b, n, f = s_BxNxF.shape
  o = kernel_KWxKHxIxO.shape[-1]
  out = jax.lax.conv_general_dilated(
      s_BxNxF.reshape(b, n, height, f // height), kernel_KWxKHxIxO, (1, 1), 'SAME',
      dimension_numbers=('NHWC', 'HWIO', 'NHWC'))  # [B, N, H, O]
  out = out.reshape(b, n, height, groups, o // groups).transpose(0, 1, 3, 2, 4)
  return out.reshape(b, n, o * height)


def prepare_weights(params, cfg: ModelConfig, conv_impl='matmul'):
  """Per-set CGRU weights in the form the scanned step uses; leading axes [R, L].

  Biases are broadcast over the rows (and the gates' +1 offset added) here, once, rather
  than in every step.
  """
  h, m = cfg.height, cfg.nmaps
  gates_kernel, cand_kernel = params['gates_kernel'], params['cand_kernel']
  if conv_impl == 'matmul':
    band = lambda k, groups: banded_kernel(k, h, groups)
    for _ in range(2):  # map over the leading [R, L] axes
      band = jax.vmap(band, in_axes=(0, None))
    gates_kernel, cand_kernel = band(gates_kernel, 2), band(cand_kernel, 1)
  elif conv_impl != 'reference':
    raise ValueError(f"conv_impl must be 'matmul' or 'reference', got {conv_impl!r}")
  r, l = params['gates_bias'].shape[:2]
  gates_bias = params['gates_bias'].reshape(r, l, 2, 1, m) + 1.0
  gates_bias = jnp.broadcast_to(gates_bias, (r, l, 2, h, m)).reshape(r, l, 2 * h * m)
  cand_bias = jnp.broadcast_to(params['cand_bias'][:, :, None, :], (r, l, h, m))
  return dict(gates_kernel=gates_kernel, gates_bias=gates_bias, cand_kernel=cand_kernel,
              cand_bias=cand_bias.reshape(r, l, h * m))


def cgru(s_BxNxF, w, cfg: ModelConfig, conv_impl='matmul'):
  """One convolutional GRU: u . s + (1 - u) . tanh(U * (r . s) + B)."""
  if conv_impl == 'matmul':
    conv = lambda x, k, groups: conv_matmul(x, k, cfg.kernel_width)
  else:
    conv = lambda x, k, groups: conv_reference(x, k, cfg.height, groups)
  f = s_BxNxF.shape[-1]
  gates = gate(conv(s_BxNxF, w['gates_kernel'], 2) + w['gates_bias'], cfg.cutoff)
  u, r = gates[..., :f], gates[..., f:]
  c = jnp.tanh(conv(r * s_BxNxF, w['cand_kernel'], 1) + w['cand_bias'])
  return u * s_BxNxF + (1.0 - u) * c


def embed(params, inputs_BxN, cfg: ModelConfig):
  """s0: tanh(E[i]) then a 1x1 convolution, in row 0; other rows zero. [B, N, F]."""
  live = (inputs_BxN != 0)[..., None]
  e = jnp.tanh(params['embedding'][inputs_BxN] * live)  # padding row forced to zero
  e = e @ params['in_kernel'] + params['in_bias']
  b, n = inputs_BxN.shape
  rest = jnp.zeros((b, n, (cfg.height - 1) * cfg.nmaps), e.dtype)
  return jnp.concatenate([e, rest], axis=-1)  # h-major: row 0 is the first M features


def forward(params, inputs_BxN, lengths_B, cfg: ModelConfig, *, dropout_rate=0.0,
            dropout_key=None, conv_impl='matmul', return_states=False):
  """Logits [B, N, V] for int inputs [B, N].

  Example b occupies positions < lengths_B[b] and gets exactly
  lengths_B[b] * steps_per_symbol steps: positions past its length are held at zero after
  every CGRU (the zero boundary it would have at its own width) and its state is frozen
  after its last step, so padding it into a wider batch does not change its outputs.
  With `return_states`, also returns the state after every step, [T, B, N, F].
  """
  n = inputs_BxN.shape[1]
  mask_BxNx1 = (jnp.arange(n)[None, :] < lengths_B[:, None])[..., None].astype(jnp.float32)
  steps_B = lengths_B * cfg.steps_per_symbol
  num_steps = n * cfg.steps_per_symbol
  weights = prepare_weights(params, cfg, conv_impl)
  relax_sets = params['gates_bias'].shape[0]
  use_dropout = dropout_rate > 0.0
  keys = (jax.random.split(dropout_key, num_steps) if use_dropout
          else jnp.zeros((num_steps,), jnp.int32))

  def step(s_BxNxF, xs):
    t, key = xs
    w_set = jax.tree.map(lambda x: x[t % relax_sets], weights)
    new = s_BxNxF
    if use_dropout:
      keep = jax.random.bernoulli(key, 1.0 - dropout_rate, new.shape)
      new = jnp.where(keep, new / (1.0 - dropout_rate), 0.0)
    for layer in range(cfg.layers):
      w_layer = jax.tree.map(lambda x: x[layer], w_set)
      new = cgru(new, w_layer, cfg, conv_impl) * mask_BxNx1
    s_BxNxF = jnp.where((t < steps_B)[:, None, None], new, s_BxNxF)
    return s_BxNxF, (s_BxNxF if return_states else None)

  s0 = embed(params, inputs_BxN, cfg) * mask_BxNx1
  s_final, states = jax.lax.scan(step, s0, (jnp.arange(num_steps), keys))
  logits = s_final[..., :cfg.nmaps] @ params['out_kernel'] + params['out_bias']
  return (logits, states) if return_states else logits


class NeuralGPU(nn.Module):
  """Thin Flax wrapper: declares the parameters, calls the pure `forward`."""
  config: ModelConfig
  conv_impl: str = 'matmul'

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
