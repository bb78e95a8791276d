#!/usr/bin/env bash
# Trains the badd config with NUM_SEEDS seeds (FIRST_SEED, FIRST_SEED + 1, ...) in one
# many-seeds program on one accelerator (one compilation for all of them), then evaluates
# every member and keeps the best (OUTDIR/badd_seeds/best, seeds.json).
#   bash experiments/seeds_on_gpu.sh OUTDIR MINUTES NUM_SEEDS [FIRST_SEED]
# fp32 matmuls at full precision (no TF32), so numbers match the CPU's arithmetic.
# (Until commit 2606320 this script started one process per seed; the first H100 rows of
# experiments/RESULTS.md were made that way.)
set -eu
out=$1; minutes=$2; num_seeds=$3; first=${4:-0}
mkdir -p "$out"
export XLA_PYTHON_CLIENT_PREALLOCATE=false JAX_DEFAULT_MATMUL_PRECISION=highest PYTHONUNBUFFERED=1
python3 -m ngpu_jax.main --config=experiments/configs/badd.py --workdir="$out/badd_seeds" \
  --config.num_seeds="$num_seeds" --config.seed="$first" --config.train_minutes="$minutes" \
  --config.num_train_steps=60000 --config.eval_examples='(512,512,512,64)' \
  > "$out/badd_seeds.log" 2>&1
