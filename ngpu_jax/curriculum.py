"""The length curriculum (SPEC.md section 3) as a small pure state of Python ints.

`cur` is the largest length (in the task's digits) trained so far, `advances` how often it
moved (the relaxation pull is a schedule of it), `merged` whether the relaxed parameter
sets were merged into one (which happens when `cur` reaches the maximum).
"""

import numpy as np


def init_state(start_digits: int) -> dict:
  return {'cur': int(start_digits), 'advances': 0, 'merged': False}


def sample_digits(state: dict, min_digits: int, max_digits: int, rng: np.random.Generator) -> int:
  """The digits of one training batch: d ~ U[min, cur]; with 60% probability the max of that
  and another U[min, cur]; with 20% probability the max with U[min, max_digits]."""
  cur = state['cur']
  d = rng.integers(min_digits, cur + 1)
  if rng.random() < 0.6:
    d = max(d, rng.integers(min_digits, cur + 1))
  if rng.random() < 0.2:
    d = max(d, rng.integers(min_digits, max_digits + 1))
  return int(d)


def advance(state: dict, seq_error: float, bound: float, max_digits: int) -> dict:
  """The next state after a check: `cur` grows by one when `seq_error` (fresh examples at
  `cur`, no dropout) is below `bound` and `cur` is below the maximum."""
  if seq_error >= bound or state['cur'] >= max_digits:
    return state
  return {**state, 'cur': state['cur'] + 1, 'advances': state['advances'] + 1}
