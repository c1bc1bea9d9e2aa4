#!/usr/bin/env bash
# Sampling settings for the shipped s4 pair, judged against held-out film (issue 20). Each setting is one
# `bench/eval_samples.py` run (N=48, seeds 0-2, no patch-NN row); tables go to experiments/sampling/logs/.
# Runs one after another on one thread: ~10 min each on the course's 2-core CPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=experiments/sampling/logs; mkdir -p "$out"
source experiments/judge.sh
run() { THREADS=1 judge "$out" "$@"; }
run ar_t0.9_p0.95   --methods ar --exact-cache --temperature 0.9 --top-p 0.95
run ar_t1.0_p0.9    --methods ar --exact-cache --temperature 1.0 --top-p 0.9
run ar_t0.9_k200    --methods ar --exact-cache --temperature 0.9 --top-k 200
run maskgit_t0.9    --methods maskgit --temperature 0.9
run maskgit_t1.0_s20 --methods maskgit --temperature 1.0 --steps 20
run maskgit_t0.9_s20 --methods maskgit --temperature 0.9 --steps 20
run maskgit_t1.0     --methods maskgit --temperature 1.0
