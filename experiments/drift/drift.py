"""Drift of long generated videos: picture statistics per 5-second window over a minute or more, per method.

    python experiments/drift/drift.py [--seconds 60] [--methods ar maskgit] [--seed 0] [--seeds 1] [--window 5]
                                      [--surprise BITS] [--batch]

Each method generates `--seeds` videos of `--seconds` from nothing (seeds `--seed`, `--seed` + 1, ...; with `--batch`
one batch of them from `--seed`, about twice as fast, and `--surprise` steers AR's temperature) with the bundled
priors (`willie.generate.sampling`), at the method's own temperature unless `--temperature` is given, decoded by the
bundled tokenizer. `willie.generate.sampling.drift` measures every consecutive `--window`-second window:
brightness (mean pixel), contrast (pixel std), sharpness (mean spatial gradient) and motion (mean |frame difference|),
all on the [-1, 1] scale except brightness (0 black, 1 white); `trend` fits a line through each and reports its change
per minute as a fraction of its mean. A video that fades, freezes or dissolves into noise shows a steady trend; a
healthy one wanders around a level; one video's trend is noisy, so the mean over seeds is the figure to read. The
last rows give the same statistics for the film's val footage (whole stretches,
when the film is on this machine), the level the samples should hover around.

`drift.txt`, beside this script, was measured on the first chain (`prior_64` and `maskgit_64` through
`magvit_gan_64`), which no longer ships; `drift_s4.txt` on the bundled chain (`prior_s4_64`, `maskgit_s4_64`,
`causal_s4_64`).
"""
from __future__ import annotations
import argparse, time
import torch

from willie.generate.sampling import SAMPLERS, Generator, drift, generate, sample, trend

KEYS = ('brightness', 'contrast', 'sharpness', 'motion')


def real_levels(window:float, size:int)->dict|None:
    "Mean drift statistics of the val footage's windows (the film at `size`), or None without the film."
    try:
        from willie.data.film import ClipDataset, film_store
        from willie.eval.metrics import footage
        store = film_store(size, progress=False)
        rows = [r for x in footage(ClipDataset(store, 16, split='val', stride=16)) for r in drift(x, store.fps, window)]
    except Exception as e:  # no film here: the samples' own trends still say whether they drift
        print(f"(no real footage for comparison: {e})")
        return None
    return {k: sum(r[k] for r in rows) / len(rows) for k in KEYS} | {'windows': len(rows)}


def videos(gen:Generator, method:str, a, temperature:float, own:dict):
    "(seed, video, latent frames, seconds it took) per video: one `generate` per seed, or with --batch one batch."
    if not a.batch:
        for seed in range(a.seed, a.seed + a.seeds):
            t0 = time.time()
            video, tokens = generate(gen, a.seconds, seed, method=method, temperature=temperature, progress=True, **own)
            yield seed, video, tokens.shape[1], time.time() - t0
        return
    t0, n = time.time(), gen.latent_frames_for(a.seconds)
    tokens = sample(gen.prior(method), method, n, batch=a.seeds, g=torch.Generator().manual_seed(a.seed),
                    temperature=temperature, progress=True, **own)
    secs = (time.time() - t0) / a.seeds
    for tok in tokens:
        with torch.no_grad(): yield a.seed, gen.decode(tok[None]), n, secs


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seconds', type=float, default=60.)
    p.add_argument('--methods', nargs='+', default=list(SAMPLERS), choices=list(SAMPLERS))
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--seeds', type=int, default=1, help='videos per method, seeds --seed, --seed + 1, ...')
    p.add_argument('--window', type=float, default=5.)
    p.add_argument('--temperature', type=float, default=None, help="default: each method's own")
    p.add_argument('--surprise', type=float, default=None, metavar='BITS',
                   help="AR: steer the temperature to hold the tokens' surprise at BITS (sample_ar's surprise; "
                        "default the sampler's own; 0: a fixed temperature)")
    p.add_argument('--batch', action='store_true',
                   help="sample the --seeds videos as one batch from --seed (faster; not `generate`'s per-seed videos)")
    p.add_argument('--threads', type=int, default=2)
    a = p.parse_args()
    if a.surprise is not None and a.methods != ['ar']: p.error('--surprise: AR only (--methods ar)')
    torch.set_num_threads(a.threads)
    gen = Generator.load()
    temps = {m: SAMPLERS[m].temperature if a.temperature is None else a.temperature for m in a.methods}
    own = {} if a.surprise is None else {'surprise': a.surprise}   # 0: a fixed temperature (`sample_ar`)
    print(f"{a.seconds:g} s per video, seeds {a.seed}..{a.seed + a.seeds - 1}, temperature "
          f"{', '.join(f'{m} {t}' for m, t in temps.items())}, AR steered to "
          f"{own.get('surprise', SAMPLERS['ar'].options.get('surprise')) or None} bits, windows of {a.window:g} s, "
          f"{a.threads} threads")
    trends = {}
    for m in a.methods:
        for i, (seed, video, n_latent, secs) in enumerate(videos(gen, m, a, temps[m], own)):
            rows = drift(video, gen.fps, a.window)
            tag = f'video {i} of the batch from seed {a.seed}' if a.batch else f'seed {seed}'
            print(f"\n{m}, {tag}: {video.shape[2]} frames ({video.shape[2] / gen.fps:.1f} s), {n_latent} "
                  f"latent frames, {secs:.0f} s")
            print(f"{'start s':>8} " + ' '.join(f'{k:>10}' for k in KEYS))
            for r in rows: print(f"{r['start_s']:>8.0f} " + ' '.join(f'{r[k]:>10.4f}' for k in KEYS))
            trends[f'{m}, {tag}'] = {k: trend(rows, k) for k in KEYS}
        if a.seeds > 1:
            mine = [t for n, t in trends.items() if n.startswith(f'{m}, ')]
            trends[f'{m}, mean of {a.seeds} videos'] = {k: sum(t[k] for t in mine) / len(mine) for k in KEYS}
    print(f"\n{'trend per minute (fraction of mean)':>36} " + ' '.join(f'{k:>10}' for k in KEYS))
    for m, t in trends.items(): print(f"{m:>36} " + ' '.join(f'{t[k]:>+10.3f}' for k in KEYS))
    if (lv := real_levels(a.window, gen.size)) is not None:
        print(f"{'film val footage, mean of ' + str(lv['windows']) + ' windows':>36} "
              + ' '.join(f'{lv[k]:>10.4f}' for k in KEYS))


if __name__ == '__main__':
    main()
