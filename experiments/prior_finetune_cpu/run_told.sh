#!/usr/bin/env bash
# The zoomed fine-tune again, told which windows are zoomed (issue 20): does telling the prior stop its videos drifting
# off the film, as non-leaking augmentation should? `willie train prior_s4_64_zoom_told` takes 60 min on the course's
# CPU, from the H200's prior that ships; then val and the judgements (finetune.sh says which, and how long).
exec bash "$(dirname "$0")/finetune.sh" prior_s4_64_zoom_told told
