"""How much of the codebook the film's tokens use, and how much a sample of val's size could show.

    python experiments/code_use/code_use.py [TOKENIZER]   # default magvit_gan_64; needs its token store
    python experiments/code_use/code_use.py causal_s4_64  # the shipped tokenizer (`willie tokenize` builds its store)

Code use measured on a short stretch understates the codebook's use, because codes are used unevenly (Zipf-like).
The last rows draw samples of val's size from the training stream's own code frequencies: the coverage such a sample
reaches is what val could show even if val were distributed exactly like train.

`code_use.txt`, beside this script, is the run on `magvit_gan_64`, which is no longer bundled: its token store needs
`willie train magvit_gan_64` (about 50 min on a CPU) and `willie tokenize --tokenizer magvit_gan_64` first.
"""
import sys
import numpy as np
import torch
from willie.eval.metrics import CodeUsage
from willie.tokens.store import open_token_store


def main(tokenizer:str='magvit_gan_64', draws:int=20):
    ts = open_token_store(tokenizer)
    V = ts.vocab_size
    cat = lambda split, variant=None: np.concatenate([s.ravel() for s in ts.streams(split, variant)])
    rows = [('train, as filmed (p0)', cat('train', 'p0')), ('train, all variants', cat('train')), ('val', cat('val'))]
    print(f"{tokenizer}: {V:,} codes\n| tokens | n | codes used | entropy (bits) |\n|---|---|---|---|")
    use = [CodeUsage(V).update(torch.from_numpy(c.astype(np.int64))) for _, c in rows]
    for (name, c), u in zip(rows, use): print(f"| {name} | {c.size:,} | {u.used:.1%} | {u.entropy_bits:.2f} |")
    counts = use[0].counts.numpy()
    rng = np.random.default_rng(0)
    n_val = rows[2][1].size
    same = [(np.bincount(rng.choice(V, n_val, p=counts / counts.sum()), minlength=V) > 0).mean() for _ in range(draws)]
    flat = [(np.bincount(rng.integers(0, V, n_val), minlength=V) > 0).mean() for _ in range(draws)]
    print(f"| {n_val:,} draws from train's code frequencies (mean of {draws}) | {n_val:,} | {np.mean(same):.1%} | |")
    print(f"| {n_val:,} draws, every code equally likely (mean of {draws}) | {n_val:,} | {np.mean(flat):.1%} | "
          f"{np.log2(V):.2f} |")


if __name__ == '__main__':
    main(*sys.argv[1:2])
