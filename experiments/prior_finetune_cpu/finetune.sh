#!/usr/bin/env bash
# One CPU fine-tune of the H200's AR prior, trained and judged as the others here (issue 20):
#   bash experiments/prior_finetune_cpu/finetune.sh RECIPE TAG
# Each step skips what it already recorded, so a run carries on where it stopped:
#   1. the zoomed variants in the film's token store (as run.sh; ~6 min when missing),
#   2. `willie train RECIPE` (a recipe of notebook 98's CPU_TUNES; resumes from runs/RECIPE after an interruption),
#   3. its val bits per token against the prior that ships, float32, every val window (logs/val_TAG.txt),
#   4. its samples judged 5 s into each video at seeds 0-2 and 3-5, then at the start (`bench/eval_samples.py`, 48
#      clips each, the float32 KV cache of the earlier records; ~12, ~12 and ~5 min; logs/ar_TAG_at5s*, logs/ar_TAG).
set -euo pipefail
recipe=$1 tag=$2
cd "$(dirname "$0")/../.."
out=experiments/prior_finetune_cpu/logs; mkdir -p "$out"
source experiments/judge.sh
v=p0,p1,p2,p3,p0+flip,p1+flip,p2+flip,p3+flip
willie tokenize --quiet --variants "$v,$(echo "$v" | sed 's/,/+crop85,/g')+crop85"
grep -qs "$recipe saved" "$out/train_$tag.txt" || willie train --quiet "$recipe" > "$out/train_$tag.txt" 2>&1
[ -s "$out/val_$tag.txt" ] || python scripts/device_install.py --cache "$recipe" --as prior_s4_64 > "$out/val_$tag.txt"
args=(--methods ar --exact-cache --surprise 5.0 --priors "$recipe" maskgit_s4_64)
judge "$out" "ar_${tag}_at5s" --burn-in 30 "${args[@]}"
judge "$out" "ar_${tag}_at5s_seed3" --burn-in 30 --seed 3 "${args[@]}"
judge "$out" "ar_$tag" --burn-in 2 "${args[@]}"
