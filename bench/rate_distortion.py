"""Rate–distortion benchmark: every registered video tokenizer against H.264 on the film's val frames.

    python bench/rate_distortion.py [--size 64] [--crfs 24 28 32 36 40 44 48] [--max-clips N] [--tokenizers a b]

What is compared, on exactly the same frames (the val split of `willie.data.film.ClipDataset`, clips of 16 frames):
- each tokenizer in the weights registry that has `.tokenize`/`.detokenize`/`.codebook_size` (see
  `willie.eval.metrics.Tokenizer`): rate = tokens per clip x log2(codebook size), no entropy coding;
- H.264 (libx264 through PyAV, preset veryslow, CRF sweep), in two modes:
  * whole-stream: each contiguous val block (all its frames, 20 s of film) is one stream (I-frames only where
    x264 decides: scene cuts, keyint 250), so inter prediction runs across clip boundaries; its bpp counts
    every frame of the block (including the few frames between shots that no clip covers);
  * clip-by-clip: every 16-frame clip is its own stream and pays for its own I-frame and headers, as a
    tokenizer does.

Bits counted for H.264: the NAL units a decoder needs (SPS, PPS, slices) as emitted by x264 in Annex-B, without
the 3-4 byte start codes (framing, which a container replaces by its own) and without SEI messages (x264's
~600-byte "options" banner, which carries no picture data). Both totals are printed; the raw total is every
byte x264 emitted. The gray frames are sent as yuv420p with neutral chroma (U = V = 128 everywhere): the chroma
planes are constant, cost x264 only a few bits per macroblock (coded-block-pattern says "no chroma residual"), and
those bits *are* counted; PSNR/SSIM are measured on the luma plane only, which is the gray image.

Each tokenizer is also scored on the val *footage* (`willie.eval.metrics.footage`: every stretch of consecutive val
windows inside one shot, coded whole: as one stream by a tokenizer with `tokenize_stream`, else clip after clip), which
adds the sharpness, motion and seam ratios of `evaluate_tokenizer`; and H.264 codes the same footage (each stretch one
stream, `willie.eval.judges.h264_footage`) at the CRF that gives the tokenizer's bpp, scored by the same
`willie.eval.metrics.score_footage` ("H.264 at NAME's bpp" rows; for a clip tokenizer the frames coded are exactly its
whole 16-frame windows). Its Δ dB against the interpolated sweep shows how well the two H.264 measurements agree.

PSNR is `willie.eval.metrics.psnr` (per 16-frame clip, MSE over the whole clip, then mean over clips), SSIM is
`willie.eval.metrics.ssim`, both over the val clips (stride 16, inside one shot: the clips the tokenizer notebooks
evaluate); bpp = bits / (frames coded x H x W). The H.264-whole PSNR at a tokenizer's bpp is linearly
interpolated in log(bpp) between the two nearest CRF points (marked * when extrapolated).
"""
from __future__ import annotations
import argparse, math, sys, time
import numpy as np, torch

from willie.base.core import to_float
from willie.eval.metrics import Footage, psnr, ssim, Tokenizer, evaluate_tokenizer, footage, score_footage
# nal_units, h264_roundtrip: this script's API since it began
from willie.eval.judges import nal_units, h264_roundtrip, h264_footage  # noqa: F401

CLIP_LEN = 16
COLS = ('bpp', 'psnr', 'ssim', 'sharpness', 'motion', 'seams', 'seams_original')

# ---------------------------------------------------------------------------------------------------------------
# H.264 (the codec itself lives in willie.eval.judges: nal_units, h264_roundtrip, h264_at_rate, h264_footage)
def to_clips(frames:np.ndarray)->torch.Tensor:
    "(n*16, H, W) uint8 -> (n, 1, 16, H, W) float in [-1, 1], the ClipDataset convention."
    t = to_float(np.ascontiguousarray(frames))
    return t.view(-1, 1, CLIP_LEN, *t.shape[-2:])

def h264_sweep(frames:np.ndarray, # (N, H, W) uint8, the whole store
               blocks:list[tuple[int, int, list[int]]], # (first frame, end frame, clip starts) of each val block
               crfs:list[float], mode:str, preset:str, tune:str|None)->list[dict]:
    "H.264 at each CRF: 'whole' codes each block as one stream, 'clip' each 16-frame clip; PSNR/SSIM over the clips."
    rows = []
    for crf in crfs:
        t0, bits, raw, pixels, ref, rec = time.time(), 0, 0, 0, [], []
        streams = ([(a, b, cs) for a, b, cs in blocks] if mode == 'whole'
                   else [(s, s + CLIP_LEN, [s]) for _, _, cs in blocks for s in cs])
        for a, b, cs in streams:
            fr = np.asarray(frames[a:b])
            dec, nb, nr = h264_roundtrip(fr, crf, preset, tune=tune)
            bits, raw, pixels = bits + nb, raw + nr, pixels + fr.size
            ref += [fr[s - a:s - a + CLIP_LEN] for s in cs]; rec += [dec[s - a:s - a + CLIP_LEN] for s in cs]
        x, y = to_clips(np.concatenate(ref)), to_clips(np.concatenate(rec))
        rows.append(dict(method=f'H.264 {mode} crf {crf:g}', mode=mode, crf=crf, bpp=bits / pixels,
                         bpp_raw=raw / pixels,
                         psnr=psnr(x, y).item(), ssim=ssim(x, y).item(), n_clips=len(x), secs=time.time() - t0))
        print(f"  {rows[-1]['method']:24s} bpp {rows[-1]['bpp']:.4f} (raw {rows[-1]['bpp_raw']:.4f})  "
              f"PSNR {rows[-1]['psnr']:.2f}  SSIM {rows[-1]['ssim']:.3f}  [{rows[-1]['secs']:.1f}s]", flush=True)
    return rows

def interp_logbpp(curve:list[dict], bpp:float)->tuple[float, bool]:
    "PSNR of an H.264 curve at `bpp`, linear in log(bpp); (psnr, extrapolated?)."
    pts = sorted((math.log(r['bpp']), r['psnr']) for r in curve)
    lb = math.log(bpp)
    if len(pts) < 2: return float('nan'), True
    k = 0
    while k < len(pts) - 2 and lb > pts[k + 1][0]: k += 1
    (x0, y0), (x1, y1) = pts[k], pts[k + 1]
    return y0 + (y1 - y0) * (lb - x0) / (x1 - x0), not (pts[0][0] <= lb <= pts[-1][0])

# ---------------------------------------------------------------------------------------------------------------
# Data and tokenizers
def val_blocks(size:int, max_clips:int|None):
    """The val clips (non-overlapping, stride 16, inside one shot, as the tokenizer notebooks evaluate them), the
    store's frames, and the contiguous val blocks as (first frame, end frame, [clip starts]); with `max_clips` only the
    first clips, and each block cut after its last kept clip."""
    from willie.data.film import film_store, ClipDataset
    store = film_store(size)
    ds = ClipDataset(store, clip_len=CLIP_LEN, split='val', stride=CLIP_LEN)
    starts = [int(s) for s in ds.starts[:max_clips]]
    isval = np.asarray(ds.is_val)
    edges = np.flatnonzero(np.diff(np.r_[0, isval.astype(np.int8), 0]))  # [a0, b0, a1, b1, ...] of val blocks
    blocks = []
    for a, b in zip(edges[::2], edges[1::2]):
        cs = [s for s in starts if a <= s < b]
        if cs: blocks.append((int(a), min(int(b), cs[-1] + CLIP_LEN) if max_clips else int(b), cs))
    assert sum(len(cs) for *_, cs in blocks) == len(starts), "a val clip lies outside the val blocks"
    for i in (0, len(starts) - 1):  # the frames H.264 codes are the ones the tokenizers see
        ref = to_float(store.frames[starts[i]:starts[i] + CLIP_LEN])
        if not torch.equal(ds[i][0], ref): raise RuntimeError(f"val clip {i} does not match store frames {starts[i]}..")
    return ds, store.frames, blocks

def val_footage(ds, n_clips:int)->Footage:
    """The val footage (stretches of touching val windows, `willie.eval.metrics.footage`), cut after its first `n_clips`
    windows."""
    out, left, fp = [], n_clips, footage(ds)
    for x in fp:
        k = min(left, x.shape[2] // CLIP_LEN)
        if k: out.append(x[:, :, :k * CLIP_LEN] if k < x.shape[2] // CLIP_LEN else x)
        left -= k
        if not left: break
    return Footage(out, fps=fp.fps)

def registered_tokenizers(names:list[str]|None)->dict:
    "Registered models that are video tokenizers (`willie.eval.metrics.Tokenizer`), loaded; or the ones named."
    try: from willie.train.weights import known_weights, load_weights, read_registry
    except ImportError as e: print(f"no weights registry ({e}); H.264 only"); return {}
    reg = known_weights()   # bundled, and what `willie train` made
    out = {}
    for name in (sorted(read_registry()) if names is None else names):   # default: the bundled ones
        if name not in reg:
            print(f"  {name}: not in the registry (have: {', '.join(sorted(reg)) or 'nothing'})"); continue
        m = load_weights(name)
        if isinstance(m, Tokenizer): out[name] = m
        elif names:
            print(f"  {name}: {reg[name]['arch']} is not a video tokenizer (needs tokenize/detokenize/codebook_size)")
    return out

# ---------------------------------------------------------------------------------------------------------------
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--size', type=int, default=64, help='frame size of the clip store (film_store(size))')
    p.add_argument('--crfs', type=float, nargs='+', default=[24, 28, 32, 36, 40, 44, 48], help='x264 CRF values')
    p.add_argument('--max-clips', type=int, default=None, help='only the first N val clips')
    p.add_argument('--tokenizers', nargs='*', default=None,
                   help='registry names (default: every registered video tokenizer; none given: H.264 only)')
    p.add_argument('--preset', default='veryslow')
    p.add_argument('--tune', default=None, help='x264 tune, e.g. psnr (default: none)')
    p.add_argument('--bits', choices=('payload', 'raw'), default='payload',
                   help="H.264 bits in the table: 'payload' (NAL units without start codes and SEI) or 'raw' (every "
                        "byte emitted)")
    p.add_argument('--threads', type=int, default=1, help='torch threads')
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    ds, frames, blocks = val_blocks(a.size, a.max_clips)
    n = sum(len(cs) for *_, cs in blocks)
    print(f"val: {n} clips of {CLIP_LEN}x{a.size}x{a.size} ({n * CLIP_LEN} frames) from {len(blocks)} contiguous val "
          f"blocks of {', '.join(str(b - a) for a, b, _ in blocks)} frames (whole-stream codes all of a block's "
          "frames)")
    print("H.264 (libx264 via PyAV, preset %s%s):" % (a.preset, f', tune {a.tune}' if a.tune else ''))
    whole = h264_sweep(frames, blocks, a.crfs, 'whole', a.preset, a.tune)
    clipwise = h264_sweep(frames, blocks, a.crfs, 'clip', a.preset, a.tune)
    if a.bits == 'raw':
        for r in whole + clipwise: r['bpp'] = r['bpp_raw']
    toks = registered_tokenizers(a.tokenizers)
    if not toks: print("no video tokenizers in the weights registry yet: H.264 only")
    fp = val_footage(ds, n)
    rows, at_rate = [], []
    for name, m in toks.items():
        t0 = time.time()
        try: r = evaluate_tokenizer(m, fp, bs=8, progress=False, window=CLIP_LEN)
        except Exception as e: print(f"  {name}: skipped ({type(e).__name__}: {e})"); continue
        rows.append(dict(method=name, secs=time.time() - t0) | {k: r.get(k, float('nan')) for k in COLS})
        print(f"  {name}: {r['tokens_per_clip']:.0f} tokens x {r['bits_per_token']:.2f} bits per {CLIP_LEN}-frame "
              f"window, code use {r['code_use']:.3f}, perplexity {r['perplexity']:.0f}, {r['n_clips']} windows "
              f"[{rows[-1]['secs']:.1f}s]", flush=True)
        t0 = time.time()  # H.264 on exactly the frames the tokenizer coded, at its rate
        orig, rec, info = h264_footage(fp, r['bpp'], window=None if hasattr(m, 'tokenize_stream') else CLIP_LEN,
                                       preset=a.preset, tune=a.tune)
        h = score_footage(orig, rec, CLIP_LEN, bits=info['raw_bits'] if a.bits == 'raw' else info['bits'])
        at_rate.append(dict(method=f"H.264 at {name}'s bpp (crf {info['crf']:.2f})",
                            secs=time.time() - t0) | {k: h.get(k, float('nan')) for k in COLS})
        print(f"  H.264 at {name}'s bpp: crf {info['crf']:.2f} after {info['tries']} codings "
              f"[{at_rate[-1]['secs']:.1f}s]", flush=True)
    f = lambda r, k, fmt: format(r[k], fmt) if isinstance(r.get(k), float) and math.isfinite(r[k]) else '–'
    print("\n| method | bpp | PSNR | SSIM | sharpness | motion | seams | H.264-whole PSNR at same bpp | Δ dB |"
          "\n|---|---|---|---|---|---|---|---|---|")
    for r in [q for pair in zip(rows, at_rate) for q in pair] + whole + clipwise:
        ref, extra = interp_logbpp(whole, r['bpp'])
        print(f"| {r['method']} | {r['bpp']:.4f} | {r['psnr']:.2f} | {r['ssim']:.3f} | {f(r, 'sharpness', '.3f')} | "
              f"{f(r, 'motion', '.3f')} | {f(r, 'seams', '.2f')} | {ref:.2f}{'*' if extra else ''} | "
              f"{r['psnr'] - ref:+.2f} |")
    print("(* extrapolated beyond the CRF sweep; H.264 bpp: "
          + ("NAL units without start codes and SEI; the raw totals are above)"
          if a.bits == 'payload' else "every byte x264 emitted, start codes and SEI included)"))
    print(f"sharpness, motion: reconstruction ÷ original; seams: frame difference across {CLIP_LEN}-frame window "
          "boundaries ÷ within (the originals: "
          f"{next((r['seams_original'] for r in rows + at_rate if 'seams_original' in r), float('nan')):.2f}); – : not "
          "measured (the CRF sweep scores clips, not footage)")

if __name__ == '__main__': main()
