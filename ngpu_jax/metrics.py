"""Where a run's metrics go: WORKDIR/metrics.jsonl, one JSON record per log interval (the
source of truth, read by the plots and the tests), and the same numbers as TensorBoard
scalars in WORKDIR/tensorboard/ (tensorboardX writes the event files; no TensorFlow):

  tensorboard --logdir WORKDIR/tensorboard
"""

import json
import os

import tensorboardX


class MetricsWriter:
  """Appends records; a writer that is not `enabled` (processes other than 0) does nothing."""

  def __init__(self, workdir: str, enabled: bool = True):
    self.enabled = enabled
    self.path = os.path.join(workdir, 'metrics.jsonl')
    # flush_secs: a crash loses at most 10 s of scalars (metrics.jsonl loses nothing).
    self.board = (tensorboardX.SummaryWriter(os.path.join(workdir, 'tensorboard'), flush_secs=10)
                  if enabled else None)

  def write(self, record: dict, prefix: str = 'train') -> None:
    """One training record (its numbers also as scalars PREFIX/NAME at record['step'])."""
    if not self.enabled:
      return
    with open(self.path, 'a') as f:
      f.write(json.dumps(record) + '\n')
    for name, value in record.items():
      if isinstance(value, (int, float)) and not isinstance(value, bool) and name != 'step':
        self.board.add_scalar(f'{prefix}/{name}', value, record['step'])

  def write_eval(self, results: dict, step: int, prefix: str = 'eval') -> None:
    """Evaluation results {digits: rates} as scalars PREFIX/RATE_DIGITS_digits at `step`."""
    if not self.enabled:
      return
    for digits, rates in results.items():
      for name in ('seq_error', 'seq_error_lenient', 'symbol_error'):
        self.board.add_scalar(f'{prefix}/{name}_{digits}_digits', rates[name], step)

  def close(self) -> None:
    if self.enabled:
      self.board.close()
