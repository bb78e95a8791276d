import numpy as np
import pytest

from ngpu_jax import tasks

ARITHMETIC = [t for t in tasks.TASKS.values() if t.is_arithmetic]
TWO_OPERANDS = [t for t in ARITHMETIC if t.operands == 2]
SEQUENCE = [t for t in tasks.TASKS.values() if not t.is_arithmetic]


def _parse_digits(symbols, task):
  """Test-local decoding, independent of ngpu_jax: a number's LSD-first symbols to its digit
  values (v + 1 per digit, or in BCD 4 bits b + 1 per decimal digit, low bit first)."""
  values = [int(s) - 1 for s in symbols]
  if not task.bcd:
    assert all(0 <= v < task.base for v in values)
    return values
  assert len(values) % 4 == 0 and all(v in (0, 1) for v in values)
  digits = [sum(b << j for j, b in enumerate(values[i:i + 4])) for i in range(0, len(values), 4)]
  assert all(d <= 9 for d in digits)
  return digits


def _parse_number(symbols, task):
  return sum(d * task.base**i for i, d in enumerate(_parse_digits(symbols, task)))


def _check_target_format(row, answer_len):
  assert np.all(row[:answer_len] > 0) and np.all(row[answer_len:] == 0)


@pytest.mark.parametrize('task', ARITHMETIC, ids=lambda t: t.name)
@pytest.mark.parametrize('digits', [1, 2, 7, 19, 30, 64])
def test_arithmetic_against_python_ints(task, digits):
  inputs, targets = tasks.sample(task, digits, 16, np.random.default_rng(digits))
  k, w = task.operands, 4 if task.bcd else 1
  n = k * digits * w + k - 1
  assert inputs.shape == targets.shape == (16, n)
  assert inputs.dtype == targets.dtype == np.int32
  op = tasks.PLUS if task.kind == 'add' else tasks.TIMES
  for x, y in zip(inputs, targets):
    starts = [j * (digits * w + 1) for j in range(k)]
    assert all(x[s - 1] == op for s in starts[1:])
    values = [_parse_number(x[s:s + digits * w], task) for s in starts]
    expected = sum(values) if task.kind == 'add' else values[0] * values[1]
    answer_len = max(1, len(np.base_repr(expected, task.base))) if expected < 2**62 else None
    if task.zero_fill:  # every position a digit: the answer, then zero digits
      answer_len = n // w
    assert tasks.row_to_int(task, y) == expected
    assert _parse_number(y[y > 0], task) == expected
    if answer_len is not None:
      _check_target_format(y, answer_len * w)
    if not task.zero_fill:  # the highest written digit is non-zero unless the answer is 0
      assert _parse_digits(y[y > 0], task)[-1] != 0 or expected == 0


@pytest.mark.parametrize('task', [t for t in TWO_OPERANDS if t.kind == 'mul'], ids=lambda t: t.name)
@pytest.mark.parametrize('a, b', [(2**63 + 12345, 3), (3, 2**64 - 1), (2**63, 2**63 - 1),
                                  (2**64 - 1, 2**64 - 1), (2**64 + 1, 2**63 + 1)])
def test_products_of_operands_near_two_to_the_64(task, a, b):
  # numpy's conversion of [a, b] gives float64 for one operand in [2^63, 2^64) and one below
  # 2^63: a product taken through numpy arrays is rounded there.
  row = np.concatenate([tasks.digits_to_symbols(task, tasks.int_to_digits(a, task.base)),
                        [tasks.TIMES],
                        tasks.digits_to_symbols(task, tasks.int_to_digits(b, task.base))])
  assert tasks.row_to_int(task, tasks.solve(task, row[None])[0]) == a * b


@pytest.mark.parametrize('task', SEQUENCE, ids=lambda t: t.name)
@pytest.mark.parametrize('digits', [2, 5, 41])
def test_sequence_tasks(task, digits):
  inputs, targets = tasks.sample(task, digits, 16, np.random.default_rng(digits))
  assert inputs.shape == targets.shape == (16, digits)
  for x, y in zip(inputs, targets):
    symbols = [int(s) for s in x if s != 0]
    assert all(1 <= s <= task.base for s in symbols)
    expected = {'copy': symbols, 'rev': symbols[::-1], 'dup': symbols + symbols,
                'sort': sorted(symbols)}[task.kind]
    if task.kind == 'dup':
      assert len(symbols) == digits // 2 and np.all(x[digits // 2:] == 0)
    else:
      assert len(symbols) == digits
    assert y[:len(expected)].tolist() == expected and np.all(y[len(expected):] == 0)


@pytest.mark.parametrize('task', list(tasks.TASKS.values()), ids=lambda t: t.name)
def test_sampler_is_deterministic(task):
  a = tasks.sample(task, 5, 4, np.random.default_rng([3, 7]))
  b = tasks.sample(task, 5, 4, np.random.default_rng([3, 7]))
  c = tasks.sample(task, 5, 4, np.random.default_rng([3, 8]))
  np.testing.assert_array_equal(a[0], b[0])
  np.testing.assert_array_equal(a[1], b[1])
  assert not np.array_equal(a[0], c[0])


def test_sampler_golden_batch():
  """The same seed gives this exact batch on every machine (numpy PCG64 is portable)."""
  inputs, targets = tasks.sample(tasks.get('badd'), 3, 2, np.random.default_rng(0))
  np.testing.assert_array_equal(inputs, [[2, 2, 2, 11, 1, 1, 1], [1, 1, 1, 11, 2, 2, 2]])
  np.testing.assert_array_equal(targets, [[2, 2, 2, 0, 0, 0, 0], [2, 2, 2, 0, 0, 0, 0]])


def test_big_numbers_round_trip():
  rng = np.random.default_rng(0)
  for base in (2, 4, 10, 7):
    value = int(rng.integers(1, 10**9)) ** 40
    assert tasks.digits_to_int(tasks.int_to_digits(value, base), base) == value
  assert tasks.int_to_digits(0, 2) == [0]
  assert tasks.int_to_digits(6, 4) == [2, 1]


@pytest.mark.parametrize('name', ['dmul', 'dmul_bcd'])
def test_solve_matches_sample(name):
  task = tasks.get(name)
  inputs, targets = tasks.sample(task, 4, 8, np.random.default_rng(1))
  np.testing.assert_array_equal(tasks.solve(task, inputs), targets)


def test_zero_fill_golden_example():
  """3 * 2 = 6 (bits LSB first, bit b -> b + 1): bmul strips the high zeros and pads,
  bmul_full writes them out to the input's width."""
  row = tasks.encode_text(tasks.get('bmul'), '11*10')
  np.testing.assert_array_equal(row, [[2, 2, tasks.TIMES, 1, 2]])
  np.testing.assert_array_equal(tasks.solve(tasks.get('bmul'), row), [[1, 2, 2, 0, 0]])
  np.testing.assert_array_equal(tasks.solve(tasks.get('bmul_full'), row), [[1, 2, 2, 1, 1]])
  with pytest.raises(ValueError, match='zero fill'):
    tasks.check_same_symbols(tasks.get('bmul'), tasks.get('bmul_full'))
  with pytest.raises(ValueError, match='zero_fill needs an arithmetic task'):
    tasks.Task('rev_full', 'rev', 2, zero_fill=True)


def test_bcd_golden_example():
  """6 * 7 = 42 in BCD: each decimal digit as 4 bits, low bit first, bit b -> b + 1."""
  task = tasks.get('dmul_bcd')
  row = tasks.encode_text(task, '6*7')
  np.testing.assert_array_equal(row, [[1, 2, 2, 1, tasks.TIMES, 2, 2, 2, 1]])
  np.testing.assert_array_equal(tasks.solve(task, row), [[1, 2, 1, 1, 1, 1, 2, 1, 0]])
  assert task.length(3) == 2 * 12 + 1


@pytest.mark.parametrize('digits', [0, -3, 1.5, True, '4'])
def test_bad_digits(digits):
  with pytest.raises(ValueError, match='digits'):
    tasks.sample(tasks.get('badd'), digits, 2, np.random.default_rng(0))


def test_dup_needs_two():
  with pytest.raises(ValueError, match='>= 2'):
    tasks.get('dup').length(1)


def test_unknown_task():
  with pytest.raises(ValueError, match="unknown task 'bad'.*badd"):
    tasks.get('bad')


def test_row_to_int_rejects_non_digits():
  badd, bcd = tasks.get('badd'), tasks.get('dmul_bcd')
  with pytest.raises(ValueError, match='not badd digits'):
    tasks.row_to_int(badd, np.array([2, 11, 0]))
  assert tasks.row_to_int(badd, np.array([2, 1, 2, 0, 0])) == 5
  assert tasks.row_to_int(bcd, np.array([2, 1, 1, 1, 2, 1, 1, 1, 0])) == 11
  with pytest.raises(ValueError, match='whole BCD digits'):
    tasks.row_to_int(bcd, np.array([2, 1, 1, 0]))
  with pytest.raises(ValueError, match='BCD groups above 9'):
    tasks.row_to_int(bcd, np.array([2, 2, 2, 2]))  # 15
  with pytest.raises(ValueError, match='bcd needs a base-10 arithmetic task'):
    tasks.Task('x', 'mul', 2, bcd=True)


@pytest.mark.parametrize('name,text,answer', [
    ('badd', '1011+110', '10001'), ('badd', '0+0', '0'), ('dadd', '99+1', '100'),
    ('qmul', '3*3', '21'), ('bmul', '10*10', '100'), ('rev', '0111', '1110'),
    ('dup', '01', '0101'), ('sort', '1010', '0011'), ('copy', '1', '1'),
    ('badd3', '111+1+10', '1010'), ('badd3', '0+0+0', '0'), ('dmul_bcd', '99*99', '9801'),
    ('dmul_bcd', '0*5', '0'),
])
def test_text_round_trip(name, text, answer):
  task = tasks.get(name)
  row = tasks.encode_text(task, text)
  assert row.shape[0] == 1 and row.dtype == np.int32
  assert tasks.decode_text(task, tasks.solve(task, row)[0]) == answer


def test_encode_text_pads_operands_to_equal_length():
  row = tasks.encode_text(tasks.get('badd'), '1011+1')
  np.testing.assert_array_equal(row, [[2, 2, 1, 2, 11, 2, 1, 1, 1]])
  row = tasks.encode_text(tasks.get('badd3'), '10+1+11')
  np.testing.assert_array_equal(row, [[1, 2, 11, 2, 1, 11, 2, 2]])


@pytest.mark.parametrize('name,text,message', [
    ('badd', '1011', 'joined by'), ('badd', '10+', 'joined by'), ('badd', '12+1', "holds '2'"),
    ('bmul', '1+1', 'joined by'), ('rev', '', 'holds'), ('rev', 'ab', "holds 'ab'"),
    ('badd3', '1+1', r'3 base-2 numbers'), ('badd3', '1+1+1+1', 'joined by'),
])
def test_encode_text_errors(name, text, message):
  with pytest.raises(ValueError, match=message):
    tasks.encode_text(tasks.get(name), text)


@pytest.mark.parametrize('task', TWO_OPERANDS, ids=lambda t: t.name)
def test_hard_families_are_exact_and_hard(task):
  for family in tasks.HARD_FAMILIES[task.kind]:
    for digits in (1, 2, 9):
      x, y = tasks.sample_hard(task, family, digits, 16, np.random.default_rng(0))
      assert x.shape == y.shape == (16, task.length(digits))
      op = tasks.PLUS if task.kind == 'add' else tasks.TIMES
      width = digits * (4 if task.bcd else 1)
      for row, target in zip(x, y):
        a, b = _parse_number(row[:width], task), _parse_number(row[width + 1:], task)
        assert row[width] == op
        assert tasks.row_to_int(task, target) == (a + b if task.kind == 'add' else a * b)
        top = task.base**digits - 1
        if family == 'all_max':
          assert a == b == top
        elif family == 'full_carry':
          assert min(a, b) == 1 and max(a, b) + 1 == task.base**len(tasks.int_to_digits(max(a, b), task.base))
        elif family == 'zero':
          assert min(a, b) == 0
        elif family == 'leading_zeros':
          assert a == b and a < task.base**2
        elif family == 'zero_runs':  # 10 zero bits in a row, or as rare in base B
          answer = a + b if task.kind == 'add' else a * b
          want = min(max(1, digits // 2), {2: 10, 4: 5, 10: 3}[task.base])
          assert tasks.longest_zero_run(answer, task.base) >= want
  x1, _ = tasks.sample_hard(task, 'powers', 9, 8, np.random.default_rng(1))
  x2, _ = tasks.sample_hard(task, 'powers', 9, 8, np.random.default_rng(1))
  np.testing.assert_array_equal(x1, x2)


@pytest.mark.parametrize('value,base,run', [
    (0, 2, 1), (1, 2, 0), (0b1000101, 2, 3), (0b10000000000, 2, 10), (1001, 10, 2),
    (30, 4, 0), (32, 4, 2), (10**40 + 7, 10, 39)])
def test_longest_zero_run(value, base, run):
  assert tasks.longest_zero_run(value, base) == run


def test_zero_runs_are_rare_in_random_answers():
  """The zero_runs family is hard in the sense that random sampling seldom gives it: of
  256 random 20-bit products, few hold 10 zero bits in a row; of the family's, all do."""
  task = tasks.get('bmul')
  rng = np.random.default_rng(0)
  for inputs, most in ((tasks.sample(task, 20, 256, rng)[1], 8),
                       (tasks.sample_hard(task, 'zero_runs', 20, 256, rng)[1], 256)):
    long_runs = sum(tasks.longest_zero_run(tasks.row_to_int(task, row), 2) >= 10
                    for row in inputs)
    assert long_runs <= most if most < 256 else long_runs == 256


def test_hard_family_errors():
  with pytest.raises(ValueError, match='arithmetic tasks, not rev'):
    tasks.sample_hard(tasks.get('rev'), 'zero', 3, 2, np.random.default_rng(0))
  with pytest.raises(ValueError, match='two-operand arithmetic tasks, not badd3'):
    tasks.sample_hard(tasks.get('badd3'), 'zero', 3, 2, np.random.default_rng(0))
  with pytest.raises(ValueError, match="unknown hard-input family 'full_carry' for bmul"):
    tasks.sample_hard(tasks.get('bmul'), 'full_carry', 3, 2, np.random.default_rng(0))


def _longest_carry_chain(a_digits, b_digits, base):
  """Test-local: the most consecutive positions a carry passes through in a + b."""
  longest = run = carry = 0
  for x, y in zip(a_digits, b_digits):
    carry = (x + y + carry) >= base
    run = run + 1 if carry else 0
    longest = max(longest, run)
  return longest


def test_carry_heavy_addition_has_long_carry_chains():
  uniform, heavy = tasks.get('badd'), tasks.get('badd_carry')
  digits = 200
  chains = {}
  for task in (uniform, heavy):
    x, _ = tasks.sample(task, digits, 64, np.random.default_rng(5))
    a, b = x[:, :digits] - 1, x[:, digits + 1:] - 1
    chains[task.name] = np.mean([_longest_carry_chain(r, s, 2) for r, s in zip(a, b)])
    passes = np.mean(a + b == 1)
    expected = 0.5 if task is uniform else heavy.propagate + (1 - heavy.propagate) / 2
    assert abs(passes - expected) < 0.01, (task.name, passes)
  # Mean longest run of carrying positions in 200: 13.6 for uniform bits, 47.1 here.
  assert chains['badd'] < 20 and chains['badd_carry'] > 30, chains


def test_propagate_needs_two_operand_addition():
  for kind, operands, propagate in [('mul', 2, 0.5), ('add', 3, 0.5), ('add', 2, 1.0)]:
    with pytest.raises(ValueError, match='propagate must lie in'):
      tasks.Task('x', kind, 2, operands=operands, propagate=propagate)


@pytest.mark.parametrize('model_task, other, ok', [
    ('badd', 'badd_carry', True), ('badd_carry', 'badd', True), ('bmul', 'bmul', True),
    ('badd', 'bmul', False), ('badd', 'qadd', False), ('badd', 'badd3', False),
    ('dmul', 'dmul_bcd', False), ('copy', 'rev', False),
])
def test_check_same_symbols(model_task, other, ok):
  own, theirs = tasks.get(model_task), tasks.get(other)
  if ok:
    assert tasks.check_same_symbols(own, theirs) is theirs
  else:
    with pytest.raises(ValueError, match=f'a {model_task} model cannot take {other} examples'):
      tasks.check_same_symbols(own, theirs)
