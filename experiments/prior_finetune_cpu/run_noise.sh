#!/usr/bin/env bash
# The zoomed fine-tune again, reading 10% random codes in its context (issue 20): is its drift off the film exposure
# bias, a prior that never learned to recover from its own wrong draws? `willie train prior_s4_64_zoom_noise` takes
# 275 steps (~55 min on a quiet course CPU) from the H200's prior that ships; then val and the judgements (finetune.sh
# says which, and how long). `python experiments/prior_finetune_cpu/robustness.py prior_s4_64 prior_s4_64_zoom_told
# prior_s4_64_zoom_noise` measures, without sampling, how much each prior suffers from a corrupted context.
exec bash "$(dirname "$0")/finetune.sh" prior_s4_64_zoom_noise noise
