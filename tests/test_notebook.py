"""The Colab notebook runs from top to bottom on CPU (with a short training), and is
committed without outputs. Its code cells are executed in order in a fresh Python process;
shell lines (`!pip ...`) are replaced by `pass`: the package is already installed here."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, 'experiments', 'neural_gpu_colab.ipynb')


def _code():
  cells = json.load(open(NOTEBOOK))['cells']
  lines = []
  for cell in cells:
    if cell['cell_type'] != 'code':
      continue
    assert cell['outputs'] == [] and cell['execution_count'] is None, 'commit without outputs'
    for line in ''.join(cell['source']).splitlines():
      stripped = line.lstrip()
      lines.append(line[:len(line) - len(stripped)] + 'pass' if stripped.startswith(('!', '%'))
                   else line)
  return '\n'.join(lines)


def test_notebook_runs_top_to_bottom(tmp_path):
  script = tmp_path / 'notebook.py'
  script.write_text(_code())
  env = dict(os.environ, JAX_PLATFORMS='cpu', NGPU_NOTEBOOK_STEPS='300',
             NGPU_NOTEBOOK_WORKDIR=str(tmp_path / 'run'), MPLBACKEND='Agg')
  result = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  assert 'CPU device(s)' in result.stdout
  assert 'strict sequence error is the headline' in result.stdout
  assert os.path.exists(tmp_path / 'run' / 'visualize' / 'readout.png')
