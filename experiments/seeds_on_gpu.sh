#!/usr/bin/env bash
# Trains the badd config with NUM_SEEDS seeds (FIRST_SEED, FIRST_SEED + 1, ...) in one
# many-seeds program on one accelerator (one compilation for all of them), then evaluates
# every member and keeps the best (OUTDIR/badd_seeds/best, seeds.json).
#   bash experiments/seeds_on_gpu.sh OUTDIR MINUTES NUM_SEEDS [FIRST_SEED [RESUME_TGZ]]
# MINUTES counts all training of the run, earlier sessions' included. The workdir is packed
# into OUTDIR/badd_seeds.tgz at the end, one file that a lent machine's OUTDIR returns:
# carry it to the next session's machine and pass it as RESUME_TGZ to train on from there
# (the needed steps take longer than one session's device time). Checkpoints are kept every
# 2500 steps (and the newest 3) to keep the file small. EVAL_FLAGS (space-separated) replace
# the final evaluation's settings, default "--config.eval_examples=(512,512,512,64)"
# (a flag given twice would add up, not replace).
# fp32 matmuls at full precision (no TF32), so numbers match the CPU's arithmetic.
# (Until commit 2606320 this script started one process per seed; the first H100 rows of
# experiments/RESULTS.md were made that way.)
set -eu
out=$1; minutes=$2; num_seeds=$3; first=${4:-0}; resume=${5:-}
mkdir -p "$out"
if [ -n "$resume" ]; then tar -xzf "$resume" -C "$out"; fi
export XLA_PYTHON_CLIENT_PREALLOCATE=false JAX_DEFAULT_MATMUL_PRECISION=highest PYTHONUNBUFFERED=1
status=0
python3 -m ngpu_jax.main --config=experiments/configs/badd.py --workdir="$out/badd_seeds" \
  --config.num_seeds="$num_seeds" --config.seed="$first" --config.train_minutes="$minutes" \
  --config.num_train_steps=60000 --config.keep_checkpoint_every=2500 \
  ${EVAL_FLAGS:---config.eval_examples=(512,512,512,64)} >> "$out/badd_seeds.log" 2>&1 || status=$?
tar -czf "$out/badd_seeds.tgz" -C "$out" badd_seeds
exit $status
