#!/usr/bin/env bash
# Trains the badd config with NUM_SEEDS seeds (FIRST_SEED, FIRST_SEED + 1, ...) in one
# many-seeds program on one accelerator (one compilation for all of them), then evaluates
# every member and keeps the best (OUTDIR/badd_seeds/best, seeds.json).
#   bash experiments/seeds_on_gpu.sh OUTDIR MINUTES NUM_SEEDS [FIRST_SEED [RESUME_PARTS]]
# MINUTES counts all training of the run, earlier sessions' included. The workdir is packed
# into OUTDIR/badd_seeds.tgz.part-aa, -ab, ... of 15 MiB each (a lent machine returns files
# of at most 16 MiB): to go on in a later session, carry the parts and pass their common
# prefix as RESUME_PARTS (e.g. runs/gpu/badd_seeds.tgz.part-); the needed steps take longer
# than one session's device time. Unpack here with
#   cat OUTDIR/badd_seeds.tgz.part-* | tar -xzf - -C runs/
# XLA's compilation cache comes back as OUTDIR/xla_cache.tgz when it is at most 15 MB; a
# resume reads it from beside the parts. Checkpoints are kept every KEEP_EVERY steps
# (default 2500) and the newest 3; the parts hold the newest and older ones up to PACK_MB
# (default 40; one checkpoint of 8 unmerged members is about 17 MB) and everything else of
# the workdir. EVAL_FLAGS (space-separated) replace the final evaluation's settings,
# default "--config.eval_examples=(512,512,512,64)" (a flag given twice would add up, not
# replace). Wheels in .whl/ (ml_collections and tensorboardX, which the GPU image of 2026-11
# lacks) are installed first when present.
# fp32 matmuls at full precision (no TF32), so numbers match the CPU's arithmetic.
# The members are stepped in one call at the widest one's width (seeds_group_by_width=False,
# as the fourteenth session's run was): on a GPU the step of a small model is launch-bound,
# and one call per width, the CPU's faster way, is not measured there yet.
# (Until commit 2606320 this script started one process per seed; the first H100 rows of
# experiments/RESULTS.md were made that way.)
set -eu
out=$1; minutes=$2; num_seeds=$3; first=${4:-0}; resume=${5:-}
mkdir -p "$out"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD
fi
if [ -n "$resume" ]; then
  cat "$resume"* | tar -xzf - -C "$out"
  cache=$(dirname "$resume")/xla_cache.tgz
  if [ -f "$cache" ]; then tar -xzf "$cache" -C /tmp; fi
fi
# XLA's compiled programs are kept (and returned, if small) so that a resumed session on the
# same kind of device and jax version skips most of the ~100 s of compilation. The path is
# fixed: the cache directory is part of the programs' cache keys (through XLA's autotuning
# cache option), so programs cached under another path would not be found.
export JAX_COMPILATION_CACHE_DIR=/tmp/ngpu_jax_xla_cache
export XLA_PYTHON_CLIENT_PREALLOCATE=false JAX_DEFAULT_MATMUL_PRECISION=highest PYTHONUNBUFFERED=1
(nvidia-smi -L || true; python3 -c 'import jax; print(jax.__version__, jax.devices())') \
  >> "$out/badd_seeds.log" 2>&1
status=0
python3 -m ngpu_jax.main --config=experiments/configs/badd.py --workdir="$out/badd_seeds" \
  --config.num_seeds="$num_seeds" --config.seed="$first" --config.train_minutes="$minutes" \
  --config.num_train_steps=60000 --config.keep_checkpoint_every="${KEEP_EVERY:-2500}" \
  --config.seeds_group_by_width=False \
  ${EVAL_FLAGS:---config.eval_examples=(512,512,512,64)} >> "$out/badd_seeds.log" 2>&1 || status=$?
bash experiments/pack_workdir.sh "$out/badd_seeds" "$out/badd_seeds.tgz.part-" "${PACK_MB:-40}" \
  >> "$out/badd_seeds.log"
cache_mb=$(du -sm "$JAX_COMPILATION_CACHE_DIR" 2>/dev/null | cut -f1 || true)
if [ -n "$cache_mb" ] && [ "$cache_mb" -le 15 ]; then
  tar -czf "$out/xla_cache.tgz" -C /tmp ngpu_jax_xla_cache
fi
rm -rf "$out/badd_seeds"
exit $status
