"""The H200's AR prior, which `prior_s4_64` shipped as before the CPU fine-tune, back in the cache to compare with.

    python experiments/prior_finetune_cpu/h200_prior.py [--commit 456ddd5] [--name prior_s4_64_h200]

Reads the weights and the registry entry from the commit that installed them (git history; no download) and saves them
under NAME in the cache's registry, where `bench/eval_samples.py --priors NAME maskgit_s4_64` finds them.
"""
import argparse, io, json, subprocess
from safetensors.torch import load
from willie.priors.transformer import Prior, PriorConfig
from willie.train.weights import cache_dir, save_weights

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--commit', default='456ddd5', help='the commit that installed the H200 chain')
p.add_argument('--name', default='prior_s4_64_h200')
a = p.parse_args()
show = lambda path: subprocess.run(['git', 'show', f'{a.commit}:willie/weights/{path}'], check=True,
                                   capture_output=True).stdout
e = json.loads(show('registry.json'))['prior_s4_64']
model = Prior(PriorConfig(**e['config']))
model.load_state_dict(load(show(e['file'])))
path = save_weights(model.eval(), a.name, e['metrics'] | {'from_commit': a.commit}, weights_dir=cache_dir(),
                    recipe=e['recipe'], frames=e.get('frames'))
print(f"saved {a.name} (the H200's prior_s4_64 of {a.commit}) -> {path}")
