#!/usr/bin/env bash
# The zoomed fine-tune again, reading 10% random codes in its context (issue 20): is its drift off the film exposure
# bias, a prior that never learned to recover from its own wrong draws? Each step skips what it already recorded:
#   1. the zoomed variants in the film's token store (as run.sh; ~6 min when missing),
#   2. `willie train prior_s4_64_zoom_noise` (275 steps, ~55 min on a quiet course CPU; resumes after an interruption),
#   3. its val bits per token against the prior that ships, float32, every val window,
#   4. its samples judged as the other fine-tunes' were: 5 s into each video at seeds 0-2, then 3-5, then at the start
#      (`bench/eval_samples.py`, 48 clips, the float32 KV cache of those records; ~12, ~12 and ~5 min).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=experiments/prior_finetune_cpu/logs; mkdir -p "$out"
source experiments/judge.sh
v=p0,p1,p2,p3,p0+flip,p1+flip,p2+flip,p3+flip
willie tokenize --quiet --variants "$v,$(echo "$v" | sed 's/,/+crop85,/g')+crop85"
grep -qs 'prior_s4_64_zoom_noise saved' "$out/train_noise.txt" \
  || willie train --quiet prior_s4_64_zoom_noise > "$out/train_noise.txt" 2>&1
[ -s "$out/val_noise.txt" ] || python scripts/device_install.py --cache prior_s4_64_zoom_noise --as prior_s4_64 \
  > "$out/val_noise.txt"
noisy=(--methods ar --exact-cache --surprise 5.0 --priors prior_s4_64_zoom_noise maskgit_s4_64)
judge "$out" ar_noise_at5s --burn-in 30 "${noisy[@]}"
judge "$out" ar_noise_at5s_seed3 --burn-in 30 --seed 3 "${noisy[@]}"
judge "$out" ar_noise --burn-in 2 "${noisy[@]}"
