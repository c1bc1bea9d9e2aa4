#!/usr/bin/env bash
# Steering AR's temperature to hold the surprise (sample_ar's `surprise`), judged against held-out film (issue 20).
# Clips are judged 5 s into each video (--burn-in 30 latent frames), where a fixed temperature has frozen, and at the
# start (the default burn-in). Each setting is one `bench/eval_samples.py` run (N=48, seeds 0-2, no patch-NN row);
# tables go to experiments/sampling/logs/. ~11 min each at 5 s on the course's 2-core CPU, one after another.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=experiments/sampling/logs; mkdir -p "$out"
source experiments/judge.sh
run() { judge "$out" "$@" --methods ar --exact-cache; }   # the records drew AR with the float32 cache
run ar_t0.9_at5s       --burn-in 30 --surprise 0
run ar_surprise5.5_at5s --burn-in 30 --surprise 5.5
run ar_surprise5.0_at5s --burn-in 30 --surprise 5.0
run ar_surprise6.0_at5s --burn-in 30 --surprise 6.0
run ar_surprise5.5     --surprise 5.5
run ar_surprise5.0     --surprise 5.0
# the default since commit c9b7ecf: keys and values in bfloat16, at the same seeds, the same 5 bits, start and 5 s in
judge "$out" ar_surprise5.0_bf16      --methods ar --surprise 5.0
judge "$out" ar_surprise5.0_bf16_at5s --methods ar --surprise 5.0 --burn-in 30
