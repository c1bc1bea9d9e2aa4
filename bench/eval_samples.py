"""Are the priors' samples novel, on-model and film-like?
One table: generated 17-frame clips against held-out val clips.

    OMP_NUM_THREADS=2 python bench/eval_samples.py                 # N=48 per method: ~10 min on the course's 2-core CPU
    python bench/eval_samples.py --quick                            # a smoke test: N=8, a few minutes
    python bench/eval_samples.py --methods maskgit --steps 12 --temperature 0.9 --top-k 200

Needs the film's 64x64 clip store (`willie prepare`), the token store of the priors' tokenizer (`willie tokenize`) and
the bundled priors `prior_s4_64` (autoregressive) and `maskgit_s4_64` (MaskGIT), or the two named by `--priors`; it
stops with one line when any is missing.

The sets (every clip is 17 frames of 64x64: 5 latent frames of a causal tokenizer that downsamples time by 4):
- real val A, the reference every other row is compared with, and real val B, a second held-out set whose frames are
  disjoint from A's: the val frames are cut into 80-frame periods, A's windows (start every 4 frames) lie in the first
  40 frames of each period, B's in the last 40; so A and B show the same scenes but share no frame. The film has only
  ~40 s of val footage, so the windows inside one set overlap (13 of 17 frames with their neighbour).
- val B through the tokenizer (`tokenize` then `detokenize`): the ceiling a prior over these tokens can reach.
- train clips through the tokenizer: what an exact copy of training tokens would score (its nearest-train SSIM is the
  memorisation end of the scale).
- unigram: every token drawn i.i.d. from the train tokens' histogram (the tokenizer's store, split train, variant p0).
- patch NN: the no-learning yardstick (`willie.eval.patch_nn.patch_nn_samples`, after VGPNN): each clip made by
  space-time patch nearest neighbours, coarse to fine, from a random 64-frame window of one training shot (not decoded:
  its patches are the film's own pixels). `--no-patch-nn` leaves it out.
- ar / maskgit: N clips sampled as `willie generate` samples them, through `willie.generate.sampling.sample` (batch of
  16 per seed; AR drops 2 latent frames of burn-in, MaskGIT fills whole windows and keeps the first 5 latent frames), at
  each method's own temperature unless `--temperature` is given, decoded with `detokenize`.
  Batch i of a method is drawn with `torch.Generator().manual_seed(seed + i)`.
- with `--prompt`, also each method from a held-out frame (what `willie generate --prompt` does): clip i starts from
  the tokens of the first frame of val B's clip i (cycling through B; B is disjoint from the reference A), and the
  method samples the other latent frames after it. The judged clip keeps that first, real frame (1 of 17).

The columns:
- nearest-train SSIM: for each clip, the SSIM (`willie.eval.metrics.ssim`, 64x64, mean over the 17 frames) to its most
  similar training window, over *every* 17-frame window of the train split (stride 1, inside one shot), found with
  `willie.apps.gallery.NearestClips` (the sample browser's lookup). Exhaustive
  exact SSIM would be ~10^6 pairs, so it is searched in two stages: a cheap proxy, the L2 distance between the clips
  at 32x32 (2x2 average pooling), computed for all train windows at once from one frame-by-frame matrix product; then
  exact SSIM against the proxy's `--candidates` best windows (kept at least 3 frames apart, so that they are not all
  shifts of one moment). Shown as median [interquartile range].
- Z_U (data copying, after Meehan et al. 2020, simplified): the Mann-Whitney U statistic of the set's distances
  (1 - nearest SSIM) against real val A's, as a z-score (tie-corrected normal approximation). Meehan et al. compute it
  per cell of a k-means partition of the training set and average over cells; here it is one test over all clips.
  Z_U << 0: the set sits closer to training clips than held-out film does (memorisation); Z_U >> 0: further away
  (off-model; decoded clips are also blurrier than film, so compare with the tokenizer rows, not with 0).
- C2ST vs real A: `willie.eval.judges.two_sample_test(real val A, set)`, the held-out accuracy of a small 3-D CNN
  (`ClipCritic`) trained to tell them apart, with Wilson's 95% interval: 50% = indistinguishable, 100% = every clip
  gives itself away. The sets are small (~50-70 clips), so the intervals are wide. The critic tells the tokenizer's
  own reconstructions from film every time (bench/two_sample.py), so every decoded set scores ~100% here; hence
- C2ST vs A through the tokenizer: the same test against real val A tokenized and decoded, for the decoded sets only:
  whatever the critic still finds is the prior's doing, not the decoder's (val B through the tokenizer is the floor).
- C2ST vs train through the tokenizer: the same test against another draw of train clips (as many as real val A,
  seed + 1), tokenized and decoded. Val is other scenes than train (the film's time blocks), so held-out film is told
  from train-like clips however film-like they are: a training clip through the tokenizer, a copy, scores ~0.87 in
  the column before. This one asks the question a prior of the train tokens can answer: are its clips like the film
  it learned from? A copy scores ~0.5 here, and val B through the tokenizer shows how far the val scenes lie.
- FD (tokenizer-encoder features): a Frechet distance between real val A and the set in the feature space of the
  tokenizer's encoder (`tokenizer.encode`, the continuous latents before quantisation, (channels, latent frames, h, w)
  per clip), pooled to 4 numbers per latent channel: its mean, its standard deviation, its mean
  |difference between consecutive latent frames| (motion) and its mean |difference between neighbouring positions|
  (detail). It is NOT FVD (no pretrained I3D network can be had here) and is not comparable with published numbers;
  with ~70 clips it is biased upwards, which is what the real-vs-real row (val B) measures: read it as the floor.
  Its interval is a percentile bootstrap over the set's clips (real val A held fixed): how far the distance moves with
  which clips were drawn. Resampling repeats clips, which biases the resampled distances up, so the interval is wide
  on the high side; two runs at other seeds are the check (experiments/prior_finetune_cpu).
- motion x and sharpness x: mean |frame difference| (`willie.eval.metrics.frame_differences`) and mean spatial gradient
  (`willie.eval.metrics.spatial_gradient`) of the set, divided by real val A's.
"""
from __future__ import annotations
import argparse, contextlib, io, json, math, time
from pathlib import Path
import numpy as np
import torch
from scipy import linalg, stats

from willie.data.film import ClipDataset, film_store
from willie.apps.gallery import NearestClips
from willie.generate.sampling import SAMPLERS, Generator, sample
from willie.eval.judges import two_sample_test
from willie.eval.patch_nn import patch_nn_samples
from willie.eval.metrics import frame_differences, spatial_gradient
from willie.tokens.store import TokenStore, token_store_path
from willie.train.weights import known_weights

CLIP_LEN = 17   # frames of every judged clip; its latent frames come from the tokenizer (`latent_frames`)
PRIORS = {'ar': 'prior_s4_64', 'maskgit': 'maskgit_s4_64'}
REAL_B = 'real val B (held out, disjoint from A)'
PATCH_NN = 'patch NN from one train shot (no learning)'


@contextlib.contextmanager
def quiet():
    "Silence the critic's progress bar and training log (`two_sample_test`)."
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()): yield


# ---- data ----------------------------------------------------------------------------------------------------------
def val_sets(store, period:int=80, every:int=4)->tuple:
    """Two frame-disjoint sets of val windows (A: first half of every `period` frames, B: second half), start every
    `every` frames."""
    ds = ClipDataset(store, CLIP_LEN, split='val', stride=1)
    off, half = ds.starts % period, period // 2
    in_a = (off <= half - CLIP_LEN) & (off % every == 0)
    in_b = (off >= half) & (off - half <= half - CLIP_LEN) & ((off - half) % every == 0)
    take = lambda m: torch.stack([ds[int(i)] for i in np.flatnonzero(m)])
    return take(in_a), take(in_b)


def train_clips(store, n:int, seed:int)->torch.Tensor:
    "`n` train windows drawn at random (without replacement) by `seed`."
    ds = ClipDataset(store, CLIP_LEN, split='train', stride=1)
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n]
    return torch.stack([ds[int(i)] for i in idx])


def unigram(store:TokenStore)->torch.Tensor:
    "The train tokens' histogram (variant p0), as probabilities."
    counts = sum(np.bincount(np.asarray(s, dtype=np.int64).ravel(),
                             minlength=store.vocab_size) for s in store.streams('train', 'p0'))
    return torch.as_tensor(counts, dtype=torch.float64) / counts.sum()


# ---- the sets ------------------------------------------------------------------------------------------------------
@torch.no_grad()
def decode(tokenizer, tokens:torch.Tensor, bs:int=16)->torch.Tensor:
    "(N, 5, h, w) tokens -> (N, 1, 17, 64, 64) clips."
    return torch.cat([tokenizer.detokenize(tokens[a:a + bs]) for a in range(0, len(tokens), bs)])


@torch.no_grad()
def through_tokenizer(tokenizer, clips:torch.Tensor, bs:int=16)->torch.Tensor:
    "Clips tokenized and decoded: what the tokens can hold of them."
    return decode(tokenizer, torch.cat([tokenizer.tokenize(clips[a:a + bs]) for a in range(0, len(clips), bs)]), bs)


def latent_frames(tokenizer)->int:
    "Latent frames of a `CLIP_LEN`-frame clip, by the tokenizer's own geometry."
    return tokenizer.token_shape((CLIP_LEN, 64, 64))[0]


def unigram_clips(tokenizer, p:torch.Tensor, n:int, seed:int, grid:tuple)->torch.Tensor:
    "Clips decoded from tokens drawn i.i.d. from `p`."
    t = latent_frames(tokenizer)
    tok = torch.multinomial(p.float(), n * t * grid[0] * grid[1], replacement=True,
                            generator=torch.Generator().manual_seed(seed))
    return decode(tokenizer, tok.view(n, t, *grid))


@torch.no_grad()
def prompts_from(tokenizer, clips:torch.Tensor, n:int)->torch.Tensor:
    "(n, 1, h, w) tokens of the first frame of `clips` 0, 1, ... (cycling): one latent frame to continue from."
    first = clips[torch.arange(n) % len(clips), :, :1]                     # (n, 1, 1, 64, 64)
    return torch.cat([tokenizer.tokenize(first[a:a + 16]) for a in range(0, n, 16)])


def sample_clips(gen:Generator, method:str, n:int, seed:int, bs:int=16, steps:int=10,
                 prompts:torch.Tensor|None=None, **kw)->tuple:
    """(N, 1, 17, 64, 64) clips sampled by `method` in batches, batch i from seed + i, each after its row of `prompts`
    ((N, t0, h, w) tokens) if given; and the seeds used."""
    out, seeds, t = [], [], latent_frames(gen.tokenizer)
    own = {'steps': steps} if 'steps' in SAMPLERS[method].options else {}
    for i, a in enumerate(range(0, n, bs)):
        b, g = min(bs, n - a), torch.Generator().manual_seed(seed + i)
        if prompts is None: tok = sample(gen.prior(method), method, t, batch=b, g=g, **own, **kw)  # as `generate`
        else:
            p = prompts[a:a + b]
            tok = sample(gen.prior(method), method, t - p.shape[1], prompt=p, g=g, **own, **kw)
        out.append(decode(gen.tokenizer, tok)); seeds.append(seed + i)
    return torch.cat(out), seeds


# ---- nearest training clip -----------------------------------------------------------------------------------------
def mann_whitney_z(x:np.ndarray, ref:np.ndarray)->float:
    "Z-score of the Mann-Whitney U of `x` against `ref` (tie-corrected): > 0 when x tends to be larger."
    n1, n2 = len(x), len(ref)
    r = stats.rankdata(np.concatenate([x, ref]))
    u = r[:n1].sum() - n1 * (n1 + 1) / 2
    t = np.unique(r, return_counts=True)[1].astype(float)
    var = n1 * n2 / 12 * ((n1 + n2 + 1) - (t**3 - t).sum() / ((n1 + n2) * (n1 + n2 - 1)))
    return float((u - n1 * n2 / 2) / math.sqrt(var))


# ---- Frechet distance in the tokenizer encoder's space --------------------------------------------------------------
@torch.no_grad()
def encoder_features(tokenizer, clips:torch.Tensor, bs:int=16)->np.ndarray:
    "(N, 20): per latent channel, mean, std, mean |latent-frame difference|, mean |neighbour difference| of `encode`."
    out = []
    for a in range(0, len(clips), bs):
        z = tokenizer.encode(clips[a:a + bs]).double()                                          # (b, c, t, h, w)
        dt = (z[:, :, 1:] - z[:, :, :-1]).abs().mean((2, 3, 4))
        dxy = ((z[..., 1:, :] - z[..., :-1, :]).abs().mean((2, 3, 4))
               + (z[..., 1:] - z[..., :-1]).abs().mean((2, 3, 4))) / 2
        out.append(torch.cat([z.mean((2, 3, 4)), z.std((2, 3, 4)), dt, dxy], 1))
    return torch.cat(out).numpy()


def frechet(f1:np.ndarray, f2:np.ndarray)->float:
    "Frechet distance between Gaussians fitted to two feature sets: |mu1-mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^1/2)."
    m1, m2, s1, s2 = f1.mean(0), f2.mean(0), np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(((m1 - m2)**2).sum() + np.trace(s1 + s2 - 2 * covmean))


def frechet_ci(ref:np.ndarray, f:np.ndarray, seed:int=0, n_boot:int=200)->list:
    "95% percentile-bootstrap interval of `frechet(ref, f)` over which clips `f` holds (`ref` fixed)."
    rng = np.random.default_rng(seed)
    fds = [frechet(ref, f[rng.integers(0, len(f), len(f))]) for _ in range(n_boot)]
    return np.percentile(fds, [2.5, 97.5]).tolist()


# ---- the table -----------------------------------------------------------------------------------------------------
def critic(real:torch.Tensor, x:torch.Tensor, a)->dict:
    "`two_sample_test` of `real` against `x`, quietly."
    with quiet(): return two_sample_test(real, x, steps=a.critic_steps, seed=a.seed)


def score(name:str, x:torch.Tensor, ref:dict, tokenizer, index:NearestClips, a, decoded:bool=True)->dict:
    "Every column for one set against the reference (real val A; for decoded sets also A through the tokenizer)."
    t0 = time.time()
    near, _ = index.nearest(x, a.candidates)
    row = dict(name=name, n=len(x), near=near.numpy())
    row['z'] = mann_whitney_z(1 - row['near'], 1 - ref['near']) if 'near' in ref else None
    if 'clips' in ref:
        row['c2st'] = critic(ref['clips'], x, a)
        if decoded: row['c2st_tok'], row['c2st_train'] = critic(ref['tok_clips'], x, a), critic(ref['train_tok'], x, a)
        feats = encoder_features(tokenizer, x)
        row['fd'], row['fd_ci95'] = frechet(ref['feats'], feats), frechet_ci(ref['feats'], feats, a.seed)
        row['motion'] = (frame_differences(x).mean() / ref['motion']).item()
        row['sharp'] = (spatial_gradient(x) / ref['sharp']).item()
    row['secs'] = time.time() - t0
    print(f"  {name}: {len(x)} clips scored [{row['secs']:.0f}s]", flush=True)
    return row


def fmt(r:dict)->str:
    q = np.percentile(r['near'], [25, 50, 75])
    acc = lambda c: '—' if c is None else f"{c['accuracy']:.2f} [{c['ci95'][0]:.2f}–{c['ci95'][1]:.2f}]"
    cells = [r['name'], str(r['n']), f"{q[1]:.3f} [{q[0]:.3f}–{q[2]:.3f}]", '—' if r['z'] is None else f"{r['z']:+.1f}"]
    if 'c2st' in r:
        fd = f"{r['fd']:.3f} [{r['fd_ci95'][0]:.2f}–{r['fd_ci95'][1]:.2f}]"
        cells += [acc(r['c2st']), acc(r.get('c2st_tok')), acc(r.get('c2st_train')), fd, f"{r['motion']:.2f}",
                  f"{r['sharp']:.2f}"]
    else: cells += ['—', '—', '—', '—', '1.00', '1.00']
    return '| ' + ' | '.join(cells) + ' |'


def fail(msg:str):
    raise SystemExit(f"eval_samples: {msg}")


def load(methods)->tuple:
    "The clip store, the token store and the models, or one line saying what is missing."
    reg = known_weights()   # the package's, then what `willie train` saved in the cache
    if missing := [PRIORS[m] for m in methods if PRIORS[m] not in reg]:
        fail(f"no trained weights for {', '.join(missing)} in the package's or the cache's registry yet (train them, "
             "or leave the method out with --methods)")
    try: store = film_store(64, progress=False)
    except (FileNotFoundError, ValueError) as e: fail(str(e).splitlines()[0])
    gen = Generator.load(PRIORS['ar'] if 'ar' in methods else None, PRIORS['maskgit'] if 'maskgit' in methods else None)
    tok_name = next(iter({reg[PRIORS[m]]['recipe']['data']['tokenizer'] for m in methods}))
    path = token_store_path(tok_name, 64)
    if not (path/'manifest.json').exists():
        fail(f"no token store at {path}: build it with `willie tokenize --tokenizer {tok_name}`")
    return store, TokenStore(path, tok_name), gen


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n', type=int, default=48,
                   help='generated clips per method (and clips of the train and unigram rows)')
    p.add_argument('--methods', nargs='*', default=['ar', 'maskgit'], choices=list(PRIORS))
    p.add_argument('--priors', nargs=2, metavar=('AR', 'MASKGIT'), default=None,
                   help=f"registry names of the two priors (default: {PRIORS['ar']} {PRIORS['maskgit']})")
    p.add_argument('--temperature', type=float, default=None,
                   help="default: each method's own (SAMPLERS[m].temperature)")
    p.add_argument('--top-k', type=int, default=None)
    p.add_argument('--top-p', type=float, default=None)
    p.add_argument('--steps', type=int, default=10, help='MaskGIT decoding rounds')
    p.add_argument('--seed', type=int, default=0,
                   help='batch i of a method is drawn from seed + i; also the critic and the draws of the baselines')
    p.add_argument('--bs', type=int, default=16, help='clips sampled at once')
    p.add_argument('--candidates', type=int, default=8,
                   help='train windows per clip checked with exact SSIM after the proxy search')
    p.add_argument('--critic-steps', type=int, default=300, help='training steps of the two-sample critic')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--quick', action='store_true',
                   help='a smoke test: N=8, 4 candidates, 30 critic steps, every 4th real clip')
    p.add_argument('--no-patch-nn', action='store_true', help='leave out the patch nearest-neighbour yardstick')
    p.add_argument('--exact-cache', action='store_true',
                   help="AR with an exact float32 KV cache (cache_dtype=None, slower) instead of its bfloat16 default")
    p.add_argument('--surprise', type=float, default=None, metavar='BITS',
                   help="AR steering each video's temperature to hold its tokens' surprise at BITS (sample_ar's "
                        "surprise; default the sampler's own; 0: a fixed temperature)")
    p.add_argument('--burn-in', type=int, default=None, metavar='N',
                   help="AR: latent frames generated and dropped before the judged clip (default the sampler's, 2); "
                        "60 judges clips from 10 s into each video")
    p.add_argument('--prompt', action='store_true',
                   help='also sample each method from held-out frames (val B first frames), as --prompt does')
    p.add_argument('--json', default=None, help='also write the table to this JSON file')
    a = p.parse_args(argv)
    if not a.methods: fail("--methods: name at least one of ar, maskgit")
    if a.priors: PRIORS.update(ar=a.priors[0], maskgit=a.priors[1])
    if a.quick: a.n, a.candidates, a.critic_steps = min(a.n, 8), 4, 30
    for flag, given in (('--exact-cache', a.exact_cache), ('--surprise', a.surprise is not None),
                        ('--burn-in', a.burn_in is not None)):
        if given and a.methods != ['ar']: fail(f"{flag}: AR only (--methods ar)")
    if a.surprise is not None and a.surprise < 0: fail(f"--surprise: bits a token must be >= 0, got {a.surprise}")
    if a.burn_in is not None and a.burn_in < 0: fail(f"--burn-in: latent frames must be >= 0, got {a.burn_in}")
    sample_kw = dict(temperature=a.temperature, top_k=a.top_k, top_p=a.top_p)
    if a.exact_cache: sample_kw['cache_dtype'] = None
    if a.surprise is not None: sample_kw['surprise'] = a.surprise   # 0: a fixed temperature
    if a.burn_in is not None: sample_kw['burn_in'] = a.burn_in
    # the record keeps the target AR was steered to (None: a fixed temperature), given or the sampler's own
    steered = sample_kw.get('surprise', SAMPLERS['ar'].options.get('surprise')) or None
    a.surprise = steered if 'ar' in a.methods else None
    torch.set_num_threads(a.threads)
    t_start = time.time()
    store, tokens, gen = load(a.methods)

    t0 = time.time()
    val_a, val_b = val_sets(store)
    if a.quick: val_a, val_b = val_a[::4], val_b[::4]
    index = NearestClips(store, CLIP_LEN)
    print(f"real val: A {len(val_a)} clips, B {len(val_b)} clips (frame-disjoint); train: {len(index.starts)} windows "
          f"(every start, stride 1) [{time.time() - t0:.0f}s]", flush=True)

    sets, seeds = {}, {}
    t0 = time.time()
    sets[REAL_B] = val_b
    sets['val B through the tokenizer (ceiling)'] = through_tokenizer(gen.tokenizer, val_b)
    sets['train clips through the tokenizer (a copy)'] = through_tokenizer(gen.tokenizer,
                                                                           train_clips(store, a.n, a.seed))
    sets['unigram tokens (trivial baseline)'] = unigram_clips(gen.tokenizer, unigram(tokens), a.n, a.seed,
                                                              tuple(tokens.grid))
    print(f"baselines coded [{time.time() - t0:.0f}s]", flush=True)
    if not a.no_patch_nn:
        t0 = time.time()
        sets[PATCH_NN] = patch_nn_samples(store, a.n, CLIP_LEN, seed=a.seed)
        print(f"{PATCH_NN}: {a.n} clips [{time.time() - t0:.0f}s]", flush=True)
    gen_secs = {}
    for m in a.methods:
        t0 = time.time()
        label = f"{m} samples" + (f" ({a.steps} steps)" if m == 'maskgit' else '')
        sets[label], seeds[m] = sample_clips(gen, m, a.n, a.seed, a.bs, a.steps, **sample_kw)
        gen_secs[m] = time.time() - t0
        print(f"{label}: {a.n} clips, seeds {seeds[m]} [{gen_secs[m]:.0f}s]", flush=True)
        if a.prompt:
            t0 = time.time()
            sets[f"{label}, from a held-out frame"], _ = sample_clips(
                gen, m, a.n, a.seed, a.bs, a.steps, prompts=prompts_from(gen.tokenizer, val_b, a.n), **sample_kw)
            print(f"{label}, from a held-out frame: {a.n} clips [{time.time() - t0:.0f}s]", flush=True)

    print("scoring:", flush=True)
    ref = score('real val A (reference)', val_a, {}, gen.tokenizer, index, a)
    ref |= dict(clips=val_a, tok_clips=through_tokenizer(gen.tokenizer, val_a),
                train_tok=through_tokenizer(gen.tokenizer, train_clips(store, len(val_a), a.seed + 1)),
                feats=encoder_features(gen.tokenizer, val_a), motion=frame_differences(val_a).mean(),
                sharp=spatial_gradient(val_a))
    undecoded = (REAL_B, PATCH_NN)
    rows = [ref] + [score(name, x, ref, gen.tokenizer, index, a,
                          decoded=name not in undecoded) for name, x in sets.items()]
    if a.json:
        tensors = ('clips', 'tok_clips', 'train_tok', 'feats')   # the reference's: not a record
        keep = lambda r: {k: (np.percentile(v, [25, 50, 75]).tolist() if k == 'near' else v) for k, v in r.items()
                          if k not in tensors}
        Path(a.json).write_text(json.dumps(dict(args=vars(a), seeds=seeds, gen_secs=gen_secs,
                                                rows=[keep(r) for r in rows]),
                                           indent=1, default=str))

    temps = a.temperature if a.temperature is not None else ', '.join(f'{m} {SAMPLERS[m].temperature}'
                                                                      for m in a.methods)
    print(f"\nSamples vs held-out film: 17-frame clips at 64x64; N={a.n} per method; temperature {temps}, top-k "
          f"{a.top_k}, top-p {a.top_p}, AR steered to {a.surprise} bits, AR burn-in {a.burn_in or 'default'}, "
          f"MaskGIT {a.steps} steps; sampling seeds {seeds} (one per batch of {a.bs}); "
          f"train-clip and unigram draws, critic: seed {a.seed}, {a.critic_steps} critic steps; "
          f"{a.candidates} exact-SSIM candidates per clip{'; --quick' if a.quick else ''}\n")
    print("| set | N | nearest-train SSIM, median [IQR] | Z_U vs held-out (<0 copying, >0 off-model) | C2ST vs real A "
          "[95% CI] (50% = indistinguishable) | C2ST vs A through the tokenizer [95% CI] | C2ST vs train through the "
          "tokenizer [95% CI] | FD (tokenizer-encoder features, not FVD) [95% bootstrap CI] | motion × | sharpness × |"
          "\n|---|---|---|---|---|---|---|---|---|---|")
    for r in rows: print(fmt(r))
    print(f"\nGeneration: {', '.join(f'{m} {gen_secs[m]:.0f}s ({a.n / gen_secs[m]:.1f} clips/s)' for m in a.methods)}; "
          f"total {time.time() - t_start:.0f}s on {a.threads} thread(s).")


if __name__ == '__main__': main()
