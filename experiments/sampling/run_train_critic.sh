#!/usr/bin/env bash
# The shipped priors judged again with eval_samples' critic against train clips through the tokenizer (added
# 2026-12-05, commit 405ab0f): the same clips as the records named below (same seeds, sampler and cache), so the old
# columns must come out as recorded and only the new one is new. ~8-12 min each on the course's 2-core CPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=experiments/sampling/logs; mkdir -p "$out"
source experiments/judge.sh
# as ar_surprise5.0_at5s (float32 cache, 5 s in): the H200's prior beside the told fine-tune of prior_finetune_cpu
judge "$out" ar_surprise5.0_at5s_traincritic --methods ar --exact-cache --surprise 5.0 --burn-in 30
# as ar_surprise5.0_bf16 (the default sampler: bfloat16 cache, from latent frame 2)
judge "$out" ar_surprise5.0_bf16_traincritic --methods ar --surprise 5.0
# as maskgit_t0.9 (MaskGIT's default)
judge "$out" maskgit_t0.9_traincritic --methods maskgit --temperature 0.9
