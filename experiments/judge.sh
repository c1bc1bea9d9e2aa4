# Sourced by the experiments' run scripts, from the repository root. `judge OUT TAG [eval_samples options...]` records
# one `bench/eval_samples.py` judgement (no patch-NN row) as OUT/TAG.txt and OUT/TAG.json, each written whole, and
# skips a judgement already recorded, so a script run again carries on where it stopped. THREADS (default 2): its
# threads. Judgements recorded before commit c9b7ecf (2026-12-05) drew AR with the exact float32 KV cache, the default
# then: the scripts that made them pass --exact-cache, so that a rerun draws the same clips. JUDGE (default
# bench/eval_samples.py): the script and its own options before eval_samples' (a wrapper that swaps a sampler in).
judge() { local out=$1 tag=$2 n=${THREADS:-2}; shift 2
  [ -s "$out/$tag.json" ] && { echo "skip $tag (done)"; return; }
  OMP_NUM_THREADS=$n python ${JUDGE:-bench/eval_samples.py} --no-patch-nn --threads "$n" \
    --json "$out/$tag.json.tmp" "$@" \
    > "$out/$tag.txt.tmp" 2>&1 && mv "$out/$tag.txt.tmp" "$out/$tag.txt" && mv "$out/$tag.json.tmp" "$out/$tag.json"; }
