"""The token-rate study (issue 19): which token grid should the course's tokenizer use?

    python experiments/rate_study/run.py train [--minutes 20] [--only t4s8_12 ...]   # each candidate, equal CPU budget
    python experiments/rate_study/run.py eval                                          # scores -> results.json
    python experiments/rate_study/run.py prior-cost                                    # AR sampling speed at each grid

Every candidate is the course's causal tokenizer (06/08) with the same widths, trained by the same recipe (phase 1,
reconstruction only) for the same budget of CPU time: `minutes` of this process's CPU time per torch thread, so
other work on the machine does not eat into one candidate's budget more than another's. They differ only in the
token grid (how far time and space are downsampled, by `time_down` and `patch`) and the FSQ levels (codes a token).
A run is resumable: it checkpoints under <willie_home>/runs/rate_<name>. The weights go to the cache registry as
`rate_<name>` (not shipped); `eval` scores them on the film's val footage exactly as `willie eval-tokenizer --jod`,
and H.264 on the same frames, clip by clip and whole, over a sweep of rates.
"""
from __future__ import annotations
import argparse, json, math, sys, time
from dataclasses import replace
from pathlib import Path
import torch

from willie.tokenizers.magvit import MagvitRecipe, magvit_recipe
from willie.tokenizers.rates import RATE_CANDIDATES

HERE = Path(__file__).parent
RESULTS = HERE/'results.json'
CANDIDATES = RATE_CANDIDATES   # the grids, from notebook 08a

BS, CLIP = 8, 17
# floating-point operations of training each: t4s8_16's 384 steps (what it did in 8 minutes of CPU a thread)
BUDGET = 384 * 189_508_091_904

def step_flops(cfg)->float:
    "Floating-point operations of one training step (forward and backward, batch `BS`), counted by PyTorch"
    from torch.utils.flop_counter import FlopCounterMode
    from willie.tokenizers.causal import CausalTokenizer
    from willie.tokenizers.video_vae import recon_loss
    model, x = CausalTokenizer(cfg), torch.zeros(BS, 1, CLIP, 64, 64)
    with FlopCounterMode(display=False) as fc: recon_loss(model, x)[0].backward()
    return fc.get_total_flops()

def candidate_recipe(cfg, steps:int)->MagvitRecipe:
    "Phase 1 of the course's tokenizer recipe for `steps` steps of batch 8; the rest as 08 trains it"
    r = magvit_recipe(recon_steps=steps, gan_steps=0, model=cfg)
    return replace(r, recon=replace(r.recon, bs=BS, warmup=min(100, steps // 10), eval_every=150))

def cmd_train(a):
    from willie.apps.recipes import train_recipe
    torch.set_num_threads(a.threads)
    for name in a.only or CANDIDATES:
        what, cfg = CANDIDATES[name]
        flops = step_flops(cfg); steps = round(BUDGET / flops)
        print(f"== rate_{name}: {what}; {flops / 1e9:.0f} GFLOP a step: {steps} steps of {BS} "
              f"for {BUDGET / 1e12:.0f} TFLOP",
              flush=True)
        t0 = time.time()
        train_recipe(candidate_recipe(cfg, steps), name=f'rate_{name}', progress=False)
        print(f"== rate_{name} done in {time.time() - t0:.0f} s wall", flush=True)

def val_footage():
    "The val footage `willie eval-tokenizer` scores (16-frame windows, stretches inside one shot), and its clips alone"
    from einops import rearrange
    from willie.data.film import ClipDataset, film_store
    from willie.eval.metrics import Footage, footage
    fp = footage(ClipDataset(film_store(64), 16, split='val', stride=16))
    whole = lambda x: x[:, :, :x.shape[2] // 16 * 16]
    clips = Footage((w[None] for x in fp for w in rearrange(whole(x), '1 c (n t) h w -> n c t h w', t=16)), fps=fp.fps)
    return fp, clips

KEYS = ('bpp', 'psnr', 'ssim', 'jod', 'sharpness', 'motion', 'seams', 'code_use', 'n_clips')

def cmd_eval(a):
    "Each trained candidate (and the shipped GPU-trained tokenizer) on val with JOD; H.264 over a sweep of rates"
    from willie.eval.judges import h264_footage
    from willie.eval.metrics import evaluate_tokenizer, score_footage
    from willie.train.weights import known_weights, load_weights
    torch.set_num_threads(a.threads)
    res = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    fp, clips = val_footage()
    reg = known_weights()
    for name in [f'rate_{n}' for n in CANDIDATES] + ['causal_s4_64']:
        if name not in reg: print(f"{name}: not trained yet (run.py train)"); continue
        if name in res.get('tokenizers', {}) and not a.again: continue
        t0, m = time.time(), load_weights(name)
        r = evaluate_tokenizer(m, fp, progress=False, with_jod=True)
        e = reg[name]
        row = {k: r[k] for k in KEYS if k in r} | dict(
            grid=list(m.token_shape((17, 64, 64))), codebook_size=m.codebook_size,
            trained_on=e.get('trained', {}).get('device', 'CPU (2 cores)'),
            **{k: e['metrics'].get(k) for k in ('steps', 'train_seconds', 'params')})
        res.setdefault('tokenizers', {})[name] = row
        print(f"{name}: " + ', '.join(f'{k} {v:.3f}' if isinstance(v, float) else f'{k} {v}' for k, v in row.items()),
              f"[{time.time() - t0:.0f} s]", flush=True)
        RESULTS.write_text(json.dumps(res, indent=1))
    for mode, data, window in (('clip', clips, None), ('whole', fp, None)):
        for bpp in a.h264_bpp:
            key = f'{mode} {bpp:g}'
            if key in res.get('h264', {}) and not a.again: continue
            t0 = time.time()
            orig, rec, info = h264_footage(data, bpp, window=window)
            r = score_footage(orig, rec, 16, bits=info['bits'], with_jod=True)
            res.setdefault('h264', {})[key] = {k: r[k] for k in KEYS if k in r} | dict(mode=mode, target=bpp,
                                                                                     crf=info['crf'])
            print(f"H.264 {key}: bpp {r['bpp']:.4f}, PSNR {r['psnr']:.2f}, JOD {r['jod']:.2f} "
                  f"[{time.time() - t0:.0f} s]", flush=True)
            RESULTS.write_text(json.dumps(res, indent=1))

def cmd_prior_cost(a):
    """What the prior pays at each grid: tokens a second of video, and AR sampling speed (the shipped prior's size,
    random weights: speed does not depend on their values) through the KV cache, 1 video, `--threads` threads"""
    from willie.generate.sampling import sample_ar
    from willie.tokenizers.causal import CausalTokenizer
    from willie.priors.transformer import Prior, PriorConfig
    from willie.tokenizers.rates import token_rate
    torch.set_num_threads(a.threads)
    res = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name, (what, cfg) in CANDIDATES.items():
        with torch.device('meta'): tok = CausalTokenizer(cfg)
        tf, (h, w), per_second = tok.time_factor, tok.token_shape((1, 64, 64))[1:], token_rate(tok)['tokens_per_second']
        frames = 1 + math.ceil(23 / tf)                      # one second of video at 24 fps
        pc = PriorConfig(vocab_size=tok.codebook_size, grid=(h, w), context=8 * h * w, window=4 * h * w, n_layer=6,
                         n_head=8, n_embd=256, position='alibi+hw')
        torch.manual_seed(0); model = Prior(pc).eval()
        sample_ar(model, 1, g=torch.Generator().manual_seed(0), burn_in=0)   # warm-up
        t0, c0 = time.time(), time.process_time()
        sample_ar(model, frames, g=torch.Generator().manual_seed(0), burn_in=0)
        wall, cpu = time.time() - t0, time.process_time() - c0
        video = 1 + tf * (frames - 1)
        res.setdefault('prior_cost', {})[name] = dict(time_factor=tf, grid=[h, w],
                                                      tokens_per_second=round(per_second),
                                                      frames_per_second=video / wall, cpu_seconds_per_frame=cpu / video)
        print(f"{name}: {per_second:.0f} tokens a second of video; AR {video / wall:.1f} frames/s "
              f"({cpu / video:.2f} CPU s a frame)", flush=True)
    RESULTS.write_text(json.dumps(res, indent=1))

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    q = sub.add_parser('train')
    q.add_argument('--only', nargs='*', choices=list(CANDIDATES)); q.add_argument('--threads', type=int, default=2)
    q.set_defaults(func=cmd_train)
    q = sub.add_parser('eval'); q.add_argument('--threads', type=int, default=2)
    q.add_argument('--h264-bpp', type=float, nargs='+', default=[0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3])
    q.add_argument('--again', action='store_true', help='score again what results.json already has')
    q.set_defaults(func=cmd_eval)
    q = sub.add_parser('prior-cost'); q.add_argument('--threads', type=int, default=2)
    q.set_defaults(func=cmd_prior_cost)
    a = p.parse_args(argv)
    return a.func(a)

if __name__ == '__main__': sys.exit(main())
