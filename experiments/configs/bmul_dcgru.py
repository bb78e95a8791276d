"""bmul with the improved cell of Freivalds & Liepins 2017 ('dcgru', SPEC.md section 7).

  python -m ngpu_jax.main --config=experiments/configs/bmul_dcgru.py --workdir=runs/bmul_dcgru_s0

Their bmul setting: a 1-row state of m = 96 maps, one diagonal CGRU per step, no relaxation,
no curriculum, dropout 0.1 on the candidate, AdaMax at 0.01 * 48 / m, saturation cost; they
report bmul learned in about 800 steps. Differences here as in badd_dcgru.py.
Measured (2-core CPU, seed 0, 2026-11-27, code d23781c, --config.train_minutes=35): stopped
at step 9,111 (34 min) without learning: 28.9% sequence errors at 5 digits, 100% at 20.
experiments/RESULTS.md (DCGRU section).
"""

from ngpu_jax.config import base_config


def get_config():
  c = base_config()
  c.task = 'bmul'
  c.max_train_digits = 20
  c.curriculum_start = 20  # no curriculum
  c.num_train_steps = 20000
  c.optimizer = 'adamax'
  c.learning_rate = 0.005
  c.lr_decay = 0.7
  c.min_learning_rate = 0.005 / 60
  c.train_steps = 'bucket'  # examples run for their bucket's width, as in length bins
  c.grad_clip = 100.0  # effectively off: Freivalds & Liepins do not clip
  c.dropout = 0.1
  c.saturation_weight = 1e-3
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 8)
  c.model.cell = 'dcgru'
  c.model.nmaps = 96
  c.model.height = 1
  c.model.kernel_height = 1
  c.model.layers = 1
  c.model.relax_sets = 1
  c.model.init_scale = 1.0  # uniform +-sqrt(3 / fan_in) = TensorFlow's Glorot default here
  return c
