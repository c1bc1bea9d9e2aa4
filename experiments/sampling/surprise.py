"""Why long AR samples freeze: the surprise of each latent frame under the prior, real film against samples.

    python experiments/sampling/surprise.py [--seconds 10] [--videos 3] [--surprise 5.5] [--prior NAME]
                                            [--out surprise.png]

For the val streams of the bundled token store (each stream's first `--seconds`) and for `--videos` AR samples of the
same length from nothing (seeds 0, 1, ...; one batch), at the sampler's fixed temperature and steered to hold each
`--surprise` target (`sample_ar`'s `surprise`): per latent frame, the mean surprise of its tokens under the prior
(`--prior`, a registry name in the package or the cache; default the bundled one) and the share of its tokens that
repeat the token at the same place one latent frame earlier (a frozen video repeats them all), both from
`willie.generate.sampling.frame_surprise`. Prints both per second and draws them against time (`--out`).
"""
from __future__ import annotations
import argparse, time
from pathlib import Path
import numpy as np
import torch
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt

from willie.generate.sampling import SAMPLERS, Generator, frame_surprise, sample
from willie.tokens.store import open_token_store
from willie.train.weights import known_weights


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seconds', type=float, default=10.)
    p.add_argument('--videos', type=int, default=3)
    p.add_argument('--surprise', type=float, nargs='*', default=[5.5], help='steered targets, bits a token')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--prior', default=SAMPLERS['ar'].prior, help="the AR prior's registry name")
    p.add_argument('--out', type=Path, default=Path(__file__).with_name('surprise.png'))
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    prior = a.prior
    gen = Generator.load(prior)
    model = gen.ar.eval()
    t = gen.latent_frames_for(a.seconds)
    per_s = gen.fps / gen.time_factor                     # latent frames per second
    store = open_token_store(known_weights()[prior]['recipe']['data']['tokenizer'])   # the tokens it was trained on
    val = [torch.as_tensor(s[:t]).long()[None] for s in store.streams('val')]
    rows = {'held-out film (val streams)': [frame_surprise(model, v) for v in val if v.shape[1] == t]}
    temp = SAMPLERS['ar'].temperature
    arms = {f'AR, temperature {temp}, fixed': {'surprise': None}} | {f'AR, steered to {s:g} bits': {'surprise': s}
                                                                    for s in a.surprise}
    for name, kw in arms.items():
        t0 = time.time()
        tok = sample(model, 'ar', t, batch=a.videos, g=torch.Generator().manual_seed(0), temperature=temp, **kw)
        rows[name] = [frame_surprise(model, tok)]
        print(f"{name}: {a.videos} videos of {t} latent frames [{time.time() - t0:.0f}s]", flush=True)
    secs = np.arange(t) / per_s
    fig, axs = plt.subplots(1, 2, figsize=(11, 3.4))
    print(f"\nper second of video (latent frames {per_s:.1f} a second); surprise in bits a token / share repeated")
    print(f"{'':>34} " + ' '.join(f'{f"{s}-{s + 1} s":>11}' for s in range(int(a.seconds))))
    for name, parts in rows.items():
        bits, rep = (torch.cat([p[k] for p in parts]).numpy() for k in (0, 1))
        for k, (y, ax) in enumerate(((bits, axs[0]), (rep, axs[1]))):
            ax.plot(secs[1:], np.nanmean(y[:, 1:], 0), label=name)   # frame 0 has no frame before it
            ax.fill_between(secs[1:], np.nanmin(y[:, 1:], 0), np.nanmax(y[:, 1:], 0), alpha=0.15)
        sec = [(secs >= s) & (secs < s + 1) for s in range(int(a.seconds))]
        cells = [f"{np.nanmean(bits[:, m]):5.2f}/{np.nanmean(rep[:, m]):.2f}" for m in sec]
        print(f"{name:>34} " + ' '.join(f'{c:>11}' for c in cells))
    axs[0].set(xlabel='seconds into the video', ylabel='surprise, bits a token', title='surprise under the prior')
    axs[1].set(xlabel='seconds into the video', ylabel='share', title='tokens repeating the latent frame before')
    axs[0].legend(fontsize=8)
    fig.tight_layout(); fig.savefig(a.out, dpi=90)
    print(f"figure: {a.out}")


if __name__ == '__main__':
    main()
