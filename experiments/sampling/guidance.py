"""Texture guidance: do AR samples draw more than texture when the prior is pushed away from a local version of itself?

    python experiments/sampling/guidance.py --guidance 1 --guide-window 32 -- --methods ar --no-patch-nn --threads 2

The shipped AR prior's samples have the film's texture (ink on grey, grain, horizon lines) but no character a viewer
can name: a critic tells them from held-out film by texture. Contrastive decoding (Li et al. 2023) samples from
`logits + w * (logits - amateur logits)`: whatever a weak model also predicts is damped, whatever only the strong one
knows is amplified. Here the amateur is the same network with its attention window cut to `--guide-window` tokens
(32: the two raster rows above a token, about what a texture model sees; ALiBi lets the network run with a shorter
window than it was trained with). So the guided draw favours what the full 1,023-token context adds over local
texture: the rest of the frame and the frames before it. The amateur has its own rolling KV cache, so each token costs
two forward passes.

Everything after `--` goes to `bench/eval_samples.py`, which judges the guided AR sampler exactly as it judges the
shipped one (the sampler is swapped in `SAMPLERS['ar']` for this process only; the package is unchanged). With
`--sheet`, it goes to `scripts/contact_sheet.py` instead, to look at 16 guided samples:

    python experiments/sampling/guidance.py --guidance 1 --guide-window 32 --sheet -- --out /tmp/guided.png
"""
import argparse, copy, importlib.util, math, sys
from dataclasses import replace
from pathlib import Path
import torch

from willie.generate import sampling
from willie.generate.sampling import SAMPLERS, sample_logits, steered_draw
from willie.layers.attention import KVCache


@torch.no_grad()
def guided_sample_ar(model, frames:int, prompt=None, *, batch:int=1, temperature:float=1.0, top_k=None, top_p=None,
                     g=None, burn_in:int=2, cache_dtype=None, surprise=None, guidance:float=1.0, guide_window:int=32):
    "`sample_ar` with the cache, drawing from `logits + guidance * (logits - logits with a `guide_window` window)`."
    cfg, hw = model.cfg, model.cfg.frame_tokens
    local = copy.copy(model); local.cfg = replace(cfg, window=guide_window)   # the same weights, a shorter window
    dtype = getattr(torch, cache_dtype) if cache_dtype else None
    caches = model.new_cache(dtype), KVCache(cfg.n_layer, guide_window, dtype)
    if not surprise or temperature <= 0: surprise = None
    if prompt is not None: seq, keep_from = model.flatten(prompt.long()), 0
    else: seq, keep_from = torch.randint(cfg.vocab_size, (batch, 1), generator=g), burn_in * hw
    n_new, n = keep_from + frames * hw - (0 if prompt is not None else 1), seq.shape[1]
    out = seq.new_empty(seq.shape[0], n + n_new); out[:, :n] = seq
    def guided(x):
        full, near = (m(x, cache=c)[0][:, -1].float() for m, c in zip((model, local), caches))
        return full + guidance * (full - near)
    logits = guided(seq)
    log_t = torch.full((len(out), 1), math.log(temperature)) if surprise is not None else None
    for _ in range(n_new):
        if surprise is None: out[:, n] = sample_logits(logits, temperature, top_k, top_p, g)[0]
        else: out[:, n], log_t = steered_draw(logits, log_t, surprise, 1 / hw, top_k, top_p, g)
        n += 1
        logits = guided(out[:, n - 1:n])
    seq = out[:, keep_from:]
    return seq.reshape(seq.shape[0], -1, *cfg.grid)


def use_guidance(guidance:float, guide_window:int):
    "Swap the AR sampler for the guided one, in this process."
    def fill(model, prompt, frames, *, batch=1, g=None, temperature=1.0, top_k=None, top_p=None, progress=False,
             use_cache=True, burn_in=2, cache_dtype=None, surprise=None):
        return guided_sample_ar(model, frames, prompt, batch=batch, temperature=temperature, top_k=top_k, top_p=top_p,
                                g=g, burn_in=burn_in, cache_dtype=cache_dtype, surprise=surprise, guidance=guidance,
                                guide_window=guide_window)
    sampling.SAMPLERS['ar'] = replace(SAMPLERS['ar'], fill=fill)


if __name__ == '__main__':
    argv = sys.argv[1:]
    ours, rest = (argv[:argv.index('--')], argv[argv.index('--') + 1:]) if '--' in argv else (argv, [])
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--guidance', type=float, default=1.0, help='w: how far to push away from the local prior')
    ap.add_argument('--guide-window', type=int, default=32, help="the local prior's attention window, in tokens")
    ap.add_argument('--sheet', action='store_true',
                    help='run scripts/contact_sheet.py instead of bench/eval_samples.py')
    a = ap.parse_args(ours)
    print(f"AR with texture guidance {a.guidance:g} against a {a.guide_window}-token window", flush=True)
    use_guidance(a.guidance, a.guide_window)
    path = Path(__file__).resolve().parents[2]/('scripts/contact_sheet.py' if a.sheet else 'bench/eval_samples.py')
    spec = importlib.util.spec_from_file_location(path.stem, path)
    script = importlib.util.module_from_spec(spec); spec.loader.exec_module(script)
    script.main(rest)
