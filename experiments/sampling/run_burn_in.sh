#!/usr/bin/env bash
# How many latent frames AR should draw and drop before a video starts (sample_ar's `burn_in`), judged against
# held-out film (issue 20). Clips judged 5 s into each video were nearer the film than clips at the start, at two seed
# sets (run_surprise.sh, ../prior_finetune_cpu/run_5s.sh): this sweeps the burn-in between the default (2 latent
# frames) and 30 (5 s). Default sampler otherwise (0.9, steered to 5 bits, bfloat16 cache); N=48, seeds 0-2, no
# patch-NN row; ~8-12 min each on the course's 2-core CPU. Tables go to experiments/sampling/logs/.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=experiments/sampling/logs; mkdir -p "$out"
source experiments/judge.sh
run() { judge "$out" "$@" --methods ar; }
# burn-in 2 and 30: ar_surprise5.0_bf16 and ar_surprise5.0_bf16_at5s (run_surprise.sh)
run ar_bf16_burn12 --burn-in 12
run ar_bf16_burn6  --burn-in 6
