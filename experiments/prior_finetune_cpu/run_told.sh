#!/usr/bin/env bash
# The zoomed fine-tune again, told which windows are zoomed (issue 20): does telling the prior stop its videos drifting
# off the film, as non-leaking augmentation should? Each step skips what it already recorded, so a run carries on:
#   1. the zoomed variants in the film's token store (as run.sh; ~6 min when missing),
#   2. `willie train prior_s4_64_zoom_told` (60 min on the course's CPU, from the H200's prior that ships; it resumes
#      from runs/prior_s4_64_zoom_told after an interruption),
#   3. its val bits per token against the prior that ships, float32, every val window,
#   4. its samples judged as the untold fine-tune's were: 5 s into each video at seeds 0-2 and 3-5, and at the start
#      (`bench/eval_samples.py`, 48 clips, the float32 KV cache of those records; ~12 and ~5 min).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=experiments/prior_finetune_cpu/logs; mkdir -p "$out"
source experiments/judge.sh
v=p0,p1,p2,p3,p0+flip,p1+flip,p2+flip,p3+flip
willie tokenize --quiet --variants "$v,$(echo "$v" | sed 's/,/+crop85,/g')+crop85"
grep -qs 'prior_s4_64_zoom_told saved' "$out/train_told.txt" \
  || willie train --quiet prior_s4_64_zoom_told > "$out/train_told.txt" 2>&1
[ -s "$out/val_told.txt" ] || python scripts/device_install.py --cache prior_s4_64_zoom_told --as prior_s4_64 \
  > "$out/val_told.txt"
told=(--methods ar --exact-cache --surprise 5.0 --priors prior_s4_64_zoom_told maskgit_s4_64)
judge "$out" ar_told_at5s --burn-in 30 "${told[@]}"
judge "$out" ar_told --burn-in 2 "${told[@]}"
judge "$out" ar_told_at5s_seed3 --burn-in 30 --seed 3 "${told[@]}"
