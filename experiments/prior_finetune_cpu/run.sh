#!/usr/bin/env bash
# The shipped AR prior carried on by the course's CPU on twice the data (issue 20). One step after another:
#   1. add the zoomed variants to the film's token store (the 8 it holds are kept, not coded again; ~6 min),
#   2. fine-tune prior_s4_64 on all 16 variants (`willie train prior_s4_64_zoom`: 85 min under bf16 on the CPU's AMX;
#      run it again after an interruption and it resumes from runs/prior_s4_64_zoom),
#   3. score it against the prior it started from on val (bits per token, fp32, every val window),
#   4. judge its samples against held-out film as the shipped prior's were (bench/eval_samples.py, seeds 0-2).
# Logs and tables go to experiments/prior_finetune_cpu/logs/.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=experiments/prior_finetune_cpu/logs; mkdir -p "$out"
v=p0,p1,p2,p3,p0+flip,p1+flip,p2+flip,p3+flip
willie tokenize --quiet --variants "$v,$(echo "$v" | sed 's/,/+crop85,/g')+crop85"
willie train --quiet prior_s4_64_zoom 2>&1 | tee "$out/train.txt"
python scripts/device_install.py --cache prior_s4_64_zoom --as prior_s4_64 | tee "$out/val.txt"   # add --install to ship it
OMP_NUM_THREADS=2 python bench/eval_samples.py --no-patch-nn --threads 2 --methods ar --exact-cache \
  --priors prior_s4_64_zoom maskgit_s4_64 --json "$out/ar_zoom.json" > "$out/ar_zoom.txt" 2>&1
