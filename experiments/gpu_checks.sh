#!/usr/bin/env bash
# The accelerator checks of issues 3, 4 and 5 in one call (a lent GPU has minutes, not hours):
#   bash experiments/gpu_checks.sh OUTDIR MODEL [A_SECONDS B_SECONDS C_SECONDS]
# A: screens MODEL's kept checkpoints from step 23,000 on (STEPS=FIRST:LAST for others; tf32):
#    512 random sums at 200 bits, then 256 at 2000 for the exact ones;
# B: the benchmark (fp32 at full precision), JSON on its last line;
# C: the newest checkpoint exact in A on 1024 sums at 2000 bits in bf16, tf32 and fp32 (the
#    same examples; each row counts the examples whose answer differs from bf16's).
# Each stage has its own time limit (default 150, 200, 230 s) and writes its log and JSON to
# OUTDIR as it goes, so a stage cut short still leaves what it finished.
# The GPU image of 2026-11-27 (jax 0.11.2) lacked ml_collections and tensorboardX: carry their
# wheels, `pip install --no-deps --target /tmp/site` them, PYTHONPATH=/tmp/site:$PWD.
set -u
out=$1; model=$2; limit_a=${3:-150}; limit_b=${4:-200}; limit_c=${5:-230}
STEPS=${STEPS:-23000:999999}; A_EXAMPLES=${A_EXAMPLES:-512,256}; C_EXAMPLES=${C_EXAMPLES:-1024}; BATCH=${BATCH:-256}
BENCH_FLAGS=${BENCH_FLAGS:---repeats=3 --eval_steps_n4001=4001}
mkdir -p "$out"
export XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1 \
  JAX_COMPILATION_CACHE_DIR=${JAX_COMPILATION_CACHE_DIR:-/tmp/ngpu_jax_compile_cache}
(nvidia-smi -L || true; python3 -c 'import jax; print(jax.__version__, jax.devices())') \
  > "$out/device.txt" 2>&1
cat "$out/device.txt"

echo "== A: screening (tf32), $(date -u +%T)"
timeout "$limit_a" python3 experiments/screen_checkpoints.py --model="$model" --steps="$STEPS" \
  --digits=200,2000 --examples="$A_EXAMPLES" --precisions=tensorfloat32 --batch_size="$BATCH" \
  --json="$out/screen.json" 2>&1 | grep -v '^[IW][0-9]' | tee "$out/screen.log"

echo "== B: benchmark (fp32), $(date -u +%T)"
# shellcheck disable=SC2086
JAX_DEFAULT_MATMUL_PRECISION=highest timeout "$limit_b" python3 experiments/benchmark.py --json \
  $BENCH_FLAGS 2>&1 | grep -v '^[IW][0-9]' | tee "$out/benchmark.log"

step=$(python3 - "$out/screen.json" <<'EOF'
import json, sys
try:
  rows = json.load(open(sys.argv[1]))['rows']
except (OSError, ValueError, KeyError):
  sys.exit()
longest = max(r['digits'] for r in rows)
exact = [r['step'] for r in rows if r['digits'] == longest and r['seq_error'] == 0]
print(max(exact) if exact else '')
EOF
)
if [ -z "$step" ]; then echo "== C: skipped, no checkpoint exact in A"; exit 0; fi
echo "== C: step $step at 2000 bits in bf16, tf32, fp32, $(date -u +%T)"
timeout "$limit_c" python3 experiments/screen_checkpoints.py --model="$model" --steps="$step" \
  --digits=2000 --examples="$C_EXAMPLES" --precisions=bfloat16,tensorfloat32,highest \
  --batch_size="$BATCH" --json="$out/precisions.json" 2>&1 | grep -v '^[IW][0-9]' \
  | tee "$out/precisions.log"
echo "== done $(date -u +%T)"
