"""Speed and memory of the Neural GPU on this machine, as ratios measured in one run.

  python experiments/benchmark.py            # a table; 4-8 minutes on a 2-core CPU
  python experiments/benchmark.py --json     # the same, and one JSON object as the last line

What it measures (after a warm-up call, the median of --repeats timed calls):
- `matmul`: a large fp32 matmul, the machine's own rate in this run; it is also timed right
  after every timed call below, and each fraction of the matmul rate is the median over
  those pairs (a shared machine's speed drifts within a run);
- `train`: the full train step (loss + gradients + clip/Adam update, dropout 10% and the
  relaxation pull on) at batch 32, n = 41, h = 4, m = 24, r = 6 (the paper's badd shape) and
  at batch 32, n = 32, m = 64 (the shape the paper timed at 0.6 s per step on a GTX 970),
  for the fast form (`conv_impl='banded'`, the default) and the `lax.conv_general_dilated` reference;
- `convolutions alone`: the banded convolutions of that train step (forward, input and
  kernel gradients, in the step's order) in the gradient of a stripped cell with almost no
  other work: about the rate the step could reach with this form of the convolution;
- `pytorch` (with --pytorch, where torch is installed): the same train steps in PyTorch
  eager (`experiments/torch_step.py`: conv2d with oneDNN, autograd, clip + Adam), called in
  turn with the JAX step; the speedup is the median over those pairs of PyTorch's time /
  JAX's (above 1: JAX is faster);
- `seeds`: the train step of K seeds in one program (seeds.py: the one-seed step vmapped over
  a seed axis, each member batch 32, n = 41, m = 24) for K in --seeds, as examples per
  second against K separate runs, which on one device go one after the other and so give
  the one-seed step's examples per second whatever K is;
- `eval`: the forward pass of evaluation, batch 8, at n = 401 (whole) and n = 4001. On a CPU
  the n = 4001 pass (about 42 TFLOP executed, minutes) is timed over its first
  --eval_steps_n4001 steps and the full time extrapolated per step (each step costs the same);
  its peak memory is that of the compiled full 4001-step program.

FLOP counts (multiply-add = 2; embedding and readout left out, they are < 0.1%):
- model FLOPs, what the 3x3 convolutions need: per CGRU per step
  2 * B * N * H * kw * kh * M * 3M (gates 2M outputs + candidate M outputs);
- executed FLOPs of the banded matmul form, zeros included: 2 * B * N * (kw*H*M) * (H*3M);
- a train step is counted as 3 forward passes (forward, input gradients, weight gradients).
GFLOP/s and the fraction of the matmul rate use model FLOPs; the executed figures are printed
beside them. Peak memory is XLA's own account of the compiled program (arguments + outputs +
temporaries, from `compiled.memory_analysis()`), which does not depend on a shared machine's
other load.
"""

import importlib.util
import json
import statistics
import time

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import numpy as np

from ngpu_jax import config as config_lib
from ngpu_jax import model, relaxation, seeds, train

FLAGS = flags.FLAGS
flags.DEFINE_bool('json', False, 'Also print one JSON object with every figure as the last line.')
flags.DEFINE_integer('repeats', 5, 'Timed calls per measurement (the median is reported).')
flags.DEFINE_integer('eval_steps_n4001', 100,
                     'Steps of the n = 4001 evaluation pass to time (0: all 4001).')
flags.DEFINE_bool('reference', True, 'Also time the lax.conv reference (slow on CPU: ~2 min).')
flags.DEFINE_integer('reference_repeats', 1, 'Timed calls of each reference train step.')
flags.DEFINE_list('seeds', ['1', '4', '8'], 'Seed counts K to time in one program (empty: none).')
flags.DEFINE_bool('pytorch', False,
                  'Also time the same train steps in PyTorch eager (experiments/torch_step.py; '
                  'needs torch installed), each call in turn with the JAX step.')
PULL = 0.01  # the relaxation pull of the timed train steps


def timed(fn, *args, repeats, compiler_options=None, pace=None):
  """(compile seconds, median run seconds, median of run time / paired `pace()` time) of
  jax.jit(fn)(*args). `pace` (a timed matmul, `Matmul.seconds`) runs right after every timed
  call, so that a ratio to the matmul rate compares the two at the same moment: a shared
  machine drifts by tens of percent within a run (2-core CPU, 2026-11-29: matmul 109-135
  GFLOP/s and the same train step 0.79-1.12 s in runs minutes apart). None without pace."""
  start = time.perf_counter()
  compiled = jax.jit(fn, compiler_options=compiler_options).lower(*args).compile()
  compile_s = time.perf_counter() - start
  jax.block_until_ready(compiled(*args))  # warm-up
  times, ratios = [], []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(compiled(*args))
    times.append(time.perf_counter() - start)
    if pace is not None:
      ratios.append(times[-1] / pace())
  return compile_s, statistics.median(times), statistics.median(ratios) if ratios else None


def compile_and_peak(fn, *args, compiler_options=None):
  """(compile seconds, peak MiB) of jax.jit(fn) for these arguments, without running it."""
  start = time.perf_counter()
  stats = jax.jit(fn, compiler_options=compiler_options).lower(*args).compile().memory_analysis()
  compile_s = time.perf_counter() - start
  total = (stats.argument_size_in_bytes + stats.output_size_in_bytes
           + stats.temp_size_in_bytes - stats.alias_size_in_bytes)
  return compile_s, total / 2**20


def forward_flops(cfg: model.ModelConfig, batch: int, n: int, steps: int):
  """(model, executed) FLOPs of `steps` recurrent steps at width n."""
  h, m, kw, kh = cfg.height, cfg.nmaps, cfg.kernel_width, cfg.kernel_height
  per_layer_model = 2 * batch * n * h * kw * kh * m * 3 * m
  per_layer_executed = 2 * batch * n * (kw * h * m) * (h * 3 * m)
  return (cfg.layers * steps * per_layer_model, cfg.layers * steps * per_layer_executed)


def random_batch(batch: int, n: int, seed: int = 0):
  rng = np.random.default_rng(seed)
  inputs = jnp.asarray(rng.integers(1, 4, (batch, n)), jnp.int32)
  targets = jnp.asarray(rng.integers(1, 4, (batch, n)), jnp.int32)
  return inputs, targets, jnp.full((batch,), n, jnp.int32)


class Matmul:
  """A large fp32 matmul on the default device: the machine's own rate."""

  def __init__(self):
    size = 4096 if jax.default_backend() != 'cpu' else 2048
    self.flops = 2 * size**3
    self.a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
    self.compiled = jax.jit(lambda x: x @ x).lower(self.a).compile()
    jax.block_until_ready(self.compiled(self.a))  # warm-up

  def seconds(self) -> float:
    start = time.perf_counter()
    jax.block_until_ready(self.compiled(self.a))
    return time.perf_counter() - start

  def gflops(self, repeats: int) -> float:
    return self.flops / statistics.median(self.seconds() for _ in range(repeats)) / 1e9

  def fraction(self, flops: float, time_ratio: float) -> float:
    """The rate of `flops` in a run that took time_ratio x a paired matmul, as a fraction
    of the matmul's rate."""
    return flops / self.flops / time_ratio


def train_setup(batch: int, n: int, nmaps: int, conv_impl: str = 'banded'):
  """(step_fn, its arguments, params, cfg, config) of the train step at this shape: the base
  recipe (dropout 10%, 6 relaxed sets, clip + Adam), pull 0.01, random tokens."""
  config = config_lib.base_config()
  cfg = model.ModelConfig(nmaps=nmaps)
  tx = train.make_optimizer(config)
  params = model.init_params(jax.random.key(0), cfg)
  state = {'params': params, 'opt_state': tx.init(params)}
  step_fn = train.train_step_fn(cfg, tx, config.dropout, conv_impl)
  inputs, targets, lengths = random_batch(batch, n)
  args = (state, inputs, targets, lengths, jax.random.key(1), jnp.float32(PULL),
          jnp.float32(0.0), jnp.int32(1))
  return step_fn, args, params, cfg, config


def train_step(batch: int, n: int, nmaps: int, conv_impl: str, repeats: int,
               matmul: Matmul = None) -> dict:
  step_fn, args, _, cfg, _ = train_setup(batch, n, nmaps, conv_impl)
  options = train.compiler_options()  # as the trainer jits it
  compile_s, seconds, ratio = timed(step_fn, *args, repeats=repeats, compiler_options=options,
                                    pace=matmul and matmul.seconds)
  flops, executed = forward_flops(cfg, batch, n, n)
  result = {'ms': seconds * 1e3, 'compile_s': compile_s, 'gflops': 3 * flops / seconds / 1e9,
            'executed_gflops': 3 * executed / seconds / 1e9,
            'peak_mib': compile_and_peak(step_fn, *args, compiler_options=options)[1]}
  if matmul:
    result['fraction_of_matmul'] = matmul.fraction(3 * flops, ratio)
  return result


def versus_pytorch(batch: int, n: int, nmaps: int, repeats: int) -> dict:
  """The JAX train step and the same step in PyTorch eager (torch_step.py, from the same
  parameters and batch), called in turn `repeats` times after a warm-up call of each:
  {'jax_ms', 'pytorch_ms' (medians), 'speedup' (median over the pairs of PyTorch time /
  JAX time: above 1, JAX is faster)}. Both run on the CPU's threads, one after the other."""
  import torch  # pylint: disable=g-import-not-at-top; optional, only for this comparison
  import torch_step  # pylint: disable=g-import-not-at-top; experiments/torch_step.py
  step_fn, args, params, cfg, config = train_setup(batch, n, nmaps)
  compiled = jax.jit(step_fn, compiler_options=train.compiler_options()).lower(*args).compile()
  torch_train = torch_step.make_train_step(params, cfg, config)
  inputs_t, targets_t = (torch.from_numpy(np.asarray(a, np.int64)) for a in args[1:3])
  calls = {'jax': lambda: jax.block_until_ready(compiled(*args)),
           'pytorch': lambda: torch_train(inputs_t, targets_t, PULL)}
  times = {name: [] for name in calls}
  for i in range(repeats + 1):
    for name, call in calls.items():
      start = time.perf_counter()
      call()
      if i:  # the first round warms up
        times[name].append(time.perf_counter() - start)
  ratios = [t / j for t, j in zip(times['pytorch'], times['jax'])]
  return {'jax_ms': statistics.median(times['jax']) * 1e3,
          'pytorch_ms': statistics.median(times['pytorch']) * 1e3,
          'speedup': statistics.median(ratios), 'torch': torch.__version__}


def seeds_step(num_seeds: int, repeats: int) -> dict:
  """The many-seeds train step: K members, each batch 32, n = 41, m = 24, unmerged."""
  config = config_lib.base_config()
  config.num_seeds = num_seeds
  cfg = model.ModelConfig()
  members = seeds.member_configs(config)
  tx = train.make_optimizer(config)
  state = seeds.initial_state(members, tx)
  step_fn = jax.vmap(train.train_step_fn(cfg, tx, config.dropout),
                     in_axes=(0, 0, 0, 0, 0, 0, 0, None, 0))
  batch = [jnp.stack([a] * num_seeds) for a in random_batch(32, 41)]
  args = (state, *batch, jax.random.split(jax.random.key(1), num_seeds),
          jnp.full((num_seeds,), PULL, jnp.float32), jnp.zeros((num_seeds,), jnp.float32),
          jnp.int32(1), jnp.full((num_seeds,), cfg.relax_sets, jnp.int32))
  compile_s, seconds, _ = timed(step_fn, *args, repeats=repeats,
                                compiler_options=train.compiler_options())
  return {'ms': seconds * 1e3, 'compile_s': compile_s,
          'examples_per_s': num_seeds * 32 / seconds}


def convolutions_only(batch: int, n: int, nmaps: int, repeats: int, matmul: Matmul) -> dict:
  """The banded convolutions of one train step, in the step's order, with almost nothing
  else: the gradient of a stripped cell, per step and layer gates = C_g(s),
  s' = tanh(C_c(gates[:, :, F:] * s)), scanned over the n steps (JAX's gradient of the scan
  through `model.conv_banded`'s VJP: per layer and step the two forward convolutions, their
  two input gradients and two kernel gradients, each waiting for what it waits for in the
  real step; the batch in `model.batch_groups` parts as the step runs it). The same FLOPs as
  the train step, without its gate arithmetic, dropout, relaxed sets and optimizer: its
  rate is about what the step could reach with this form of the convolution if everything
  else were free."""
  cfg = model.ModelConfig(nmaps=nmaps)
  f, kw = cfg.height * nmaps, cfg.kernel_width
  keys = jax.random.split(jax.random.key(0), 3)
  s0 = jax.random.normal(keys[0], (batch, n, f), jnp.float32)
  w_gates = jax.random.normal(keys[1], (kw * f, 2 * f), jnp.float32) / np.sqrt(kw * f)
  w_cand = jax.random.normal(keys[2], (kw * f, f), jnp.float32) / np.sqrt(kw * f)

  def loss(weights, s0):
    def body(s_G, _):
      new_G = []
      for s in s_G:
        for _ in range(cfg.layers):
          gates = model.conv_banded(s, weights[0], kw)
          s = jnp.tanh(model.conv_banded(gates[..., f:] * s, weights[1], kw))
        new_G.append(s)
      return tuple(new_G), None
    parts = tuple(jnp.split(s0, model.batch_groups(batch)))  # as the step splits its batch
    return sum(jnp.sum(s) for s in jax.lax.scan(body, parts, None, length=n)[0])

  grad = jax.grad(loss)
  _, seconds, ratio = timed(grad, (w_gates, w_cand), s0, repeats=repeats,
                            compiler_options=train.compiler_options(), pace=matmul.seconds)
  flops, executed = forward_flops(cfg, batch, n, n)
  return {'ms': seconds * 1e3, 'gflops': 3 * flops / seconds / 1e9,
          'executed_gflops': 3 * executed / seconds / 1e9,
          'fraction_of_matmul': matmul.fraction(3 * flops, ratio)}


def eval_forward(n: int, steps: int, repeats: int, matmul: Matmul) -> dict:
  """The evaluation forward pass at width n, batch 8; `steps` < n times the first steps only."""
  cfg = model.ModelConfig()
  params = relaxation.merge(model.init_params(jax.random.key(0), cfg))  # a trained model: 1 set
  inputs, _, lengths = random_batch(8, n)
  full = lambda p, x, l: model.forward(p, x, l, cfg)
  compile_s, peak = compile_and_peak(full, params, inputs, lengths)  # the whole n-step pass
  result = {'peak_mib': peak, 'compile_s': compile_s}
  if steps >= n:
    _, seconds, ratio = timed(full, params, inputs, lengths, repeats=repeats,
                              pace=matmul.seconds)
  else:
    def first_steps(p, x, l):
      mask = jnp.ones((8, n, 1), jnp.float32)
      s0 = model.embed(p, x, cfg)
      return model.recurrence(model.prepare_weights(p, cfg), s0, jnp.int32(1), mask, l,
                              jnp.zeros((steps,), bool), cfg, 0.0)
    _, part, ratio = timed(first_steps, params, inputs, lengths, repeats=repeats,
                           pace=matmul.seconds)
    seconds, ratio = part * n / steps, ratio * n / steps
    result['peak_mib_steps_timed'] = compile_and_peak(first_steps, params, inputs, lengths)[1]
  flops, executed = forward_flops(cfg, 8, n, n)
  result.update(seconds=seconds, steps_timed=min(steps, n),
                gflops=flops / seconds / 1e9, executed_gflops=executed / seconds / 1e9,
                fraction_of_matmul=matmul.fraction(flops, ratio))
  return result


def main(argv):
  del argv
  if FLAGS.pytorch and importlib.util.find_spec('torch') is None:
    raise app.UsageError('--pytorch needs torch, which ngpu_jax does not install: '
                         'pip install torch (a CPU build suffices), or leave out --pytorch')
  repeats = FLAGS.repeats
  device = jax.devices()[0]
  out = {'device': f'{device.platform}: {device.device_kind}', 'jax': jax.__version__,
         'devices': jax.device_count()}
  print(f"device {out['device']} (jax {jax.__version__})", flush=True)
  matmul = Matmul()
  out['matmul_gflops'] = matmul.gflops(repeats)
  print(f"matmul fp32: {out['matmul_gflops']:.0f} GFLOP/s", flush=True)

  rows = []
  for name, (batch, n, nmaps) in (('train_b32_n41_m24', (32, 41, 24)),
                                  ('train_b32_n32_m64', (32, 32, 64))):
    fast = train_step(batch, n, nmaps, 'banded', repeats, matmul)
    row = {'name': name, **fast}
    if FLAGS.reference:
      ref = train_step(batch, n, nmaps, 'reference', FLAGS.reference_repeats)
      row['reference_ms'] = ref['ms']
      row['speedup_vs_reference'] = ref['ms'] / fast['ms']
    convs = convolutions_only(batch, n, nmaps, repeats, matmul)
    row.update(convolutions_ms=convs['ms'],
               convolutions_fraction_of_matmul=convs['fraction_of_matmul'])
    if FLAGS.pytorch:
      vs = versus_pytorch(batch, n, nmaps, repeats)
      row.update(pytorch_ms=vs['pytorch_ms'], jax_ms_paired=vs['jax_ms'],
                 speedup_vs_pytorch=vs['speedup'])
      out['torch'] = vs['torch']
    rows.append(row)
    out[name] = row
    print(f"{name}: {fast['ms']:.0f} ms/step, {fast['gflops']:.0f} GFLOP/s model "
          f"({fast['executed_gflops']:.0f} executed), {fast['fraction_of_matmul']:.0%} of "
          f"the paired matmuls' rate, compile {fast['compile_s']:.1f} s, "
          f"peak {fast['peak_mib']:.0f} MiB"
          + (f", reference {row['reference_ms']:.0f} ms (x{row['speedup_vs_reference']:.1f})"
             if FLAGS.reference else '')
          + f"; its convolutions alone {row['convolutions_ms']:.0f} ms, "
          f"{row['convolutions_fraction_of_matmul']:.0%} of the paired matmuls' rate"
          + (f", PyTorch eager {row['pytorch_ms']:.0f} ms against {row['jax_ms_paired']:.0f} "
             f"in turn (JAX x{row['speedup_vs_pytorch']:.2f} as fast)" if FLAGS.pytorch else ''),
          flush=True)

  for n, steps in ((401, 401), (4001, FLAGS.eval_steps_n4001 or 4001)):
    result = eval_forward(n, steps, repeats if n <= 401 else max(1, repeats // 2), matmul)
    out[f'eval_n{n}'] = result
    how = ('' if result['steps_timed'] == n
           else f" (extrapolated from {result['steps_timed']} timed steps)")
    print(f"eval n={n} batch 8: {result['seconds']:.2f} s{how}, {result['gflops']:.0f} GFLOP/s "
          f"model ({result['executed_gflops']:.0f} executed), {result['fraction_of_matmul']:.0%} "
          f"of the paired matmuls' rate, compile {result['compile_s']:.1f} s, "
          f"peak {result['peak_mib']:.0f} MiB", flush=True)

  separate = 32 / (out['train_b32_n41_m24']['ms'] / 1e3)  # examples/s of one-seed runs
  out['seeds'] = {}
  for num_seeds in map(int, FLAGS.seeds):
    result = seeds_step(num_seeds, repeats)
    result['speedup_vs_separate_runs'] = result['examples_per_s'] / separate
    out['seeds'][num_seeds] = result
    print(f"{num_seeds} seeds in one program: {result['ms']:.0f} ms/step, "
          f"{result['examples_per_s']:.0f} examples/s (separate runs: {separate:.0f}; "
          f"x{result['speedup_vs_separate_runs']:.2f}), compile {result['compile_s']:.1f} s",
          flush=True)

  main_train, eval4001 = out['train_b32_n41_m24'], out['eval_n4001']
  out.update(
      train_step_ms=main_train['ms'],
      train_gflops=main_train['gflops'],
      train_fraction_of_matmul=main_train['fraction_of_matmul'],
      train_speedup_vs_reference=main_train.get('speedup_vs_reference'),
      train_speedup_vs_pytorch=main_train.get('speedup_vs_pytorch'),
      train_convolutions_fraction_of_matmul=main_train['convolutions_fraction_of_matmul'],
      train_compile_s=main_train['compile_s'],
      eval_gflops=eval4001['gflops'],
      eval_fraction_of_matmul=eval4001['fraction_of_matmul'],
      eval_peak_mib_n4001=eval4001['peak_mib'],
      eval_seconds_n4001_b8=eval4001['seconds'],
  )
  print(f"train step (32, 41, 24): {out['train_fraction_of_matmul']:.0%} of the matmul rate; "
        f"eval n=4001: {out['eval_fraction_of_matmul']:.0%} of it, peak "
        f"{out['eval_peak_mib_n4001']:.0f} MiB")
  if FLAGS.json:
    print(json.dumps(out))


if __name__ == '__main__':
  app.run(main)
