"""Time and peak memory of `willie.layers.attention` backends, L = 1k..8k, full causal vs a causal sliding window.

    OMP_NUM_THREADS=2 nice -n 15 python bench/bench_attention.py            # 3-6 min on the course's 2-core CPU
    python bench/bench_attention.py --lengths 1024 2048 --window 512         # a quicker look

Batch 1, 8 heads of 64, fp32, ALiBi slopes. Every configuration runs in a fresh Python process, so its peak memory is
the growth of that process's peak resident set (`ru_maxrss`) over its size just before the call: the real peak,
fused-kernel workspaces and the mask included, not an estimate. `mask` is the size of the additive mask the call
builds. Time is the median of a few calls after a warm-up, as wall-clock and as CPU time of the process (both threads
summed); on a shared machine the CPU time is the steadier of the two, so the time ratios use it. Ratios are to
full-causal SDPA at the same length, in the same run. Rows:

- sdpa causal: SDPA with one (1, H, L, L) ALiBi + causal mask, the baseline;
- sdpa window, one mask: the windowed mask as a single (1, H, L, L) tensor (chunk=0): the same memory as full causal;
- sdpa window, blocks: `windowed_sdpa`, blocks of c = max(W, 512) queries against their c + W - 1 keys: O(L·W);
- flex window (eager): FlexAttention called without torch.compile (forward only on CPU in torch 2.13; up to 2k);
- naive causal: the explicit-softmax reference (up to 2k).

Not in the table: `backend='flex-compiled'` (FlexAttention through torch.compile) compiles for ~50 s per shape on this
CPU; measured once on its own at 8k with the window: 152 ms CPU forward, ~half of SDPA in blocks, no backward on CPU.

Skipped rows say why; all of them would only repeat a cost already shown at a shorter length.

Measured on the course machine (2-core Xeon, 2 threads, shared with other jobs; nice 15), W = 256:

| pass | L | backend | wall ms | CPU ms | × causal (CPU) | peak MB | × causal | mask MB |
|---|---|---|---|---|---|---|---|---|
| fwd | 1024 | sdpa causal | 32 | 32 | 1.00 | 49 | 1.00 | 32.0 |
| fwd | 1024 | sdpa window 256, one mask | 32 | 32 | 1.00 | 58 | 1.18 | 32.0 |
| fwd | 1024 | sdpa window 256, blocks | 36 | 36 | 1.12 | 58 | 1.18 | 32.0 |
| fwd | 1024 | flex window 256 (eager) | 397 | 384 | 12.01 | 247 | 5.01 | 0.0 |
| fwd | 1024 | naive causal | 129 | 125 | 3.89 | 106 | 2.16 | 32.0 |
| fwd | 2048 | sdpa causal | 138 | 128 | 1.00 | 184 | 1.00 | 128.0 |
| fwd | 2048 | sdpa window 256, one mask | 125 | 125 | 0.98 | 185 | 1.00 | 128.0 |
| fwd | 2048 | sdpa window 256, blocks | 74 | 81 | 0.63 | 29 | 0.16 | 12.0 |
| fwd | 2048 | flex window 256 (eager) | 1313 | 1169 | 9.14 | 550 | 2.98 | 0.0 |
| fwd | 2048 | naive causal | 6757 | 436 | 3.41 | 400 | 2.17 | 128.0 |
| fwd | 4096 | sdpa causal | 8144 | 503 | 1.00 | 724 | 1.00 | 512.0 |
| fwd | 4096 | sdpa window 256, one mask | 792 | 516 | 1.02 | 725 | 1.00 | 512.0 |
| fwd | 4096 | sdpa window 256, blocks | 288 | 192 | 0.38 | 38 | 0.05 | 12.0 |
| fwd | 4096 | flex window 256 (eager) | skipped: materializes the L² scores, slow | | | | | |
| fwd | 4096 | naive causal | skipped: materializes the L² scores, slow | | | | | |
| fwd | 8192 | sdpa causal | 2888 | 2028 | 1.00 | 2884 | 1.00 | 2048.0 |
| fwd | 8192 | sdpa window 256, one mask | skipped: the same mask as causal | | | | | |
| fwd | 8192 | sdpa window 256, blocks | 431 | 285 | 0.14 | 53 | 0.02 | 12.0 |
| fwd | 8192 | flex window 256 (eager) | skipped: materializes the L² scores, slow | | | | | |
| fwd | 8192 | naive causal | skipped: materializes the L² scores, slow | | | | | |
| fwd+bwd | 1024 | sdpa causal | 255 | 170 | 1.00 | 59 | 1.00 | 32.0 |
| fwd+bwd | 1024 | sdpa window 256, one mask | 275 | 183 | 1.07 | 62 | 1.04 | 32.0 |
| fwd+bwd | 1024 | sdpa window 256, blocks | 186 | 176 | 1.03 | 61 | 1.03 | 32.0 |
| fwd+bwd | 1024 | flex window 256 (eager) | no backward on CPU | | | | | |
| fwd+bwd | 1024 | naive causal | 441 | 302 | 1.77 | 145 | 2.45 | 32.0 |
| fwd+bwd | 2048 | sdpa causal | 754 | 482 | 1.00 | 184 | 1.00 | 128.0 |
| fwd+bwd | 2048 | sdpa window 256, one mask | 708 | 483 | 1.00 | 185 | 1.00 | 128.0 |
| fwd+bwd | 2048 | sdpa window 256, blocks | 943 | 624 | 1.30 | 63 | 0.34 | 12.0 |
| fwd+bwd | 2048 | flex window 256 (eager) | no backward on CPU | | | | | |
| fwd+bwd | 2048 | naive causal | 1242 | 1201 | 2.49 | 536 | 2.91 | 128.0 |
| fwd+bwd | 4096 | sdpa causal | 2066 | 1779 | 1.00 | 724 | 1.00 | 512.0 |
| fwd+bwd | 4096 | sdpa window 256, one mask | 2820 | 1808 | 1.02 | 725 | 1.00 | 512.0 |
| fwd+bwd | 4096 | sdpa window 256, blocks | 818 | 731 | 0.41 | 96 | 0.13 | 12.0 |
| fwd+bwd | 4096 | flex window 256 (eager) | no backward on CPU | | | | | |
| fwd+bwd | 4096 | naive causal | skipped: materializes the L² scores, slow | | | | | |
| fwd+bwd | 8192 | sdpa causal | 9896 | 6968 | 1.00 | 2884 | 1.00 | 2048.0 |
| fwd+bwd | 8192 | sdpa window 256, one mask | skipped: the same mask as causal | | | | | |
| fwd+bwd | 8192 | sdpa window 256, blocks | 3206 | 2019 | 0.29 | 163 | 0.06 | 12.0 |
| fwd+bwd | 8192 | flex window 256 (eager) | no backward on CPU | | | | | |
| fwd+bwd | 8192 | naive causal | skipped: materializes the L² scores, slow | | | | | |

(total 326 s at load average ~8; skipped rows say why)
"""
import argparse, json, os, resource, subprocess, sys, time
from pathlib import Path

H, D = 8, 64
ROWS = [('sdpa', 'causal', None), ('sdpa', 'window, one mask', 0), ('sdpa', 'window, blocks', None),
        ('flex', 'window (eager)', None), ('naive', 'causal', None)]

def rss()->int:
    "Resident set size of this process in bytes (psutil if installed, else Linux's /proc)."
    try: import psutil; return psutil.Process().memory_info().rss
    except ImportError: return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')

def one(backend:str, kind:str, L:int, W:int, bwd:bool)->dict:
    "Run one configuration in this process; return time (ms) and peak memory growth (MB)."
    import torch
    from willie.layers.attention import attention, alibi_slopes, attn_mask
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, H, L, D, requires_grad=bwd) for _ in range(3))
    window = None if kind == 'causal' else W
    chunk = 0 if 'one mask' in kind else None
    sl = alibi_slopes(H)
    def run():
        with torch.set_grad_enabled(bwd):
            o = attention(q, k, v, slopes=sl, window=window, backend=backend, chunk=chunk)
            if bwd: o.sum().backward()
    rss0 = rss()
    t0 = time.perf_counter(); run(); first = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss0
    times, cpu, reps = [], [], 1 if first > 1.0 else 3 if first > 0.2 else 10
    for _ in range(reps):
        if bwd: q.grad = k.grad = v.grad = None
        t0, c0 = time.perf_counter(), time.process_time(); run()
        times.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
    c = max(W, 512)
    mask = H * L * L * 4 if (backend != 'flex' and (window is None or chunk == 0 or L <= 2 * c)) else \
           H * c * (c + W - 1) * 4 if backend == 'sdpa' else 0
    return dict(ms=sorted(times)[len(times) // 2] * 1e3, cpu_ms=sorted(cpu)[len(cpu) // 2] * 1e3,
                peak_mb=max(peak, 0) / 2**20, mask_mb=mask / 2**20)

def skip_reason(backend, kind, L, bwd, args):
    if backend == 'flex' and bwd: return 'no backward on CPU'
    if backend in ('naive', 'flex') and L > 2048: return 'skipped: materializes the L² scores, slow'
    if 'one mask' in kind and L > 4096: return 'skipped: the same mask as causal'
    return None

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--lengths', type=int, nargs='+', default=[1024, 2048, 4096, 8192])
    p.add_argument('--window', type=int, default=256)
    p.add_argument('--one', nargs=4, metavar=('BACKEND', 'KIND', 'L', 'BWD'), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        b, kind, L, bwd = args.one
        print(json.dumps(one(b, kind, int(L), args.window, bwd == '1'))); return
    t_start, res = time.time(), {}
    env = {**os.environ, 'PYTHONPATH': str(Path(__file__).resolve().parents[1])}
    for bwd in (False, True):
        for L in args.lengths:
            for backend, kind, _ in ROWS:
                key = (backend, kind, L, bwd)
                if why := skip_reason(backend, kind, L, bwd, args): res[key] = why; continue
                out = subprocess.run([sys.executable, __file__, '--window', str(args.window), '--one', backend, kind,
                                      str(L), str(int(bwd))],
                                     capture_output=True, text=True, env=env)
                res[key] = (json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0
                            else f'failed: {out.stderr.strip().splitlines()[-1][:60]}')
                print(f'{"fwd+bwd" if bwd else "fwd":>7} {L:>5} {backend} {kind}: {res[key]}',
                      file=sys.stderr, flush=True)
    print(table(res, args.lengths, args.window))
    print(f'\n(total {time.time() - t_start:.0f} s, torch threads {os.environ.get("OMP_NUM_THREADS", "default")})')

def table(res, lengths, W)->str:
    lines = [f'| pass | L | backend | wall ms | CPU ms | × causal (CPU) | peak MB | × causal | mask MB |',
             '|---|---|---|---|---|---|---|---|---|']
    for bwd in (False, True):
        for L in lengths:
            base = res.get(('sdpa', 'causal', L, bwd))
            for backend, kind, _ in ROWS:
                r = res[(backend, kind, L, bwd)]
                name = f'{backend} {kind}'.replace('window', f'window {W}')
                if isinstance(r, str):
                    lines.append(f'| {"fwd+bwd" if bwd else "fwd"} | {L} | {name} | {r} | | | | | |'); continue
                rt = f'{r["cpu_ms"] / base["cpu_ms"]:.2f}' if isinstance(base, dict) else ''
                rm = f'{r["peak_mb"] / base["peak_mb"]:.2f}' if isinstance(base, dict) and base['peak_mb'] > 0 else ''
                lines.append(f'| {"fwd+bwd" if bwd else "fwd"} | {L} | {name} | {r["ms"]:.0f} | {r["cpu_ms"]:.0f} | '
                             f'{rt} | {r["peak_mb"]:.0f} | {rm} | {r["mask_mb"]:.1f} |')
    return '\n'.join(lines)

if __name__ == '__main__': main()
