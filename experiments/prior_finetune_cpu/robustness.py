"""Exposure bias, measured without sampling (issue 20): how much worse does each prior predict held-out film when part
of the context it reads is wrong?

    python experiments/prior_finetune_cpu/robustness.py prior_s4_64 prior_s4_64_zoom_told [--windows 30]

A free-running prior reads its own draws, some of them ones the film would not have made; trained only on the film's
own tokens (teacher forcing), it never learns to recover from them. If the CPU fine-tunes drift off the film because
they lean harder on an exact context than the H200's prior does, their loss should rise faster as the context is
corrupted, even though they code clean film better.

Every val window (as `scripts/device_install.py` scores val, float32) is read with a fraction of its context tokens
replaced and the true next tokens as targets, two ways:
- `uniform`: random codes (`corrupt_tokens`, the token-noise augmentation's own corruption);
- `drawn`: codes the shipped prior draws at that place from the clean context before it (temperature 1), plausible
  errors of the kind sampling makes. The replacement tokens and places are the same for every prior compared.
Prints bits per token at each rate, and each prior's rise over its own clean loss.
"""
from __future__ import annotations
import argparse, math
import torch
import torch.nn.functional as F

from willie.priors.transformer import TokenWindows, prior_data
from willie.tokens.store import TokenStore, token_store_path
from willie.train.weights import Recipe, known_weights, load_weights

RATES = (0.0, 0.02, 0.05, 0.1, 0.2)


@torch.no_grad()
def bits(model, inputs:torch.Tensor, targets:torch.Tensor, bs:int=4)->float:
    "Mean next-token loss in bits of `targets[:, 1:]` given `inputs[:, :-1]`"
    total = sum(model(inputs[a:a + bs, :-1], targets[a:a + bs, 1:])[1].item() * len(inputs[a:a + bs])
                for a in range(0, len(inputs), bs))
    return total / len(inputs) / math.log(2)


@torch.no_grad()
def drawn_tokens(model, windows:torch.Tensor, g:torch.Generator, bs:int=4)->torch.Tensor:
    "(N, L) at each place a token `model` draws from the clean context before it (the first place keeps its token)"
    out = windows.clone()
    for a in range(0, len(windows), bs):
        logits, _ = model(windows[a:a + bs, :-1])
        p = F.softmax(logits.float(), -1)
        out[a:a + bs, 1:] = torch.multinomial(p.flatten(0, 1), 1, generator=g).view(p.shape[:2])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('priors', nargs='+', help='registry names (package or cache) of AR priors on the same tokens')
    ap.add_argument('--windows', type=int, default=None, help='use this many val windows, evenly spread (default all)')
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(2)
    known = known_weights()
    if missing := [n for n in a.priors if n not in known]:
        raise SystemExit(f"no weights named {missing[0]!r} in the package or the cache")
    recipe = Recipe.from_dict(known[a.priors[0]]['recipe'])
    store = TokenStore(token_store_path(recipe.data.tokenizer), recipe.data.tokenizer)
    _, val = prior_data(recipe, store, train=False)
    models = {n: load_weights(n) for n in a.priors}
    drafter = 'prior_s4_64' if 'prior_s4_64' in models else a.priors[0]   # whose draws are the plausible errors
    c = models[a.priors[0]].cfg
    w = TokenWindows(val, c.context, c.grid, stride=max(1, c.context // c.frame_tokens))
    idx = range(len(w)) if a.windows is None else torch.linspace(0, len(w) - 1, a.windows).round().long().tolist()
    clean = torch.stack([w[int(i)] for i in idx])
    g = torch.Generator().manual_seed(a.seed)
    replacement = {'uniform': torch.randint(c.vocab_size, clean.shape, generator=g),
                   'drawn': drawn_tokens(models[drafter], clean, g)}
    places = torch.rand(clean.shape, generator=g)   # one draw: a lower rate's places are a subset of a higher one's
    print(f"{len(clean)} val windows of {c.context} tokens; 'drawn' codes come from {drafter}; "
          "bits per token (rise over the clean loss)")
    print(f"{'corruption':<10} {'rate':>5} " + ' '.join(f"{n:>28}" for n in a.priors))
    base = {}
    for kind, rep in replacement.items():
        for rate in RATES:
            if kind != 'uniform' and rate == 0: continue
            inputs = torch.where(places < rate, rep, clean)
            row = []
            for n, m in models.items():
                b = bits(m, inputs, clean)
                if rate == 0: base[n] = b
                row.append(f"{b:>18.3f} ({b - base[n]:+.3f})")
            print(f"{kind if rate else 'none':<10} {rate:>5.2f} " + ' '.join(f"{r:>28}" for r in row), flush=True)


if __name__ == '__main__': main()
