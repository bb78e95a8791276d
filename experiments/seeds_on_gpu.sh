#!/usr/bin/env bash
# Trains the badd config with several seeds at once on one GPU (one process per seed),
# then each run evaluates itself. Used for the GPU rows of experiments/RESULTS.md.
#   bash experiments/seeds_on_gpu.sh OUTDIR MINUTES SEED [SEED ...]
# fp32 matmuls at full precision (no TF32), so numbers match the CPU's arithmetic.
set -u
out=$1; minutes=$2; shift 2
mkdir -p "$out"
export XLA_PYTHON_CLIENT_PREALLOCATE=false JAX_DEFAULT_MATMUL_PRECISION=highest PYTHONUNBUFFERED=1
for seed in "$@"; do
  python3 -m ngpu_jax.main --config=experiments/configs/badd.py --workdir="$out/badd_s$seed" \
    --config.seed="$seed" --config.train_minutes="$minutes" --config.num_train_steps=60000 \
    --config.eval_examples='(512,512,512,32)' > "$out/badd_s$seed.log" 2>&1 &
done
wait
