"""The Neural GPU's tasks: encoding, deterministic samplers and exact answers.

Encoding (SPEC.md section 4), shared by training, evaluation, prediction and tests:
  0 = padding, digit v -> v + 1, '+' -> 11, '*' -> 12; vocabulary size 14.
  Numbers are written least-significant digit first; operands may have leading zeros.
  Targets are padded with 0 to the input's length; a `zero_fill` task writes the answer's
  high zero digits out to the input's length instead (no padding).
  Binary-coded decimal tasks (`Task.bcd`) write each decimal digit as its 4 bits, least
  significant first, bit b -> b + 1: the digit 6 is 1 2 2 1.

"digits" is the task's own size: operand digits for arithmetic tasks (input length 2d + 1,
3d + 2 for the three-operand `badd3`, 8d + 1 for `dmul_bcd`), the sequence length n for
copy, rev, dup and sort.
"""

import dataclasses
import math

import numpy as np

PAD = 0
PLUS = 11
TIMES = 12
VOCAB_SIZE = 14


@dataclasses.dataclass(frozen=True)
class Task:
  """One task. `base` is the digit base (arithmetic) or the number of symbols K (others);
  `operands`: how many numbers an arithmetic input holds, joined by the operator;
  `propagate`: for carry-heavy addition, the chance that a digit position of the second
  operand is drawn as B - 1 minus the first's (a position that passes a carry on) rather
  than at random, so that long carry chains are common (0: uniform random operands);
  `bcd`: decimal numbers written in binary-coded decimal, 4 binary symbols per digit;
  `zero_fill`: the answer written with its high zero digits up to the input's width, as
  Freivalds & Liepins (2017) write products, where the paper strips them and pads."""
  name: str
  kind: str  # 'add', 'mul', 'copy', 'rev', 'dup' or 'sort'
  base: int
  operands: int = 2
  propagate: float = 0.0
  bcd: bool = False
  zero_fill: bool = False

  def __post_init__(self):
    if self.propagate and not (self.kind == 'add' and self.operands == 2
                               and 0 < self.propagate < 1):
      raise ValueError(f'task {self.name}: propagate must lie in (0, 1) and needs two-operand '
                       f'addition')
    if self.bcd and not (self.is_arithmetic and self.base == 10):
      raise ValueError(f'task {self.name}: bcd needs a base-10 arithmetic task')
    if self.zero_fill and not self.is_arithmetic:
      raise ValueError(f'task {self.name}: zero_fill needs an arithmetic task')

  @property
  def is_arithmetic(self) -> bool:
    return self.kind in ('add', 'mul')

  @property
  def min_digits(self) -> int:
    return 2 if self.kind == 'dup' else 1

  @property
  def symbols_per_digit(self) -> int:
    return 4 if self.bcd else 1

  def length(self, digits: int) -> int:
    """Input width n of an example of `digits` digits."""
    digits = check_digits(self, digits)
    if not self.is_arithmetic:
      return digits
    return self.operands * digits * self.symbols_per_digit + self.operands - 1


TASKS = {
    t.name: t for t in [
        Task('copy', 'copy', 2),
        Task('rev', 'rev', 2),
        Task('dup', 'dup', 2),
        Task('sort', 'sort', 2),
        Task('badd', 'add', 2),
        Task('qadd', 'add', 4),
        Task('dadd', 'add', 10),
        Task('bmul', 'mul', 2),
        Task('qmul', 'mul', 4),
        Task('dmul', 'mul', 10),
        Task('badd3', 'add', 2, operands=3),  # beyond the paper: a + b + c (Price et al. 2016)
        # Beyond the paper: binary addition with long carries. A carry runs on until both
        # bits are 0, a chance of 0.15 / 4 per position here against 1 / 4 for uniform
        # operands: 27 positions on average against 4 (measured on 64 pairs of 2000 bits:
        # 25.3 and 4.0). The "tough" addition that Price et al. 2016 found models failing;
        # their exact distribution is not ours.
        Task('badd_carry', 'add', 2, propagate=0.85),
        # Beyond the paper: decimal multiplication in binary-coded decimal, which the
        # improved cell of Freivalds & Liepins (2017) learned where plain decimal failed.
        Task('dmul_bcd', 'mul', 10, bcd=True),
        # Beyond the paper: bmul as Freivalds & Liepins' code writes it, the product's high
        # zero bits written out to the input's width: every position holds a bit of the
        # product, and no model has to find where the product ends.
        Task('bmul_full', 'mul', 2, zero_fill=True),
    ]
}


def get(name: str) -> Task:
  if name not in TASKS:
    raise ValueError(f'unknown task {name!r}; choose one of: {", ".join(TASKS)}')
  return TASKS[name]


def check_same_symbols(model_task: Task, other: Task) -> Task:
  """`other`, if a model trained on `model_task` can take its examples: the same kind of
  question in the same symbols (the tasks may differ only in how operands are drawn, as
  badd and badd_carry do). Raises ValueError otherwise."""
  fields = ('kind', 'base', 'operands', 'bcd', 'zero_fill')
  if any(getattr(other, f) != getattr(model_task, f) for f in fields):
    raise ValueError(f'a {model_task.name} model cannot take {other.name} examples: they '
                     f'differ in kind, base, operands, BCD or zero fill')
  return other


def check_digits(task: Task, digits) -> int:
  if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)):
    raise ValueError(f'digits must be an integer >= {task.min_digits} for task {task.name}, '
                     f'got {digits!r}')
  if digits < task.min_digits:
    raise ValueError(f'digits must be >= {task.min_digits} for task {task.name}, got {digits}')
  return int(digits)


def digits_to_int(digits_lsd_first, base: int) -> int:
  """Digit values (not symbols), least-significant first, to a Python int."""
  digits = np.asarray(digits_lsd_first, dtype=np.int64)
  if digits.size == 0:
    return 0
  if base <= 10:
    return int(''.join(map(str, digits[::-1].tolist())), base)
  return sum(int(d) * base**i for i, d in enumerate(digits.tolist()))


def int_to_digits(value: int, base: int) -> list:
  """A non-negative Python int to digit values, least-significant first, at least one."""
  if value < 0:
    raise ValueError(f'value must be >= 0, got {value}')
  if base == 2:
    text = format(value, 'b')
  elif base == 10:
    text = str(value)
  elif base == 4:
    bits = format(value, 'b')
    bits = '0' * (len(bits) % 2) + bits
    text = ''.join(str(int(bits[i:i + 2], 2)) for i in range(0, len(bits), 2))
  else:
    out = []
    while True:
      value, d = divmod(value, base)
      out.append(d)
      if value == 0:
        return out
  return [int(c) for c in reversed(text)]


def digits_to_symbols(task: Task, digits_lsd_first) -> np.ndarray:
  """Digit values [..., d] to the task's symbols [..., d * task.symbols_per_digit]."""
  digits = np.asarray(digits_lsd_first)
  if not task.bcd:
    return digits + 1
  bits = (digits[..., None] >> np.arange(4)) & 1
  return bits.reshape(*digits.shape[:-1], -1) + 1


def symbols_to_digits(task: Task, symbols) -> np.ndarray:
  """A number's symbols (LSD first, no padding) to its digit values; ValueError on a symbol
  that is not a digit of the task (or, in BCD, bits that do not make whole decimal digits)."""
  symbols = np.asarray(symbols, dtype=np.int64)
  top = 2 if task.bcd else task.base
  if np.any((symbols < 1) | (symbols > top)):
    raise ValueError(f'symbols that are not {task.name} digits: {symbols.tolist()}')
  if not task.bcd:
    return symbols - 1
  if symbols.size % 4:
    raise ValueError(f'{symbols.size} bits do not make whole BCD digits (4 bits each)')
  digits = (symbols - 1).reshape(-1, 4) @ np.array([1, 2, 4, 8])
  if np.any(digits > 9):
    raise ValueError(f'BCD groups above 9: {digits.tolist()}')
  return digits


def row_to_int(task: Task, row) -> int:
  """A target row of symbols (LSD first, then padding) to the integer it encodes.

  Reads symbols up to the first padding; raises ValueError on a non-digit symbol there.
  """
  row = np.asarray(row)
  end = np.flatnonzero(row == PAD)
  return digits_to_int(symbols_to_digits(task, row[:end[0]] if end.size else row), task.base)


def solve(task: Task, inputs_BxN: np.ndarray) -> np.ndarray:
  """The exact targets for a batch of inputs, computed with Python ints."""
  inputs_BxN = np.asarray(inputs_BxN)
  targets = np.zeros_like(inputs_BxN, dtype=np.int32)
  n = inputs_BxN.shape[1]
  for i, row in enumerate(inputs_BxN):
    if task.is_arithmetic:
      op = PLUS if task.kind == 'add' else TIMES
      where = np.flatnonzero(row == op)
      if where.size != task.operands - 1:
        raise ValueError(f'input row {i} must hold exactly {task.operands - 1} operator '
                         f'symbol(s) {op}')
      parts = np.split(row, where + 1)  # operands, each but the last followed by op
      values = [digits_to_int(symbols_to_digits(task, p[(p != PAD) & (p != op)]), task.base)
                for p in parts]
      # math.prod, not np.prod: numpy turns a list of ints holding both one in [2^63, 2^64)
      # and one below 2^63 into float64, and rounded the product (half of all 64-bit bmul
      # targets were wrong until this was found, RESULTS.md, bmul).
      value = sum(values) if task.kind == 'add' else math.prod(values)
      digits = int_to_digits(value, task.base)
      if task.zero_fill:
        digits += [0] * (n // task.symbols_per_digit - len(digits))
      out = digits_to_symbols(task, digits)
    else:
      symbols = row[row != PAD]
      if task.kind == 'copy':
        out = symbols
      elif task.kind == 'rev':
        out = symbols[::-1]
      elif task.kind == 'dup':
        out = np.concatenate([symbols, symbols])
      else:  # sort
        out = np.sort(symbols)
    if out.size > n:
      raise ValueError(f'the answer to row {i} needs {out.size} symbols but the row has {n}')
    targets[i, :out.size] = out
  return targets


def sample(task: Task, digits: int, batch_size: int, rng: np.random.Generator):
  """A batch of random examples: (inputs_BxN, targets_BxN), int32, N = task.length(digits).

  Deterministic: the same generator state gives the same batch on every machine (numpy's
  PCG64 is platform independent).
  """
  n = task.length(digits)
  if task.is_arithmetic:
    op = np.full((batch_size, 1), PLUS if task.kind == 'add' else TIMES)
    operands = [rng.integers(0, task.base, size=(batch_size, digits))
                for _ in range(task.operands)]
    if task.propagate:  # a + b = B - 1 at these positions: an incoming carry runs on
      passes = rng.random((batch_size, digits)) < task.propagate
      operands[1] = np.where(passes, task.base - 1 - operands[0], operands[1])
    parts = []
    for k, values in enumerate(operands):
      parts += [op] if k else []
      parts.append(digits_to_symbols(task, values))
    inputs = np.concatenate(parts, axis=1)
  else:
    k = n // 2 if task.kind == 'dup' else n
    inputs = np.zeros((batch_size, n), dtype=np.int64)
    inputs[:, :k] = rng.integers(1, task.base + 1, size=(batch_size, k))
  inputs = inputs.astype(np.int32)
  return inputs, solve(task, inputs)


# Inputs that random sampling almost never produces, where near-perfect models have been
# seen to fail (Price et al. 2016): operand pairs of exactly `digits` digits, leading zeros
# included. B is the base, d the digits.
HARD_FAMILIES = {
    'add': ('full_carry', 'all_max', 'leading_zeros', 'alternating', 'powers', 'zero',
            'zero_runs'),
    'mul': ('all_max', 'leading_zeros', 'alternating', 'powers', 'zero', 'zero_runs'),
}
# zero_runs: random operands, redrawn (at most ZERO_RUN_DRAWS times, keeping the longest)
# until the answer holds a run of round(ZERO_RUN_BITS / log2 B) zero digits (10 in base 2,
# 5 in base 4, 3 in base 10), about a 1 in 1000 chance per position for random digits, or
# of d // 2 (at least 1) when that is fewer. A bmul model exact at 200 bits kept failing two
# random 20- and 30-bit products that hold such runs (RESULTS.md, bmul).
ZERO_RUN_BITS = 10
ZERO_RUN_DRAWS = 4000


def has_hard_families(task: Task) -> bool:
  return task.is_arithmetic and task.operands == 2


def choose_hard_families(task: Task, chosen=(), what: str = 'hard-input families') -> tuple:
  """The task's hard-input families named in `chosen`, all of them when it is empty, in
  HARD_FAMILIES order. ValueError on a name that is not one of the task's."""
  families = HARD_FAMILIES.get(task.kind, ()) if has_hard_families(task) else ()
  unknown = sorted(set(chosen) - set(families))
  if unknown:
    raise ValueError(f'unknown {what} {unknown} for {task.name}; choose from: '
                     f'{", ".join(families) or "none (two-operand arithmetic tasks only)"}')
  return tuple(f for f in families if not chosen or f in chosen)


def longest_zero_run(value: int, base: int) -> int:
  """The most zero digits in a row in `value` written in `base` (0 itself has one)."""
  zeros = ''.join('0' if v == 0 else '1' for v in int_to_digits(value, base))
  return max(map(len, zeros.split('1')))


def _random_int(base: int, d: int, rng: np.random.Generator) -> int:
  """A uniform random number of d base-B digits, as a Python int (any d)."""
  return int(rng.integers(0, base, size=d) @ (base**np.arange(d, dtype=object)))


def _zero_run_operands(kind: str, base: int, d: int, rng: np.random.Generator):
  want = min(max(1, d // 2), round(ZERO_RUN_BITS / np.log2(base)))
  best, best_run = None, -1
  for _ in range(ZERO_RUN_DRAWS):
    a, b = _random_int(base, d, rng), _random_int(base, d, rng)
    run = longest_zero_run(a + b if kind == 'add' else a * b, base)
    if run > best_run:
      best, best_run = (a, b), run
    if run >= want:
      break
  return best


def _hard_operands(family: str, kind: str, base: int, d: int, rng: np.random.Generator):
  """One (a, b) pair of the family for task kind 'add' or 'mul', as Python ints below
  base**d."""
  top = base**d - 1
  if family == 'full_carry':  # (B^k - 1) + 1: a carry through k digits; k = d half the time
    k = d if rng.random() < 0.5 else int(rng.integers(1, d + 1))
    pair = (base**k - 1, 1)
  elif family == 'all_max':  # 1...1 + 1...1, 1...1 * 1...1 (9...9 in base 10)
    pair = (top, top)
  elif family == 'leading_zeros':  # small equal operands: 0...02 * 0...02, 0...03 + 0...03
    small = int(rng.integers(1, min(base**2, top + 1)))
    pair = (small, small)
  elif family == 'alternating':  # digits max,0,max,0... with itself or its complement
    pattern = sum((base - 1) * base**i for i in range(0, d, 2))
    pair = (pattern, pattern if rng.random() < 0.5 else top - pattern)
  elif family == 'powers':  # B^i and B^j
    pair = (base**int(rng.integers(0, d)), base**int(rng.integers(0, d)))
  elif family == 'zero':  # 0 and a random number
    pair = (0, _random_int(base, d, rng))
  elif family == 'zero_runs':  # random numbers whose answer holds a long run of zeros
    pair = _zero_run_operands(kind, base, d, rng)
  else:
    raise ValueError(f'unknown hard-input family {family!r}')
  return pair if rng.random() < 0.5 else pair[::-1]


def sample_hard(task: Task, family: str, digits: int, batch_size: int,
                rng: np.random.Generator):
  """A batch of the hard-input family for an arithmetic task: (inputs_BxN, targets_BxN)."""
  if not has_hard_families(task):
    raise ValueError(f'hard-input families exist for the two-operand arithmetic tasks, not '
                     f'{task.name}')
  if family not in HARD_FAMILIES[task.kind]:
    raise ValueError(f'unknown hard-input family {family!r} for {task.name}; choose one of: '
                     f'{", ".join(HARD_FAMILIES[task.kind])}')
  d = check_digits(task, digits)
  op = PLUS if task.kind == 'add' else TIMES
  rows = []
  for _ in range(batch_size):
    a, b = _hard_operands(family, task.kind, task.base, d, rng)
    digits_a, digits_b = (int_to_digits(v, task.base) for v in (a, b))
    rows.append([*digits_to_symbols(task, digits_a + [0] * (d - len(digits_a))), op,
                 *digits_to_symbols(task, digits_b + [0] * (d - len(digits_b)))])
  inputs = np.array(rows, np.int32)
  return inputs, solve(task, inputs)


def encode_text(task: Task, text: str) -> np.ndarray:
  """A human-written example (most-significant digit first, e.g. '1011+0110') as the model's
  input row [1, n]. Operands are padded with leading zeros to the same number of digits."""
  text = text.strip()
  digit_chars = '0123456789'[:task.base]
  if task.is_arithmetic:
    op_char = '+' if task.kind == 'add' else '*'
    operands = text.split(op_char)
    if len(operands) != task.operands or not all(operands):
      example = op_char.join(['101', '11', '1'][:task.operands])
      raise ValueError(f'task {task.name} needs input like "{example}" ({task.operands} '
                       f'base-{task.base} numbers joined by {op_char!r}), got {text!r}')
  else:
    operands = [text]
  for operand in operands:
    bad = sorted(set(operand) - set(digit_chars))
    if bad or not operand:
      raise ValueError(f'task {task.name} takes the digits {digit_chars!r}; {text!r} holds '
                       f'{"".join(bad) or "nothing"!r}')
  if task.is_arithmetic:
    d = max(map(len, operands))
    op = [PLUS if task.kind == 'add' else TIMES]
    parts = []
    for k, operand in enumerate(operands):
      parts += [op] if k else []
      parts.append(digits_to_symbols(task, np.array([int(c) for c in operand.zfill(d)[::-1]])))
    row = np.concatenate(parts)
  else:
    symbols = np.array([int(c) for c in text]) + 1
    pad = len(symbols) if task.kind == 'dup' else 0
    row = np.concatenate([symbols, np.zeros(pad, np.int64)])
  return row.astype(np.int32)[None, :]


def decode_text(task: Task, row) -> str:
  """An output row as people write it: arithmetic answers most-significant digit first,
  sequences in order; '?' stands for a symbol that is not a digit of the task (in BCD: a
  group of 4 that is not a decimal digit, or a last group of fewer)."""
  row = np.asarray(row)
  end = np.flatnonzero(row == PAD)
  symbols = row[:end[0]] if end.size else row
  w = task.symbols_per_digit
  chars = []
  for i in range(0, symbols.size, w):
    try:
      chars.append(str(int(symbols_to_digits(task, symbols[i:i + w])[0])))
    except ValueError:
      chars.append('?')
  return ''.join(chars[::-1] if task.is_arithmetic else chars)
