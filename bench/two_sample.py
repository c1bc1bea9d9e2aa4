"""Classifier two-sample test on the film's val footage: can a small 3-D CNN tell reconstructions from the originals?

    python bench/two_sample.py [--tokenizers fsq_vae_64 causal_64 magvit_gan_64] [--steps 300]
        [--max-clips N] [--no-h264]

causal_64 is no longer bundled: `willie train causal_64` makes it first (about 47 min on a CPU).

For each tokenizer named (missing ones are skipped with a note) and for H.264 at each tokenizer's bits per pixel:
the val footage (`willie.eval.metrics.footage` of the val split: every stretch of touching 16-frame windows inside one
shot) is coded whole, as `evaluate_tokenizer` codes it (one stream for a tokenizer with `tokenize_stream`, else clip
after clip; H.264 one stream per stretch at the CRF that gives the tokenizer's rate, `willie.eval.judges.h264_footage`),
cut into its 16-frame windows in time order, and `willie.eval.judges.two_sample_test` trains `ClipCritic` to tell the
original windows from the reconstructed ones on half of the footage (whole contiguous blocks of windows, a window and
its reconstruction always in the same half) and reports its accuracy on the other half: 50% = indistinguishable, 100% =
every window gives itself away. ± is the binomial standard error; the interval is Wilson's 95%; p is one-sided against
chance.
"""
from __future__ import annotations
import argparse, math, time
import torch
from einops import rearrange

from willie.data.film import film_store, ClipDataset
from willie.eval.judges import h264_footage, two_sample_test
from willie.eval.metrics import Footage, bits_per_token, footage, reconstruct_stretch

CLIP_LEN = 16


def val_footage(size:int, max_clips:int|None)->Footage:
    "The val footage, cut after its first `max_clips` 16-frame windows (None: all of it)."
    out, left = [], max_clips if max_clips else math.inf
    fp = footage(ClipDataset(film_store(size, progress=False), CLIP_LEN, split='val', stride=CLIP_LEN))
    for x in fp:
        k = min(left, x.shape[2] // CLIP_LEN)
        if k: out.append(x[:, :, :k * CLIP_LEN])
        left -= k
        if not left: break
    return Footage(out, fps=fp.fps)


def windows(stretches)->torch.Tensor:
    "(1, 1, T, H, W) stretches -> (N, 1, 16, H, W) windows in time order (the rest of each stretch left out)."
    return torch.cat([rearrange(x[:, :, :x.shape[2] // CLIP_LEN * CLIP_LEN],
                                '1 c (n t) h w -> n c t h w', t=CLIP_LEN) for x in stretches])


@torch.no_grad()
def tokenizer_windows(model, fp:Footage)->tuple[torch.Tensor, torch.Tensor, float]:
    "Code the footage as `evaluate_tokenizer` does: (original windows, reconstructed windows clamped, bpp)."
    if hasattr(model, 'eval'): model.eval()
    coded = [reconstruct_stretch(model, x, CLIP_LEN) for x in fp]
    bits = sum(idx.numel() for *_, idx in coded) * bits_per_token(int(model.codebook_size))
    return (windows(x for x, _, _ in coded), windows(xh.float().clamp(-1, 1) for _, xh, _ in coded),
            bits / sum(x[0, 0].numel() for x, _, _ in coded))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--tokenizers', nargs='*', default=['fsq_vae_64'],
                   help='registry names (default: fsq_vae_64); missing ones are skipped')
    p.add_argument('--no-h264', action='store_true', help='skip H.264 at each tokenizer\'s rate')
    p.add_argument('--size', type=int, default=64, help='frame size of the clip store (film_store(size))')
    p.add_argument('--max-clips', type=int, default=None, help='only the first N val windows (default: all)')
    p.add_argument('--steps', type=int, default=300, help='training steps of the classifier')
    p.add_argument('--bs', type=int, default=16, help='windows per training step')
    p.add_argument('--blocks', type=int, default=8, help='contiguous blocks of windows for the split (half held out)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--preset', default='veryslow', help='x264 preset for H.264')
    p.add_argument('--threads', type=int, default=1, help='torch threads')
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    from willie.train.weights import known_weights, load_weights
    reg = known_weights()   # bundled, and what `willie train` made
    fp = val_footage(a.size, a.max_clips)
    n = sum(x.shape[2] // CLIP_LEN for x in fp)
    print(f"val footage: {len(fp)} stretches, {n} windows of {CLIP_LEN}x{a.size}x{a.size}; classifier: {a.steps} steps "
          f"of {a.bs}, {a.blocks} blocks, seed {a.seed}, {a.threads} thread(s)", flush=True)
    rows, rates = [], {}
    def judge(name, real, fake, bpp, note=''):
        r = two_sample_test(real, fake, steps=a.steps, bs=a.bs, blocks=a.blocks, seed=a.seed)
        rows.append(dict(name=name, bpp=bpp, note=note) | r)
        print(f"  {name}: accuracy {r['accuracy']:.3f} ± {r['stderr']:.3f} [{r['secs']:.0f}s]", flush=True)
    for name in a.tokenizers:
        if name not in reg:
            print(f"  {name}: not in the weights registry yet, skipped (have: {', '.join(sorted(reg))})"); continue
        m = load_weights(name)
        if not all(hasattr(m, k) for k in ('tokenize', 'detokenize', 'codebook_size')):
            print(f"  {name}: not a video tokenizer, skipped"); continue
        t0 = time.time()
        real, fake, bpp = tokenizer_windows(m, fp)
        print(f"  {name}: coded {len(real)} windows at {bpp:.4f} bpp [{time.time() - t0:.0f}s]", flush=True)
        judge(name, real, fake, bpp)
        # one H.264 run per rate (most tokenizers spend 256 x 10 bits)
        key = (round(bpp, 4), hasattr(m, 'tokenize_stream'))
        if not a.no_h264 and key not in rates: rates[key] = (name, bpp)
    for (_, stream), (name, bpp) in rates.items():
        t0 = time.time()
        orig, rec, info = h264_footage(fp, bpp, window=None if stream else CLIP_LEN, preset=a.preset)
        print(f"  H.264 at {name}'s bpp: crf {info['crf']:.2f}, {info['bpp']:.4f} bpp [{time.time() - t0:.0f}s]",
              flush=True)
        judge(f"H.264 at {name}'s bpp", windows(orig), windows(rec), info['bpp'], f"crf {info['crf']:.2f}")
    if not rows: print("nothing to judge"); return
    print("\n| reconstructions of val footage | bpp | held-out accuracy | 95% interval | p vs chance | train accuracy "
          "| clips held out (originals + reconstructions) |\n|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']}{' (' + r['note'] + ')' if r['note'] else ''} | {r['bpp']:.4f} | {r['accuracy']:.3f} ± "
              f"{r['stderr']:.3f} | {r['ci95'][0]:.2f}–{r['ci95'][1]:.2f} | {r['p_value']:.2g} | "
              f"{r['train_accuracy']:.2f} | {r['n_test']} |")
    print("(50% = the classifier cannot tell reconstructions from originals; held-out items are originals and "
          "reconstructions of the same windows, so the binomial ± is a little optimistic)")


if __name__ == '__main__': main()
