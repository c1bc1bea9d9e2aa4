"""How fast the priors make video on the CPU: generated frames per second at 64x64, decode included, 2 threads.

    python bench/bench_generate.py                 # ~5-10 min on the course's 2-core CPU
    python bench/bench_generate.py --quick         # a smoke test: 0.5 s videos, batch 1 and 2, memory at 1 s vs 3 s

Rows, each at batch 1 (one video, what `willie generate` does) and at `--batch` videos at once:
- AR, the cache as it was (until 2026-12-04): the baseline the ratios are taken to (the same batch size). Its KV
  cache concatenated every new key and value onto the held ones (a copy of the whole cache at every step) in float32,
  and tokens were drawn with `torch.multinomial` (one exponential per vocabulary entry); `ConcatCache` and
  `multinomial_draw` below are that code, swapped in for the row;
- AR, buffered cache, float32, fixed temperature: `willie.layers.attention.KVCache` as it is now (a preallocated
  buffer, moved once every ~window steps) and the inverse-CDF draw, keys and values in float32 (`cache_dtype=None`:
  exact), at the sampler's temperature (`surprise=None`);
- AR, buffered cache, float32, steered: the same with each video's temperature steered to hold the sampler's
  surprise target (`steered_draw`: a log-softmax and a gather more per token): the default until commit c9b7ecf;
- AR, buffered cache, bfloat16, steered (default): keys and values stored in bfloat16 (`cache_dtype='bfloat16'`),
  what `willie generate` runs. Rounding them moves the prior's next-token distributions by a KL divergence the
  bench measures and prints under the table (`cache_divergence`, on the default's batch-1 video: ~2e-5 bits a token);
- MaskGIT, 10 steps (its default): `sample_masked` on an all-[MASK] grid: windows of the prior's context in latent
  frames (8 for `maskgit_s4_64`) moving by half of it, each filled in 10 parallel rounds; the grid is lengthened to
  whole windows (`aligned_frames`, what makes a shorter video the start of a longer one), so MaskGIT fills a few
  latent frames it does not deliver, and pays for them here as `generate` does.
`--no-cache` adds `sample_ar(..., use_cache=False)` at batch 1, which recomputes the last `context - 1` tokens for
every new token (minutes per second of video with 2,048-token contexts).
Every row samples through `willie.generate.sampling.sample`, the dispatch `generate` uses, with the shipped pair
`prior_s4_64` and `maskgit_s4_64` (`Generator.load()`); every row generates a `--seconds` video per batch item (13
latent frames = 49 frames for 2 s; AR also samples and drops 2 latent frames of burn-in, as `generate` does) and decodes
it with the tokenizer's `detokenize_stream`.
frames/s = frames delivered / wall-clock seconds of sampling + decoding, after one untimed warm-up of each row's
code path. CPU s is the process's CPU time (both threads); on a shared machine it is the steadier number.

Memory: AR with the cache on a 10 s and a 60 s video, each in a fresh Python process: the growth of the process's
peak resident set (Linux's VmHWM, reset with /proc/self/clear_refs) over its size after loading the models and a
short warm-up, while sampling (the cache's memory is bounded by the window, so this should not grow with the length)
and while decoding (the decoded video itself, T x 64 x 64 float32, is returned whole and does grow with the length).
Not `ru_maxrss`: a child process inherits its parent's peak through exec, so it would report the parent's.
tracemalloc would not see these allocations: torch allocates tensors outside Python's allocator.

The goal for AR with the cache is real time: the frame rate of the footage the priors were trained on (`Generator.fps`,
23.976 for the film).
"""
from __future__ import annotations
import argparse, contextlib, json, os, resource, subprocess, sys, time
from pathlib import Path
import torch

from willie.generate import sampling
from willie.generate.sampling import SAMPLERS, Generator, cache_divergence, sample
from willie.layers.attention import KVCache
from willie.priors.transformer import Prior


def load_models()->tuple:
    "(generator, {'ar': prior, 'maskgit': prior}, notes): each method's bundled prior and their tokenizer."
    gen = Generator.load()
    notes = [f"{SAMPLERS[m].prior}: {m} prior from the registry" for m in gen.priors]
    notes.append(f"tokenizer from the registry: time x{gen.time_factor}, space x{gen.space_factor}, "
                 f"{gen.size}x{gen.size} frames at {gen.fps:.3f} fps")
    return gen, gen.priors, notes


@torch.no_grad()
def decode(tokenizer, tokens:torch.Tensor)->torch.Tensor:
    "(B, t, h, w) tokens -> (B, 1, T, 64, 64) frames, each video through `detokenize_stream` (what `generate` does)."
    return torch.cat([tokenizer.detokenize_stream(t) for t in tokens])


def sample_tokens(models:dict, method:str, latent:int, batch:int, g:torch.Generator, **options)->torch.Tensor:
    """(batch, latent, h, w) tokens from one method, through the dispatch `willie.generate.sampling.generate` uses (no
    prompt)."""
    return sample(models[method], method, latent, batch=batch, g=g, **options)


class ConcatCache(KVCache):
    "The baseline's KV cache: every step concatenates the new keys and values onto the held ones (a full copy)."
    def __len__(self): return 0 if self.k[0] is None else self.k[0].shape[2]

    def update(self, layer, k, v):
        if self.k[layer] is not None: k, v = torch.cat([self.k[layer], k], 2), torch.cat([self.v[layer], v], 2)
        keep = k.shape[2] if self.window is None else min(k.shape[2], self.window - 1)
        self.k[layer], self.v[layer] = k[:, :, k.shape[2] - keep:], v[:, :, v.shape[2] - keep:]
        return k, v


def multinomial_draw(logits, temperature=1.0, top_k=None, top_p=None, g=None)->tuple:
    "The baseline's token draw (no top-k/top-p: the bench uses neither): softmax, then `torch.multinomial`."
    p = (logits.float() / temperature).softmax(-1)
    tok = torch.multinomial(p.reshape(-1, p.shape[-1]), 1, generator=g).reshape(p.shape[:-1])
    return tok, p.gather(-1, tok[..., None]).squeeze(-1)


@contextlib.contextmanager
def as_before():
    "AR sampling as it was until 2026-12-04: `ConcatCache` in float32 and `multinomial_draw`."
    new_cache, draw = Prior.new_cache, sampling.sample_logits
    Prior.new_cache = lambda self, dtype=None: ConcatCache(self.cfg.n_layer, self.cfg.window)
    sampling.sample_logits = multinomial_draw
    try: yield
    finally: Prior.new_cache, sampling.sample_logits = new_cache, draw


def timed(fn)->tuple:
    "(result, wall seconds, CPU seconds) of fn()."
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def measure(tokenizer, models:dict, row:dict, latent:int, batch:int, seed:int)->dict:
    "Sample and decode one batch of videos (after an untimed warm-up of the same code path on 1 latent frame)."
    kw = {k: v for k, v in row.items() if k in ('steps', 'use_cache', 'cache_dtype', 'surprise')}
    with as_before() if row.get('before') else contextlib.nullcontext():
        return _measure(tokenizer, models, row, kw, latent, batch, seed)


def _measure(tokenizer, models:dict, row:dict, kw:dict, latent:int, batch:int, seed:int)->dict:
    decode(tokenizer, sample_tokens(models, row['method'], 1, 1, torch.Generator().manual_seed(seed), **kw))
    g = torch.Generator().manual_seed(seed)
    tok, ts, cs = timed(lambda: sample_tokens(models, row['method'], latent, batch, g, **kw))
    video, td, cd = timed(lambda: decode(tokenizer, tok))
    frames = video.shape[0] * video.shape[2]
    return dict(row, batch=batch, frames=frames, sample_s=ts, decode_s=td, cpu_s=cs + cd, fps=frames / (ts + td),
                tokens=tok)


def rss_mb(peak:bool=False)->float:
    "This process's resident set (MB) now, or its peak since the last `reset_peak` (Linux /proc; elsewhere ru_maxrss)."
    try:
        status = Path('/proc/self/status').read_text()
        return int(next(l for l in status.splitlines()
                        if l.startswith('VmHWM:' if peak else 'VmRSS:')).split()[1]) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak():
    "Start a new peak-RSS measurement from the current RSS (Linux: write 5 to /proc/self/clear_refs)."
    try: Path('/proc/self/clear_refs').write_text('5')
    except OSError: pass


def memory_probe(seconds:float, threads:int, seed:int)->dict:
    "In this process: peak-RSS growth of AR sampling with the cache, then of decoding, for a `seconds` video."
    torch.set_num_threads(threads)
    gen, models, _ = load_models()
    g = torch.Generator().manual_seed(seed)
    decode(gen.tokenizer, sample_tokens(models, 'ar', 2, 1, g))   # warm-up (and the decoder's context probe)
    reset_peak(); base = rss_mb()
    latent = gen.latent_frames_for(seconds)
    tok, ts, _ = timed(lambda: sample_tokens(models, 'ar', latent, 1, torch.Generator().manual_seed(seed)))
    sample_peak = rss_mb(peak=True)
    reset_peak(); before_decode = rss_mb()
    video, td, _ = timed(lambda: decode(gen.tokenizer, tok))
    return dict(seconds=seconds, frames=video.shape[2], base_mb=base, sample_growth_mb=sample_peak - base,
                decode_growth_mb=rss_mb(peak=True) - before_decode, peak_mb=max(sample_peak, rss_mb(peak=True)),
                video_mb=video.numel() * 4 / 2**20, fps=video.shape[2] / (ts + td))


def memory_rows(lengths, threads:int, seed:int)->list:
    "`memory_probe` for each length, each in a fresh Python process."
    out = []
    for s in lengths:
        cmd = [sys.executable, str(Path(__file__).resolve()), '--memory-probe', str(s), '--threads', str(threads),
               '--seed', str(seed)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"bench_generate: the memory probe at {s} s failed: "
                             f"{(r.stderr.strip().splitlines() or ['?'])[-1]}")
        out.append(json.loads(r.stdout.strip().splitlines()[-1]))
        print(f"  memory at {s:g} s: done [{out[-1]['frames']} frames, {out[-1]['fps']:.1f} frames/s]", flush=True)
    return out


BASELINE = 'AR, the cache as it was'
DEFAULT = 'AR, buffered cache, bfloat16, steered (default)'
ROWS = [dict(name=BASELINE, method='ar', before=True, surprise=None, cache_dtype=None),
        dict(name='AR, buffered cache, float32, fixed temperature', method='ar', surprise=None, cache_dtype=None),
        dict(name='AR, buffered cache, float32, steered', method='ar', cache_dtype=None),
        dict(name=DEFAULT, method='ar'),
        dict(name='MaskGIT, 10 steps (default)', method='maskgit')]
NO_CACHE = dict(name='AR, no cache', method='ar', use_cache=False)


def report(gen:Generator, results:list, mem:list, a, notes:list, kl:float):
    latent = gen.latent_frames_for(a.seconds)
    print(f"\nGenerated frames per second at {gen.size}x{gen.size}, decode included: {a.seconds:g} s videos "
          f"({gen.frames_for(latent)} frames, {latent} latent frames), {a.threads} CPU threads, seed {a.seed}"
          f"{'; --quick' if a.quick else ''}")
    for n in notes: print(f"  {n}")
    print(f"  load average (1 min) at the start {a.load[0]:.1f}, at the end {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores: above ~2, other jobs shared the CPU and wall-clock frames/s are lower than on a "
          "quiet machine (CPU s is steadier)")
    print("\n| sampler | batch | frames | sample s | decode s | CPU s | frames/s | × as before |"
          "\n|---|---|---|---|---|---|---|---|")
    for r in results:
        base = next(q for q in results if q['batch'] == r['batch'] and q['name'] == BASELINE)
        print(f"| {r['name']} | {r['batch']} | {r['frames']} | {r['sample_s']:.2f} | {r['decode_s']:.2f} | "
              f"{r['cpu_s']:.2f} | {r['fps']:.1f} | {r['fps'] / base['fps']:.2f} |")
    print("\n| AR with cache, batch 1 | frames | frames/s | RSS after loading | peak RSS growth while sampling | while "
          "decoding | decoded video | peak RSS |\n|---|---|---|---|---|---|---|---|")
    for m in mem:
        print(f"| {m['seconds']:g} s | {m['frames']} | {m['fps']:.1f} | {m['base_mb']:.0f} MB | "
              f"{m['sample_growth_mb']:.1f} MB | {m['decode_growth_mb']:.1f} MB | {m['video_mb']:.1f} MB | "
              f"{m['peak_mb']:.0f} MB |")
    print(f"\nGoals (issue 20): AR with the cache at {a.batch} videos at once >= {gen.fps:.3f} frames/s (real time)")
    for b in sorted({r['batch'] for r in results}):
        ar = next(r for r in results if r['batch'] == b and r['name'] == DEFAULT)
        mg = next(r for r in results if r['batch'] == b and r['method'] == 'maskgit')
        print(f"  batch {b}: the default AR {ar['fps']:.1f} frames/s: "
              f"{('met' if ar['fps'] >= gen.fps else 'NOT met') if b == a.batch else 'no goal at batch 1'}; "
              f"MaskGIT {mg['fps'] / ar['fps']:.1f}x the default AR")
    print(f"  the default's {SAMPLERS['ar'].options['cache_dtype']} cache against an exact one, reading its batch-1 "
          f"video token by token: KL {kl:.1e} bits a token (`cache_divergence`)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seconds', type=float, default=2.0, help='video length per batch item in the speed table')
    p.add_argument('--batch', type=int, default=8, help='the larger batch size (batch 1 is always measured)')
    p.add_argument('--memory', type=float, nargs='*', default=[10, 60],
                   help='video lengths (s) for the memory rows; none: skip them')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--no-cache', action='store_true', help='add AR without a cache at batch 1 (slow: minutes)')
    p.add_argument('--quick', action='store_true', help='a smoke test: 0.5 s videos, batch 2, memory at 1 s and 3 s')
    # internal: one memory row, as JSON
    p.add_argument('--memory-probe', type=float, default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.memory_probe is not None: print(json.dumps(memory_probe(a.memory_probe, a.threads, a.seed))); return
    if a.quick: a.seconds, a.batch, a.memory = 0.5, 2, [1, 3]
    if not a.seconds > 0 or a.batch < 1: raise SystemExit("bench_generate: --seconds must be > 0 and --batch >= 1")
    torch.set_num_threads(a.threads)
    t0 = time.time()
    a.load = os.getloadavg()
    gen, models, notes = load_models()
    latent, results = gen.latent_frames_for(a.seconds), []
    for b in sorted({1, a.batch}):
        for row in ROWS + ([NO_CACHE] if a.no_cache and b == 1 else []):
            results.append(measure(gen.tokenizer, models, row, latent, b, a.seed))
            r = results[-1]
            print(f"  {r['name']}, batch {b}: {r['fps']:.1f} frames/s [{r['sample_s'] + r['decode_s']:.0f}s]",
                  flush=True)
    mem = memory_rows(a.memory, a.threads, a.seed)
    video = next(r['tokens'] for r in results if r['batch'] == 1 and r['name'] == DEFAULT)
    kl = cache_divergence(models['ar'], video, SAMPLERS['ar'].options['cache_dtype'], progress=True)
    report(gen, results, mem, a, notes, kl)
    print(f"\ntotal {time.time() - t0:.0f}s")


if __name__ == '__main__': main()
