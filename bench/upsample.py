"""The upsampler on the film's held-out blocks: bicubic, the per-frame model and the video model side by side at ×2
(64→128) and ×4 (64→256) — PSNR and its gain over bicubic, SSIM, sharpness, flicker and its ratio to bicubic's,
motion, and the video model shown no neighbours ("video, still") — the same table as nbs/12_upsample.ipynb, by the same
`willie.generate.upsample.evaluate_upsampler`. Then the time per frame of each method at ×2 and ×4 with one and two
torch threads.

Needs the film's 64², 128² and 256² stores (`willie prepare --download --size 128`, then `--size 256`).

    python bench/upsample.py [--max-clips N] [--threads 1 2] [--no-eval]
"""
import argparse, os, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from willie.data.film import film_store
from willie.generate.upsample import (PairedClips, bicubic_upscale, evaluate_upsampler, time_per_frame, upsample_table,
                                      without_neighbours)
from willie.train.weights import load_weights


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--max-clips', type=int, default=None, help='score only the first N val clips (default: all)')
    p.add_argument('--threads', type=int, nargs='+', default=[1, 2], help='torch thread counts to time')
    p.add_argument('--no-eval', action='store_true', help='only time, skip the val table')
    args = p.parse_args()
    torch.set_num_threads(1)
    video = load_weights('upsample_64_256')
    methods = {'bicubic': bicubic_upscale, 'per-frame': load_weights('upsample_64_256_frame').upscale,
               'video': video.upscale}
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    print(f"torch {torch.__version__}, {os.cpu_count()} cpu(s), load average {load:.1f} at the start")

    if not args.no_eval:
        try: stores = [film_store(s, progress=False) for s in (64, 128, 256)]
        except FileNotFoundError as e: sys.exit(f"bench/upsample.py: {e}")
        val = PairedClips(stores, 16, 'val', stride=16)
        t0 = time.perf_counter()
        res = evaluate_upsampler(methods | {'video, still': without_neighbours(video)}, val, max_clips=args.max_clips,
                                 progress=False)
        print(f"\nval split of the film: every non-overlapping 16-frame clip of the held-out blocks "
              f"(scored in {time.perf_counter() - t0:.0f} s on 1 thread)")
        upsample_table(res)

    print(f"\ntime per frame (ms), a 16-frame 64² clip, best of 3 runs")
    print(f"{'':6} {'method':>12}" + ''.join(f" {f'{n} thread' + ('s' if n > 1 else ''):>10}" for n in args.threads))
    for s in (2, 4):
        for name, f in methods.items():
            print(f"{'×' + str(s):6} {name:>12}"
                  + ''.join(f" {time_per_frame(f, s, n) * 1e3:10.1f}" for n in args.threads))
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    print(f"(load average {load:.1f} at the end: other processes on the machine slow the timings down)")


if __name__ == '__main__': main()
