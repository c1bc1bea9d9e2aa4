"""Can the shipped tokenizer draw better without changing its tokens? Fine-tune `causal_s4_64`'s decoder alone.

    python experiments/decoder_longer/decoder_longer.py 1500          # 1,500 steps of 8 clips: 42 min on 2 threads
    python experiments/decoder_longer/decoder_longer.py 1500 --gdl 0.05   # the same, MSE + 0.05 x gradient loss
    python experiments/decoder_longer/decoder_longer.py --eval   # then score all on the whole val split (JOD)
    python experiments/decoder_longer/decoder_longer.py --figure experiments/decoder_longer/frames.png   # by eye

The encoder and the quantizer are frozen, so every token the film's store and both priors were trained on stays
the same: a better decoder improves reconstructions and samples at once, with nothing retrained. `causal_s4_64`'s
phase 1 ran 3 minutes on an H200 (3,244 steps of 32 clips) with val PSNR still rising. This continues its decoder
from the shipped (EMA) weights with the recipe's loss (MSE), data, augmentation and weight decay, a fresh optimizer
(lr 2e-4 after 50 warm-up steps, cosine to 2e-5), EMA 0.999 and a data order phase 1 did not see (seed + 2); under
bfloat16 autocast, as the recipe's GPU settings ask (this CPU has AMX: twice as fast as float32).
`--gdl W` adds W x the gradient difference loss (Mathieu et al. 2016: the L1 distance between the absolute
spatial gradients of the reconstruction and the clip), which penalises blur that MSE forgives (sharpness 0.81).
Each arm checkpoints every 250 steps to ~/.cache/willie/runs/decoder_longer/<arm>/ and resumes from there when run
again; its final EMA weights go to runs/decoder_longer/<arm>.safetensors, never into the package.
`--eval` scores the shipped tokenizer and every finished arm on every val window as `willie eval-tokenizer --jod`
does (needs cvvdp: `bash scripts/install_cvvdp.sh`). Needs the film's 64² store (`willie prepare`).
"""
import argparse, time
from pathlib import Path
from dataclasses import replace
import torch
import torch.nn.functional as F
from PIL import Image as PILImage
from safetensors.torch import load_file, save_file

from willie.base.core import atomic_write, willie_home
from willie.base.viz import display_frames, tile
from willie.data.film import ClipDataset, film_store
from willie.eval.metrics import as_watched, evaluate_tokenizer, footage, psnr
from willie.tokenizers.magvit import _phase_cfg, clip_fidelity
from willie.tokenizers.video_vae import fixed_clips, tokenizer_augment, tokenizer_data
from willie.train.loop import Trainer, step_batches
from willie.train.weights import Recipe, known_weights, load_weights

NAME = 'causal_s4_64'
OUT = willie_home()/'runs'/'decoder_longer'


def arm_name(gdl:float, jod:float=0.0)->str:
    return 'mse' + (f'+gdl{gdl:g}' if gdl else '') + (f'+jod{jod:g}' if jod else '')

def spatial_gradients(v): return v.diff(dim=-1).abs(), v.diff(dim=-2).abs()   # |d/dx|, |d/dy| of (B,1,T,H,W)

def decoder_loss(gdl:float, jod:float=0.0, jod_clips:int=2, fps:float|None=None):
    """The recipe's loss (MSE + the quantizer's aux loss, as `recon_loss`) plus `gdl` x the gradient difference loss
    plus `jod` x (10 - JOD) of the first `jod_clips` clips of the batch (ColorVideoVDP's own differentiable loss, on
    the clips as `jod` judges them: `as_watched`, FHD display, at the film's `fps`)."""
    if jod and not fps: raise ValueError("decoder_loss: the JOD loss needs the clips' frame rate (fps=)")
    if jod:
        import warnings
        with warnings.catch_warnings(): warnings.simplefilter('ignore'); import pycvvdp
        metric = pycvvdp.cvvdp(display_name='standard_fhd', quiet=True, device=torch.device('cpu'))
    def shown(v):  # (B, 1, T, H, W) in [-1, 1] -> (B, 3, T, 4H, 4W) in [0, 1], as `jod` shows it (unquantized)
        return ((as_watched(v) + 1) / 2).clamp(0, 1).expand(-1, 3, -1, -1, -1)
    def loss_fn(model, x):
        x_hat, aux, _ = model(x)
        x_hat, x = x_hat.float(), x.float()
        mse = F.mse_loss(x_hat, x)
        grad = sum((a - b).abs().mean() for a, b in zip(spatial_gradients(x_hat), spatial_gradients(x)))
        logs = {'mse': mse.item(), 'gdl': grad.item(), 'psnr': psnr(x, x_hat.detach()).item()}
        loss = mse + aux + gdl * grad
        if jod:
            with torch.autocast('cpu', enabled=False):
                perceptual = torch.stack([metric.loss(shown(x_hat[i:i + 1]), shown(x[i:i + 1]), dim_order='BCFHW',
                                                      frames_per_second=fps) for i in range(jod_clips)]).mean()
            loss, logs['jod'] = loss + jod * perceptual, 10 - perceptual.item()
            loss_fn.recent.append(logs['jod'])
        return loss, logs
    loss_fn.recent = []   # the training clips' JOD since the tracker last printed
    return loss_fn

def finetune(steps:int, bs:int, lr:float, gdl:float, jod:float=0.0, jod_clips:int=2, every:int=250):
    arm = arm_name(gdl, jod)
    model = load_weights(NAME).train()
    model.encoder.requires_grad_(False); model.quantizer.requires_grad_(False)   # the tokens stay as they are
    recipe = Recipe.from_dict(known_weights()[NAME]['recipe'])
    a, p = recipe.data.augment, recipe.recon
    store = film_store(64, progress=False)
    train_ds, val_ds = tokenizer_data(recipe, store)
    val = fixed_clips(val_ds, recipe.data.n_eval)
    augment = tokenizer_augment(train_ds, reverse=a.reverse, gain=a.gain, offset=a.offset)
    seed = recipe.seed + 2
    t0, loss_fn = time.time(), decoder_loss(gdl, jod, jod_clips, store.fps)
    def tracker(m):
        r = clip_fidelity(m, val)
        if loss_fn.recent: r['train_jod'] = sum(loss_fn.recent) / len(loss_fn.recent); loss_fn.recent.clear()
        print(f"{time.time() - t0:.0f}s " + ', '.join(f'{k} {v:.3f}' for k, v in r.items()), flush=True)
        return r
    print(f'start ({NAME}):', ', '.join(f'{k} {v:.3f}' for k, v in clip_fidelity(model.eval(), val).items()),
          flush=True)
    cfg = replace(_phase_cfg(recipe, replace(p, steps=steps, bs=bs, lr=lr, warmup=50, eval_every=every,
                                             minutes=0.0), seed), min_lr=0.1)
    tr = Trainer(model.train(), loss_fn, step_batches(train_ds, bs, seed, augment=augment), cfg,
                 eval_fn=tracker, ckpt_dir=OUT/arm, log=lambda s: None).fit()
    sd = {k: v.contiguous() for k, v in tr.ema.float().state_dict().items()}
    atomic_write(OUT/f'{arm}.safetensors', lambda f: save_file(sd, str(f)))
    print(f"{time.time() - t0:.0f}s: saved {OUT/f'{arm}.safetensors'}", flush=True)


def overfit(steps:int, lr:float, clips:tuple=(3, 20), others:tuple=(40, 55)):
    """Does Adam on the JOD loss raise JOD at all? The decoder trained on two fixed val clips alone (memorising them),
    and two other val clips' JOD before and after (does any of it carry over?)."""
    model = load_weights(NAME).train()
    model.encoder.requires_grad_(False); model.quantizer.requires_grad_(False)
    store = film_store(64, progress=False)
    val = ClipDataset(store, 17, split='val', stride=17)
    x, y = (torch.stack([val[i] for i in c]) for c in (clips, others))
    loss_fn = decoder_loss(0.0, jod=1.0, jod_clips=len(clips), fps=store.fps)
    opt = torch.optim.Adam(model.decoder.parameters(), lr=lr)
    def other():
        with torch.no_grad(): return loss_fn(model, y)[1]
    print(f"other clips {others}: JOD {other()['jod']:.3f}", flush=True)
    for step in range(steps + 1):
        loss, logs = loss_fn(model, x)
        print(f"step {step}: clips {clips}: JOD {logs['jod']:.3f}, MSE {logs['mse']:.5f}", flush=True)
        if step < steps: opt.zero_grad(); loss.backward(); opt.step()
    print(f"other clips {others}: JOD {other()['jod']:.3f}", flush=True)


def tokenizer_with(f:Path|None):
    "The shipped tokenizer, with the weights in `f` (a whole tokenizer's, or its decoder's alone) when given."
    m = load_weights(NAME)
    if f is not None:
        sd = load_file(str(f))
        (m if any(k.startswith('encoder.') for k in sd) else m.decoder).load_state_dict(sd)
    return m.eval()

def arms(also:list)->list:
    "(name, weights file or None for the shipped): the shipped decoder, this script's finished arms, then `also`."
    return [('shipped', None)] + [(f.stem, f) for f in sorted(OUT.glob('*.safetensors'))] + [
        (f'{f.parent.name}/{f.stem}', f) for f in also]

def score(also:list):
    "Every arm on every val window, as `willie eval-tokenizer --jod` scores them."
    store = film_store(64, progress=False)
    full = footage(ClipDataset(store, 16, split='val', stride=16))
    print("| decoder | PSNR | SSIM | JOD | sharpness | motion | seams |\n|---|---|---|---|---|---|---|")
    for name, f in arms(also):
        r = evaluate_tokenizer(tokenizer_with(f), full, progress=False, with_jod=True)
        print(f"| {name} | {r['psnr']:.2f} | {r['ssim']:.3f} | {r['jod']:.2f} | {r['sharpness']:.2f} | "
              f"{r['motion']:.2f} | {r['seams']:.2f} |", flush=True)


@torch.no_grad()
def figure(out:Path, also:list, clips:int=6, scale:int=3):
    "Frame 8 of `clips` val clips, one per row: the film, then each arm's reconstruction."
    store = film_store(64, progress=False)
    val = fixed_clips(ClipDataset(store, 17, split='val'), clips)
    named = arms(also)
    cols = [val] + [tokenizer_with(f)(val)[0] for _, f in named]
    up = lambda a: a.repeat(scale, 0).repeat(scale, 1)
    panels = [up(display_frames(c[i])[8]) for i in range(clips) for c in cols]
    atomic_write(out, lambda f: PILImage.fromarray(tile(panels, ncol=len(cols), pad=2)).save(f, format='PNG'))
    print(f"{out}: columns film, " + ', '.join(n for n, _ in named))


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('steps', type=int, nargs='?', default=1500, help='optimizer steps of the fine-tune')
    ap.add_argument('--bs', type=int, default=8, help='clips per step')
    ap.add_argument('--lr', type=float, default=2e-4, help='peak learning rate')
    ap.add_argument('--gdl', type=float, default=0.0, help='weight of the gradient difference loss (0: MSE only)')
    ap.add_argument('--jod', type=float, default=0.0, help='weight of ColorVideoVDP\'s loss, 10 - JOD (0: none)')
    ap.add_argument('--jod-clips', type=int, default=2, help='clips of each batch the JOD loss is taken on')
    ap.add_argument('--every', type=int, default=250, help='steps between checkpoints (and tracked val PSNR)')
    ap.add_argument('--overfit', action='store_true', help='train the decoder on 2 val clips alone (JOD loss, `steps`)')
    ap.add_argument('--eval', action='store_true', help='score the shipped and fine-tuned decoders on val (JOD)')
    ap.add_argument('--figure', type=Path, help='write held-out frames through each decoder to this PNG, then stop')
    ap.add_argument('--also', type=Path, nargs='*', default=[],
                    help="more decoders to score or show: a tokenizer's or a decoder's safetensors")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.figure: figure(args.figure, args.also)
    elif args.eval: score(args.also)
    elif args.overfit: overfit(args.steps, args.lr)
    else: finetune(args.steps, args.bs, args.lr, args.gdl, args.jod, args.jod_clips, args.every)
