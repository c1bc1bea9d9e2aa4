"""Pack what a GPU run needs beside the tracked tree into .device/, then check that everything travels.

    python scripts/device_pack.py        # the film's 64x64 store -> .device/film_64.mp4 (+ .json), wheels, size check
    python scripts/device_pack.py --check  # the size check alone

The film store (39 MB of uint8 frames) travels as an H.264 file at CRF 6 (about 7 MB) that OpenCV decodes there: the
GPU trains on frames within a grey level or two of the store's (the PSNR is measured here and written into the .json).
The tree that travels must stay small: tracked files <= 56 MB, and tracked + untracked + .device <= 60 MiB.
"""
from __future__ import annotations
import argparse, json, subprocess, sys
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT/'.device'
WHEELS = ('fastprogress==1.0.5',)          # pure Python; the GPU machine's image lacks it (torch, numpy, cv2 are there)
# the bundled chain is 38 MB of it; 60 MiB leaves 4 MiB under the tool's 64
TRACKED_MAX, TOTAL_MAX = 56_000_000, 60 * 2**20


def git_files(root:Path, *args)->list:
    out = subprocess.run(['git', '-C', str(root), 'ls-files', '-z', *args], capture_output=True, check=True).stdout
    return [root/p for p in out.decode().split('\0') if p]

def folder_bytes(p:Path)->int:
    return p.stat().st_size if p.is_file() else sum(f.stat().st_size for f in p.rglob('*') if f.is_file())

def travel_size(root:Path=ROOT, carry=(PACK,))->dict:
    "Bytes that a device call sends: tracked files, untracked files git does not ignore, and the carried folders"
    tracked = sum(f.stat().st_size for f in git_files(root) if f.is_file())
    untracked = sum(f.stat().st_size for f in git_files(root, '--others', '--exclude-standard') if f.is_file())
    carried = sum(folder_bytes(Path(c)) for c in carry if Path(c).exists())
    return dict(tracked=tracked, untracked=untracked, carried=carried, total=tracked + untracked + carried)

def check_travel(root:Path=ROOT, carry=(PACK,))->dict:
    "`travel_size`, or a one-line `ValueError` saying what is over its limit"
    s = travel_size(root, carry)
    if s['tracked'] > TRACKED_MAX:
        raise ValueError(f"tracked files are {s['tracked']/1e6:.1f} MB, over {TRACKED_MAX/1e6:.0f} MB: the device call "
                         "would not fit; drop superseded weights (history keeps them) or large outputs")
    if s['total'] > TOTAL_MAX:
        raise ValueError(f"the tree that travels is {s['total']/2**20:.1f} MiB (tracked {s['tracked']/2**20:.1f}, "
                         f"untracked {s['untracked']/2**20:.1f}, carried {s['carried']/2**20:.1f}), over "
                         f"{TOTAL_MAX/2**20:.0f} MiB")
    return s

def encode_gray(frames, path:Path, fps:float, crf:int):
    "uint8 (T, H, W) frames -> H.264 .mp4 (yuv420p, every frame kept)"
    import av
    with av.open(str(path), 'w') as c:
        s = c.add_stream('libx264', rate=Fraction(fps or 24).limit_denominator(1001))
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], 'yuv420p'
        s.options = {'crf': str(crf), 'preset': 'veryslow'}
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format='gray').reformat(format='yuv420p')): c.mux(p)
        for p in s.encode(): c.mux(p)

def decode_gray(path:Path):
    "What the device machine does with it: OpenCV, BGR to gray"
    import cv2, numpy as np
    cap, out = cv2.VideoCapture(str(path)), []
    while True:
        ok, bgr = cap.read()
        if not ok: break
        out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    return np.stack(out)

def pack_store(store, size:int=64, crf:int=6, dest:Path=PACK)->dict:
    "A clip store as .device/film_<size>.mp4 + .json (its manifest, and how close the decoded frames are)"
    import numpy as np
    dest.mkdir(parents=True, exist_ok=True)
    mp4, js = dest/f'film_{size}.mp4', dest/f'film_{size}.json'
    frames = np.asarray(store.frames)
    encode_gray(frames, mp4.with_suffix('.tmp.mp4'), store.fps, crf)
    back = decode_gray(mp4.with_suffix('.tmp.mp4'))
    if back.shape != frames.shape: raise ValueError(f"the packed film decodes to {back.shape}, not {frames.shape}")
    mse = float(((back.astype(np.float64) - frames) ** 2).mean())
    psnr = 10 * np.log10(255 ** 2 / max(mse, 1e-10))
    mp4.with_suffix('.tmp.mp4').replace(mp4)
    js.write_text(json.dumps(dict(manifest=store.manifest, crf=crf, psnr_db=round(psnr, 2),
                                  max_abs_diff=int(np.abs(back.astype(int) - frames).max())), indent=1))
    return dict(file=mp4.name, bytes=mp4.stat().st_size, psnr_db=round(float(psnr), 2))

def fetch_wheels(dest:Path=PACK/'wheels'):
    dest.mkdir(parents=True, exist_ok=True)
    for w in WHEELS:
        if not list(dest.glob(w.split('==')[0].replace('-', '_') + '-*.whl')):
            subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:',
                            '-d', str(dest), w],
                           check=True)

def main(argv=None)->int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--check', action='store_true', help='only check what would travel')
    ap.add_argument('--crf', type=int, default=6, help='H.264 quality of the packed film (default 6; lower is closer)')
    ap.add_argument('--no-wheels', action='store_true', help='do not download the wheels (they are needed on the H200)')
    a = ap.parse_args(argv)
    try:
        if not a.check:
            from willie.data.film import film_store
            print('packed film:', pack_store(film_store(64, progress=False), crf=a.crf))
            if not a.no_wheels: fetch_wheels()
        s = check_travel()
    except (ValueError, FileNotFoundError, subprocess.CalledProcessError) as e:
        print(f"device_pack: {e}", file=sys.stderr); return 1
    print(', '.join(f"{k} {v/2**20:.1f} MiB" for k, v in s.items()) + f": fits (<= {TOTAL_MAX/2**20:.0f} MiB)")
    return 0

if __name__ == '__main__': sys.exit(main())
