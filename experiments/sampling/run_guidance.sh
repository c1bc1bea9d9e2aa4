#!/usr/bin/env bash
# Texture guidance (guidance.py) judged as the shipped default sampler was in ar_surprise5.0_bf16_traincritic: the
# same seeds, cache, surprise target and judge, so only the sampler differs. ~5 min each on the course's 2-core CPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=experiments/sampling/logs; mkdir -p "$out"
source experiments/judge.sh
guided() { local w=$1 win=$2; shift 2
  JUDGE="experiments/sampling/guidance.py --guidance $w --guide-window $win --" \
    judge "$out" "ar_guidance${w}_window${win}" --methods ar --surprise 5.0 "$@"; }
guided 1 32
guided 0.3 32
guided 1 256
