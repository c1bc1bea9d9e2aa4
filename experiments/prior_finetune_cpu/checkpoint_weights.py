"""A run's checkpoint as registry weights in the cache, to judge weights a run did not keep (its EMA at a given step).

    python experiments/prior_finetune_cpu/checkpoint_weights.py RUN_DIR STEP --like prior_s4_64 --name NAME

`willie train` keeps the lowest-val weights; to judge what more training did to the samples whatever it did to val, this
saves the EMA weights of checkpoint STEP of RUN_DIR (e.g. ~/.cache/willie/runs/prior_s4_64_unzoom) under NAME in the
cache's registry, shaped as the registry's `--like` weights. `bench/eval_samples.py --priors NAME ...` then judges them.
"""
import argparse
from pathlib import Path
from safetensors.torch import load_file
from willie.train.weights import cache_dir, known_weights, load_weights, save_weights

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('run', type=Path); p.add_argument('step', type=int)
p.add_argument('--like', required=True); p.add_argument('--name', required=True)
a = p.parse_args()
ckpt = a.run/f'step{a.step:07d}.safetensors'
if not ckpt.exists(): raise SystemExit(f"checkpoint_weights: no {ckpt.name} in {a.run}")
model, e = load_weights(a.like), known_weights()[a.like]
model.load_state_dict({k.removeprefix('ema.'): v for k, v in load_file(str(ckpt)).items() if k.startswith('ema.')})
path = save_weights(model, a.name, {'from': str(ckpt), 'step': a.step, 'weights': 'ema'}, weights_dir=cache_dir(),
                    recipe=e['recipe'], frames=e.get('frames'))
print(f"saved {a.name}: the EMA of {ckpt} -> {path}")
