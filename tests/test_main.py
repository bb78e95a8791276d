"""The command line as a user runs it: one-line errors with exit status 2, no traceback."""

import json
import os
import subprocess
import sys

import pytest

import ngpu_jax
from ngpu_jax import inference, tasks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ['--config.num_train_steps=10', '--config.max_train_digits=2', '--config.batch_size=4',
        '--config.curriculum_every=5', '--config.checkpoint_every=5',
        '--config.eval_digits=(2,4)', '--config.eval_examples=(4,4)', '--config.model.nmaps=8',
        '--config.model.relax_sets=2']


def _cli(*args):
  """Runs the CLI; the default config unless args name another with --config=."""
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  if not any(a.startswith('--config=') for a in args):
    args = ('--config=experiments/configs/default.py',) + args
  return subprocess.run([sys.executable, '-m', 'ngpu_jax.main', *args],
                        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp('cli'))
  result = _cli(f'--workdir={workdir}', *TINY)
  assert result.returncode == 0, result.stderr
  return workdir, result


def test_train_prints_table_and_writes_eval(trained):
  workdir, result = trained
  assert 'seq_error' in result.stdout and 'step     10' in result.stdout
  assert set(json.load(open(os.path.join(workdir, 'eval.json')))) == {'2', '4'}


def test_eval_mode(trained):
  workdir, _ = trained
  result = _cli(f'--workdir={workdir}', '--mode=eval', *TINY)
  assert result.returncode == 0, result.stderr
  assert 'evaluating' in result.stdout and 'seq_error' in result.stdout


def test_eval_mode_with_hard_inputs(trained, tmp_path):
  workdir, _ = trained
  result = _cli(f'--workdir={tmp_path}', f'--checkpoint={workdir}', '--mode=eval', *TINY,
                '--config.eval_hard_examples=4')
  assert result.returncode == 0, result.stderr
  assert 'strict sequence error on hard inputs' in result.stdout
  hard = json.load(open(tmp_path / 'eval_hard.json'))
  assert set(hard) == {'full_carry', 'all_max', 'leading_zeros', 'alternating', 'powers', 'zero',
                       'zero_runs'}
  assert set(hard['full_carry']) == {'2', '4'} and hard['zero']['4']['examples'] == 4
  # Some families only: the same examples, so the same figures, as in the full table.
  chosen = _cli(f'--workdir={tmp_path / "some"}', f'--checkpoint={workdir}', '--mode=eval',
                *TINY, '--config.eval_hard_examples=4',
                "--config.eval_hard_families=('zero_runs','powers')")
  assert chosen.returncode == 0, chosen.stderr
  some = json.load(open(tmp_path / 'some' / 'eval_hard.json'))
  assert some == {family: hard[family] for family in ('powers', 'zero_runs')}


def test_eval_mode_with_extra_steps(trained, tmp_path):
  """A model trained with n steps evaluated with n + 2: accepted (not another model), said
  in the output."""
  workdir, _ = trained
  result = _cli(f'--workdir={tmp_path}', f'--checkpoint={workdir}', '--mode=eval', *TINY,
                '--config.model.extra_steps=2')
  assert result.returncode == 0, result.stderr
  assert '2 steps past each input)' in result.stdout
  assert set(json.load(open(tmp_path / 'eval.json'))) == {'2', '4'}
  result = _cli(f'--workdir={tmp_path}', f'--checkpoint={workdir}', '--mode=eval', *TINY,
                '--config.model.extra_steps=-1')
  assert result.returncode == 2 and 'model.extra_steps must be an integer >= 0' in result.stderr


def test_eval_and_predict_an_older_step(trained, tmp_path):
  workdir, _ = trained
  result = _cli(f'--workdir={tmp_path}', f'--checkpoint={workdir}', '--mode=eval', '--step=5',
                *TINY)
  assert result.returncode == 0, result.stderr
  assert '(step 5)' in result.stdout
  result = _cli('--mode=predict', f'--checkpoint={workdir}', '--step=5', '--input=11+01')
  assert result.returncode == 0, result.stderr
  assert 'step 5)' in result.stdout


@pytest.mark.parametrize('args,message', [
    (['--mode=eval', '--step=7'], 'has no checkpoint 7; it has [5, 10]'),
    (['--step=5'], '--step is for eval/predict/visualize'),
])
def test_bad_step(trained, args, message):
  workdir, _ = trained
  result = _cli(f'--workdir={workdir}', *TINY, *args)
  assert result.returncode == 2 and 'Traceback' not in result.stderr
  assert message in result.stderr


@pytest.mark.parametrize('args,message', [
    (['--config.task=bad'], "unknown task 'bad'"),
    (['--config.keep_checkpoint_every=7'],
     'keep_checkpoint_every must be 0 or a multiple of checkpoint_every (5), got 7'),
    (['--config.max_train_digits=0'], 'digits must be >= 1'),
    (['--config.model.nmaps=16'], 'model.nmaps=8'),
    (['--config.model.height=3'], 'model.height=4'),
])
def test_one_line_errors(trained, args, message):
  workdir, _ = trained
  before = open(os.path.join(workdir, 'config.json')).read()
  result = _cli(f'--workdir={workdir}', *TINY, *args)
  assert result.returncode == 2
  assert 'Traceback' not in result.stderr
  lines = [l for l in result.stderr.splitlines() if l.startswith('ngpu-jax: error:')]
  assert len(lines) == 1 and message in lines[0]
  assert open(os.path.join(workdir, 'config.json')).read() == before


def test_missing_workdir_flag():
  result = _cli(*TINY)
  assert result.returncode == 2 and '--workdir is required' in result.stderr


def test_sigterm_saves_and_resume_is_exact(tmp_path):
  """SIGTERM in the middle of training saves the current step; rerunning the command
  finishes with bitwise the same parameters as an uninterrupted run."""
  import signal
  import time

  import chex
  import ngpu_jax

  args = [*TINY, '--config.num_train_steps=200', '--config.checkpoint_every=100']
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  cmd = [sys.executable, '-m', 'ngpu_jax.main', '--config=experiments/configs/default.py',
         f'--workdir={tmp_path / "cut"}', *args]
  proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
  metrics = tmp_path / 'cut' / 'metrics.jsonl'
  deadline = time.time() + 120
  while not (metrics.exists() and metrics.read_text().count('\n') >= 2):
    assert time.time() < deadline and proc.poll() is None, proc.communicate()
    time.sleep(0.05)
  proc.send_signal(signal.SIGTERM)
  _, err = proc.communicate(timeout=120)
  assert proc.returncode == 128 + signal.SIGTERM, err
  assert 'interrupted by signal' in err and 'Traceback' not in err
  stopped_at = ngpu_jax.load(str(tmp_path / 'cut')).step
  assert 10 <= stopped_at < 200
  assert _cli(f'--workdir={tmp_path / "cut"}', *args).returncode == 0
  assert _cli(f'--workdir={tmp_path / "once"}', *args).returncode == 0
  chex.assert_trees_all_equal(ngpu_jax.load(str(tmp_path / 'cut')).params,
                              ngpu_jax.load(str(tmp_path / 'once')).params)


@pytest.mark.parametrize('args,message', [
    (['--config=nope.py'], "config file 'nope.py' does not exist"),
    (['--config=experiments/configs/badd.py', '--config.nosuch=1'], "unknown config field"),
    (['--config.nosuch=1'], "unknown config field 'nosuch'; valid fields: adam_eps"),
    (['--config.model.foo=1'], "unknown config field 'model.foo'"),
    (['--config.seed=abc'], 'flag --config.seed=abc'),
    (['--config.max_train_digits=2.5'], 'flag --config.max_train_digits=2.5'),
    (['--mode=bad'], 'value should be one of <train|eval|predict|visualize>'),
    (['--config=tests/conftest.py'], 'must define get_config()'),
    (['--config.eval_digits=(2,10000000)', '--config.eval_examples=(4,4)'],
     'evaluating 10000000 digits (eval_digits) at width n=20000001 with batch 4 needs about'),
])
def test_bad_flags(tmp_path, args, message):
  result = _cli(f'--workdir={tmp_path / "w"}', *args)
  assert result.returncode == 2 and 'Traceback' not in result.stderr
  assert result.stderr.count('\n') == 1 and message in result.stderr, result.stderr
  assert not (tmp_path / 'w').exists()


def test_predict_mode(trained):
  workdir, _ = trained
  result = _cli('--mode=predict', f'--checkpoint={workdir}', '--input=101+11')
  assert result.returncode == 0, result.stderr
  assert result.stdout.startswith('101+11 -> ') and ('right' in result.stdout
                                                     or 'the answer is 1000' in result.stdout)
  result = _cli('--mode=predict', f'--checkpoint={workdir}', '--input=101')
  assert result.returncode == 2 and "joined by '+'" in result.stderr
  result = _cli('--mode=predict', f'--checkpoint={workdir}')
  assert result.returncode == 2 and 'predict needs --input' in result.stderr


def test_workdir_that_is_a_file(tmp_path):
  (tmp_path / 'file').write_text('keep me')
  result = _cli(f'--workdir={tmp_path / "file"}', *TINY)
  assert result.returncode == 2 and 'Traceback' not in result.stderr
  assert 'cannot create workdir' in result.stderr
  assert (tmp_path / 'file').read_text() == 'keep me'


def test_visualize_mode(trained, tmp_path):
  workdir, _ = trained
  result = _cli('--mode=visualize', f'--checkpoint={workdir}', f'--workdir={tmp_path}',
                '--input=101+11')
  assert result.returncode == 0, result.stderr
  assert sorted(os.listdir(tmp_path / 'visualize')) == [
      'gates.png', 'learning_curves.png', 'readout.png', 'state.gif', 'state.png']
  result = _cli('--mode=visualize', f'--checkpoint={workdir}')
  assert result.returncode == 2 and 'visualize needs --input' in result.stderr


def test_shipped_model_by_name(tmp_path):
  name = inference.shipped_models()[0]
  task = tasks.get(ngpu_jax.load(f'pretrained/{name}').task)
  text = '1011+0110' if task.is_arithmetic else '0110100111'
  result = _cli('--mode=predict', f'--checkpoint=pretrained/{name}', f'--input={text}')
  assert result.returncode == 0, result.stderr
  assert f'{text} -> ' in result.stdout and '(right;' in result.stdout
  result = _cli('--mode=visualize', f'--checkpoint=pretrained/{name}', f'--input={text}',
                f'--workdir={tmp_path}')
  assert result.returncode == 0, result.stderr
  assert 'state.png' in os.listdir(tmp_path / 'visualize')
  result = _cli('--mode=visualize', f'--checkpoint=pretrained/{name}', f'--input={text}')
  assert result.returncode == 2 and 'pass --workdir=OUT with the shipped model' in result.stderr
  result = _cli('--mode=predict', '--checkpoint=pretrained/nothing', f'--input={text}')
  assert result.returncode == 2 and "no shipped model 'nothing'" in result.stderr


def test_help_explains_modes_and_config_fields():
  from ngpu_jax.config import base_config
  from ngpu_jax import main
  result = _cli('--help')  # absl exits with status 1 after --help
  for mode in ('train:', 'eval:', 'predict:', 'visualize:'):
    assert mode in result.stdout
  listed = main.__doc__.split('Main config fields')[1]
  from ngpu_jax import tasks
  words = listed.replace('(', ' ').replace(')', ' ').split()
  assert [name for name in tasks.TASKS if name not in words] == []  # every task listed
  config = base_config()
  for field in ('task', 'seed', 'batch_size', 'num_train_steps', 'max_train_digits',
                'eval_digits', 'learning_rate', 'dropout', 'num_seeds', 'model.nmaps',
                'model.relax_sets'):
    assert field in listed and field in result.stdout
    node = config
    for part in field.split('.'):
      node = node[part]  # the field exists
