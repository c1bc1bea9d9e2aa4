"""The README's contact sheet: 16 samples of the bundled chain side by side, each with the SSIM of its nearest training
clip underneath (so a copy of the film would show: held-out film scores the `val` figure printed at the end).

    python scripts/contact_sheet.py [--method ar|maskgit] [--seed 0] [--seconds 2] [--temperature T]
                                    [--out docs/assets/contact_sheet.png]

The 16 samples are drawn as one batch from `--seed` (sample i of the batch, not `willie generate --seed i`) at the
method's own temperature (`--temperature` to change it); each tile shows the sample at 0.5, 1 and 1.5 s, and the lookup
uses the 17 frames around 1 s. Needs the film's 64x64 store for the lookup.
"""
import argparse, time
from pathlib import Path
import numpy as np, torch
from PIL import Image, ImageDraw
from willie.data.film import ClipDataset, film_store
from willie.apps.gallery import NearestClips
from willie.base.core import to_uint8
from willie.generate.sampling import SAMPLERS, Generator, sample

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--method', choices=list(SAMPLERS), default='ar')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--seconds', type=float, default=2.0)
    ap.add_argument('--temperature', type=float, default=None, help="default: the method's own")
    ap.add_argument('--priors', nargs=2, default=['prior_s4_64', 'maskgit_s4_64'], metavar=('AR', 'MASKGIT'))
    ap.add_argument('--out', type=Path, default=Path('docs/assets/contact_sheet.png'))
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    gen, g = Generator.load(*a.priors), torch.Generator().manual_seed(a.seed)
    n, t0 = gen.latent_frames_for(a.seconds), time.time()
    tok = sample(gen.prior(a.method), a.method, n, batch=16, g=g, temperature=a.temperature, progress=True)
    with torch.no_grad(): video = torch.stack([gen.decode(t[None])[0] for t in tok])      # (16, 1, T, S, S)
    print(f"16 samples of {video.shape[2]} frames in {time.time() - t0:.0f} s")
    store = film_store(gen.size, progress=False)
    index, mid = NearestClips(store, 17), min(round(gen.fps), video.shape[2] - 9)   # the frame at 1 s
    ssim_train, _ = index.nearest(video[:, :, mid - 8:mid + 9])
    val = ClipDataset(store, 17, split='val', stride=17)
    real = torch.stack([val[int(i)] for i in np.linspace(0, len(val) - 1, 16).round()])
    ssim_val, _ = index.nearest(real)
    times = [max(0, mid - round(gen.fps / 2)), mid, min(video.shape[2] - 1, mid + round(gen.fps / 2))]  # 0.5, 1, 1.5 s
    s, pad, gap = 2 * gen.size, 16, 8
    w = len(times) * s + gap
    sheet = Image.new('L', (4 * w, 4 * (s + pad)), 255); d = ImageDraw.Draw(sheet)
    for i in range(16):
        x, y = (i % 4) * w, (i // 4) * (s + pad)
        for j, f in enumerate(times):
            sheet.paste(Image.fromarray(to_uint8(video[i, 0, f]).numpy()).resize((s, s), Image.NEAREST), (x + j * s, y))
        d.text((x + 4, y + s + 2), f"#{i}  nearest train SSIM {ssim_train[i]:.2f}", fill=0)
    a.out.parent.mkdir(parents=True, exist_ok=True); sheet.save(a.out, optimize=True)
    temperature = SAMPLERS[a.method].temperature if a.temperature is None else a.temperature
    options = {k: v for k, v in SAMPLERS[a.method].options.items() if k in ('surprise', 'steps')}
    print(f"{a.method} at temperature {temperature}, {options}, seed {a.seed}")
    print(f"{a.out}: nearest-train SSIM of the samples median {ssim_train.median():.2f} (max {ssim_train.max():.2f}); "
          f"held-out film's median {ssim_val.median():.2f} (max {ssim_val.max():.2f})")

if __name__ == '__main__': main()
