"""Random 16-frame clips: from the clip store (memmap slice) vs decoded from the mp4 with PyAV (seek + decode + gray +
crop + resize). Uses the real film when `willie.data.film.film_path()` finds it, else a synthetic video (and says so).
`--prepare` also times `prepare` at 64² and 128² into a temporary folder and prints the store sizes.

    python bench/bench_clips.py [--prepare] [--n-store 5000] [--n-decode 40]
"""
import argparse, os, sys, tempfile, time
from pathlib import Path
import numpy as np, torch, av
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from willie.base.core import to_float
from willie.data.film import (ClipDataset, check_video, detect_bars, film_path, film_store, prepare, resize_frames,
                              sample_frames, square_box, synthetic_video)


def decode_clip(container, stream, start:int, clip_len:int, fps:float, crop, size:int)->torch.Tensor:
    "The baseline: seek to the keyframe before `start`, decode up to it, take `clip_len` frames, gray, crop, resize."
    t0 = start / fps
    container.seek(int(t0 / stream.time_base) + (stream.start_time or 0), stream=stream, backward=True)
    x0, y0, x1, y1 = crop
    frames = []
    for f in container.decode(stream):
        if f.time is None or f.time < t0 - 0.5 / fps: continue
        frames.append(f.to_ndarray(format='gray')[y0:y1, x0:x1])
        if len(frames) == clip_len: break
    clip = to_float(resize_frames(np.stack(frames), size))
    return clip[None]

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--clip-len', type=int, default=16)
    p.add_argument('--n-store', type=int, default=5000, help='clips sampled from the store')
    p.add_argument('--n-decode', type=int, default=40, help='clips decoded from the mp4')
    p.add_argument('--prepare', action='store_true', help='also time prepare at 64 and 128 and print store sizes')
    args = p.parse_args()
    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix='willie-bench-'))
    try:
        video = film_path(); what = f'the film ({video.name})'
    except FileNotFoundError:
        video = synthetic_video(tmp/'synthetic.mp4', n_frames=720, width=576, height=480, cuts=(240, 480))
        what = 'a SYNTHETIC video (the film was not found: numbers are not the film\'s)'
    info = check_video(video)
    print(f'video: {what}: {info.width}x{info.height}, {info.fps:.3f} fps, {info.n_frames} frames; torch threads 1, '
          f'{os.cpu_count()} cpu(s)')

    rows = []
    if args.prepare:
        for size in (64, 128):
            t = time.perf_counter(); s = prepare(video, tmp/f'store_{size}', size=size, progress=False)
            dt = time.perf_counter() - t
            mb = sum(f.stat().st_size for f in s.path.iterdir()) / 1e6
            rows.append((f'prepare {size}x{size}', f'{dt:.1f} s', f'{len(s)/dt:.0f} frames/s', f'store {mb:.1f} MB'))
        store = s if args.size == 128 else prepare(video, tmp/f'store_{args.size}', size=args.size, progress=False)
    else:
        store = film_store(args.size, progress=False) if what.startswith('the film') else \
                prepare(video, tmp/f'store_{args.size}', size=args.size, progress=False)

    ds = ClipDataset(store, clip_len=args.clip_len, split='all')
    g = np.random.default_rng(0)
    idx = g.integers(len(ds), size=args.n_store)
    t = time.perf_counter()
    for i in idx: ds[i]
    store_rate = args.n_store / (time.perf_counter() - t)

    crop = square_box(detect_bars(sample_frames(video)))
    starts = g.integers(0, len(store) - args.clip_len, size=args.n_decode)
    with av.open(str(video)) as c:
        st = c.streams.video[0]
        clip = decode_clip(c, st, int(starts[0]), args.clip_len, info.fps, crop, args.size)  # warm up
        assert clip.shape == (1, args.clip_len, args.size, args.size)
        t = time.perf_counter()
        for s0 in starts: decode_clip(c, st, int(s0), args.clip_len, info.fps, crop, args.size)
        decode_rate = args.n_decode / (time.perf_counter() - t)

    rows += [(f'store: random {args.clip_len}-frame clips', f'{store_rate:,.0f} clips/s', f'n={args.n_store}',
              f'{args.size}x{args.size}'),
             (f'mp4: seek+decode+gray+resize', f'{decode_rate:,.1f} clips/s', f'n={args.n_decode}',
              f'{args.size}x{args.size}'),
             ('ratio store / mp4', f'{store_rate/decode_rate:,.0f}x', 'goal >= 100x', 'goal >= 2,000 clips/s')]
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    print('\n'.join('  '.join(c.ljust(w[i]) for i, c in enumerate(r)) for r in rows))
    import shutil; shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
