"""The base configuration: every field, with what it does. Config files in
experiments/configs/ start from `base_config()` and change what their run needs."""

import ml_collections


def base_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.task = 'badd'  # one of ngpu_jax.tasks.TASKS
  c.seed = 0  # parameters, data, dropout and noise all follow from it
  c.batch_size = 32  # global batch (all devices together)
  c.num_devices = 0  # data-parallel devices, the batch split across them; 0: all local devices
  # > 1: train this many models in one program (seeds.py): member k has seed `seed + k` and,
  # when `grid` lists values, the k-th combination of them (num_seeds a multiple of their
  # count); the best member at the longest eval length becomes the run's model.
  c.num_seeds = 1
  # How a many-seeds step treats members whose batches differ in width: True, one call per
  # bucket width (its members gathered, stepped and scattered back), so each member costs
  # what its own batch costs, which suits a compute-bound CPU (2.4-3.5x the steps/s of False
  # with 8 badd members at 2-3 digits on the 2-core CPU, RESULTS.md); False, one call with every
  # member padded to the widest, the fewest launches (seeds_on_gpu.sh, for accelerators,
  # where a small model's step is launch-bound; the grouping is not measured there).
  c.seeds_group_by_width = True
  c.grid = ml_collections.ConfigDict()
  for field in ('learning_rate', 'init_scale', 'pull_factor', 'curriculum_bound',
                'grad_noise_scale'):
    setattr(c.grid, field, ())  # e.g. --config.grid.learning_rate="(0.001, 0.003)"
  c.num_train_steps = 20000
  c.train_minutes = 0.0  # > 0: stop at the first log interval past this much training time
  c.max_train_digits = 20  # longest training length, in the task's digits (badd: n = 2d + 1)
  c.bucket_step = 8  # training widths are compiled in multiples of this (and the max width)
  # Steps of a training example: 'own' (width n -> n steps, the paper's) or 'bucket' (the
  # bucket's width in steps, with train_lengths 'bins' its bin's width; its own width
  # masked, as Freivalds & Liepins train in length bins; one seed only). Evaluation always
  # gives an example its own width in steps.
  c.train_steps = 'own'
  # Lengths in a training batch: 'one' (one length per batch, the curriculum's sampler),
  # 'all' (every example its own, uniform up to the curriculum's length, padded to the
  # widest; Freivalds & Liepins train every length in every step) or 'bins' (their length
  # bins, train_bins: batch_size / len(train_bins) examples from every bin; no curriculum).
  c.train_lengths = 'one'
  # The bins' widths for train_lengths 'bins', increasing, the last the width of
  # max_train_digits. An example of bin i has a length in (bin i-1, bin i], uniform over the
  # task's lengths there, except that 1 in 21 of those in bins after the first come from a
  # smaller bin (their code adds 5% shorter examples to a bin). Their badd and bmul bins:
  # (8, 12, 16, 20, 25, 28, 31, 36, 41).
  c.train_bins = ()
  # How the cross-entropy averages: False, every position inside an example's width counts
  # the same (a long example weighs more); True, each example's own mean counts the same
  # (as Freivalds & Liepins weigh every length bin the same). Equal with train_lengths 'one'.
  c.loss_per_example = False
  # Beyond the paper: this fraction of training examples (each example by chance) comes from
  # the hard-input families of tasks.HARD_FAMILIES (full carry chains, powers of two, a zero
  # operand, ...) at the batch's length, a family chosen uniformly; two-operand arithmetic
  # tasks with train_lengths 'one' only. 0 draws nothing extra (the paper's data).
  c.train_hard_fraction = 0.0
  # The families train_hard_fraction draws from, e.g. "('zero_runs',)"; () is all of them.
  c.train_hard_families = ()

  # Length curriculum (SPEC.md section 3): every `curriculum_every` steps a fresh batch at the
  # current length is decoded without dropout; below `curriculum_bound` sequence error the
  # length grows by one digit.
  c.curriculum_start = 1
  c.curriculum_bound = 0.1
  c.curriculum_every = 50  # also the logging interval
  c.checkpoint_every = 500  # a multiple of curriculum_every
  # > 0: checkpoints at multiples of this step are kept for good (a multiple of
  # checkpoint_every); otherwise only the newest 3 are. Long-length generalisation swings
  # from one checkpoint to the next (RESULTS.md, badd seed 0 continued), so the best model
  # is chosen afterwards: --mode=eval --checkpoint=DIR --step=S.
  c.keep_checkpoint_every = 0

  # Optimisation.
  # 'adam' (the paper's), 'adamax' (optax's AdaMax with Freivalds & Liepins' settings: b1
  # 0.9, eps 1e-8, b2 rising from 0.99 as 1 - max(0.0005, 0.01 * 0.5**(step / 2000))) or
  # 'adamax_fl' (their own AdaMax, the same settings: each gradient entry clipped to 1.2x its
  # running maximum + 1e-4, no bias correction; train.adamax_clipped).
  c.optimizer = 'adam'
  c.learning_rate = 1e-3
  c.adam_eps = 1e-4  # Adam's epsilon ('adam' only)
  c.lr_decay = 0.98  # learning rate x this when a window's mean loss exceeds the 3 before it
  c.lr_decay_every = 200  # window length in steps (the original checked every 200 steps)
  c.min_learning_rate = 0.0  # the decay stops here (Freivalds & Liepins: the start / 60)
  c.grad_clip = 1.0  # global gradient norm
  c.grad_noise_scale = 0.0  # gradient noise variance = scale * train seq error / sqrt(step)
  c.dropout = 0.1  # on the state every step ('cgru'), on every candidate ('dcgru')
  # Weight of the DCGRU's saturation cost (model.cell 'dcgru'; Freivalds & Liepins start at
  # 1e-3 and adapt it to the loss: adapt_saturation_weight).
  c.saturation_weight = 0.0
  # True: as Freivalds & Liepins, every lr_decay_every steps the weight becomes lr x the
  # window's mean loss / its mean saturation cost, at most saturation_weight (their start
  # and cap, 1e-3), so the weighted cost stays about lr times the loss. 'dcgru' only.
  c.adapt_saturation_weight = False
  # Updates with NaN/inf gradients are skipped (and counted); when the last
  # `max_nonfinite_steps` of a log interval were all skipped, the newest checkpoint is
  # restored with the learning rate x `nonfinite_lr_factor`, at most `max_nonfinite_restores`
  # times, after which the run stops.
  c.max_nonfinite_steps = 10
  c.nonfinite_lr_factor = 0.5
  c.max_nonfinite_restores = 3

  # Relaxation (SPEC.md section 2): pull(level) = min(pull_start * pull_factor**level, pull_cap),
  # level = curriculum advances; the sets are merged into one at max_train_digits.
  c.pull_start = 0.0005
  c.pull_factor = 1.2
  c.pull_cap = 0.1

  # Evaluation after training: strict/lenient sequence error and symbol error per length.
  c.eval_digits = (20, 25, 200, 2000)
  c.eval_examples = (512, 512, 512, 8)  # one count per eval_digits entry
  c.eval_batch_size = 32
  # > 0: also this many examples of every hard-input family (tasks.HARD_FAMILIES: full carry
  # chains, all-max operands, small operands behind leading zeros, ...) at every eval_digits
  # length, arithmetic tasks only; written to eval_hard.json.
  c.eval_hard_examples = 0
  c.eval_hard_families = ()  # the families it tests, e.g. "('zero_runs',)"; () is all of them

  # The model (ngpu_jax.model.ModelConfig).
  c.model = ml_collections.ConfigDict()
  c.model.cell = 'cgru'  # 'cgru' (the paper's) or 'dcgru' (Freivalds & Liepins 2017)
  c.model.vocab_size = 14
  c.model.nmaps = 24  # feature maps m
  c.model.height = 4  # rows h of the state
  c.model.kernel_width = 3
  c.model.kernel_height = 3
  c.model.layers = 2  # CGRUs per step
  c.model.relax_sets = 6  # r; 1 turns the relaxation off
  c.model.steps_per_symbol = 1
  # Steps after the last of n * steps_per_symbol (not in the paper). A trained model may be
  # evaluated with another value: --mode=eval, screen_checkpoints.py --extra_steps.
  c.model.extra_steps = 0
  c.model.cutoff = 1.2
  c.model.init_scale = 1.8
  c.model.embed_scale = 1.7
  c.model.hard_input = False  # 'dcgru': Freivalds & Liepins' input layer (model.ModelConfig)
  return c


def dcgru_recipe(c: ml_collections.ConfigDict, nmaps: int, learning_rate: float,
                 dropout: float) -> ml_collections.ConfigDict:
  """`c` with the improved cell and its training recipe (Freivalds & Liepins 2017): a 1-row
  state of `nmaps` maps, one DCGRU per step, no relaxation, no curriculum (set
  max_train_digits first), examples run for their bucket's width (as their length bins),
  AdaMax with the decay x 0.7 on stalls down to 1/60 of `learning_rate`, in effect no
  clipping (they clip none; the bound of 100 is far above the gradient norms of our runs,
  at most 2.8 averaged over 50 steps), saturation weight 1e-3."""
  c.curriculum_start = c.max_train_digits
  c.optimizer = 'adamax'
  c.learning_rate = learning_rate
  c.lr_decay = 0.7
  c.min_learning_rate = learning_rate / 60
  c.train_steps = 'bucket'
  c.grad_clip = 100.0
  c.dropout = dropout
  c.saturation_weight = 1e-3
  # init_scale 1: kernels uniform in +-sqrt(3 / fan_in), TensorFlow's Glorot default here.
  c.model.update(cell='dcgru', nmaps=nmaps, height=1, kernel_height=1, layers=1,
                 relax_sets=1, init_scale=1.0)
  return c
