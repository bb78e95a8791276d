#!/usr/bin/env bash
# Packs a run's workdir so that it fits what a lent machine returns (files of at most 16 MiB):
# the newest checkpoint always (even one larger than PACK_MB: a run must not come back with
# none), older ones while the total stays within PACK_MB, and everything else of the workdir,
# as a tgz split into PREFIXaa, PREFIXab, ... of 15 MiB each. Unpack with
#   cat PREFIX* | tar -xzf - -C DIR      (gives DIR/NAME)
#   bash experiments/pack_workdir.sh WORKDIR PREFIX PACK_MB
# Prints how many checkpoints it packed. Used by train_on_gpu.sh and seeds_on_gpu.sh.
set -eu
work=$1; prefix=$2; pack_mb=$3
name=$(basename "$work")
keep=$(cd "$work" && du -sk checkpoints/* | sort -t/ -k2 -n -r \
  | awk -v limit=$((pack_mb * 1024)) '{ total += $1; if (NR == 1 || total <= limit) print $2 }')
others=$(cd "$work" && ls -A | grep -v '^checkpoints$')
# shellcheck disable=SC2086
tar -czf - -C "$(dirname "$work")" $(for p in $keep $others; do echo "$name/$p"; done) \
  | split -b 15m - "$prefix"
echo "packed $(echo "$keep" | wc -w) checkpoints of $(ls "$work/checkpoints" | wc -l)"
