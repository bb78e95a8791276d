#!/usr/bin/env bash
# Trains one seed of a config on a lent accelerator for SECONDS of wall time, then stops it
# with SIGTERM (a checkpoint of the current step, no final evaluation: the CPU screens the
# checkpoints afterwards) and packs the workdir so that it fits what a lent machine returns
# (at most 8 files of 16 MiB): the newest checkpoint and older ones up to PACK_MB (default
# 55) in all, in OUTDIR/run.tgz.part-aa, -ab, ... of 15 MiB each. Unpack with
#   cat OUTDIR/run.tgz.part-* | tar -xzf - -C runs/   (the workdir is named NAME)
# and go on training or screening it like any workdir (the same command resumes it).
#   bash experiments/train_on_gpu.sh OUTDIR CONFIG NAME SEED SECONDS [MAIN FLAGS...]
# FROM=DIR (a workdir carried in, for example a kept one under experiments/runs/) resumes
# that run instead of starting a new one: it is copied to the work folder first.
# fp32 matmuls at full precision (no TF32), as on the CPU. The GPU image of 2026-11-27
# (jax 0.11.2) lacked ml_collections and tensorboardX: carry their wheels in .whl/ (as in
# experiments/gpu_checks.sh); they are installed from there when the folder exists.
set -u
out=$1; config=$2; name=$3; seed=$4; seconds=$5; shift 5
pack_mb=${PACK_MB:-55}
mkdir -p "$out"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
fi
export XLA_PYTHON_CLIENT_PREALLOCATE=false JAX_DEFAULT_MATMUL_PRECISION=highest PYTHONUNBUFFERED=1
(nvidia-smi -L || true; python3 -c 'import jax; print(jax.__version__, jax.devices())') \
  > "$out/device.txt" 2>&1
cat "$out/device.txt"
work=$(mktemp -d)/$name
if [ -n "${FROM:-}" ]; then
  cp -r "$FROM" "$work" || exit 1
  echo "resuming $FROM (newest checkpoint: $(ls "$work/checkpoints" | sort -n | tail -1))"
fi
# train_minutes far away: SIGTERM at SECONDS is what stops the run (it saves, skips the eval).
timeout -s TERM -k 60 "$seconds" python3 -m ngpu_jax.main --config="$config" \
  --workdir="$work" --config.seed="$seed" --config.train_minutes=100000 "$@" \
  > "$out/train.log" 2>&1
echo "training exited with status $? at $(date -u +%T)"
grep -v '^[IW][0-9]' "$out/train.log" | tail -5
bash experiments/pack_workdir.sh "$work" "$out/run.tgz.part-" "$pack_mb"
ls -la "$out"
