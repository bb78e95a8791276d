import numpy as np

from ngpu_jax import curriculum


def test_sample_digits_in_range_and_deterministic():
  state = {'cur': 4, 'advances': 3, 'merged': False}
  draws = [curriculum.sample_digits(state, 1, 20, np.random.default_rng([0, i]))
           for i in range(2000)]
  again = [curriculum.sample_digits(state, 1, 20, np.random.default_rng([0, i]))
           for i in range(2000)]
  assert draws == again
  assert min(draws) == 1 and max(draws) <= 20
  above = np.mean(np.array(draws) > 4)
  assert 0.1 < above < 0.2  # only the 20% draw over [1, max] goes past cur
  assert np.mean(np.array(draws) == 4) > 0.3  # the max of two draws favours cur


def test_advance():
  state = curriculum.init_state(3)
  assert curriculum.advance(state, 0.5, 0.1, 20) is state
  moved = curriculum.advance(state, 0.05, 0.1, 20)
  assert moved == {'cur': 4, 'advances': 1, 'merged': False}
  top = {'cur': 20, 'advances': 19, 'merged': True}
  assert curriculum.advance(top, 0.0, 0.1, 20) is top
