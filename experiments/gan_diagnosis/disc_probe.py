"""Can the GAN's discriminators learn to tell `magvit_gan_64`'s reconstructions from the film at all? (issue 8)

    python experiments/gan_diagnosis/disc_probe.py [--steps 200] [--threads 2]

The generator is frozen: each row trains fresh `willie.tokenizers.gan.Discriminators` alone (hinge loss, Adam (0.5,
0.9), lazy R1 every 4 steps as in `gan_step`) on train clips against their reconstructions, and reports the hinge loss
and the real - fake logit gap over the last 50 steps, then the accuracy of the sign of the mean logit on held-out val
clips and their reconstructions (50% = chance). If even this, the easiest possible job, stays at chance, the generator
in the GAN phase was never judged. Needs the film's 64² store; ~1-2 min per row on 2 threads.

`magvit_gan_64` is no longer bundled: `willie train magvit_gan_64` makes it first (about 50 min on a CPU), in the
cache, where `known_weights` finds its recipe. The run recorded in `disc_probe.txt` is from 2026-11-23.
"""
import argparse, time
import numpy as np
import torch
from willie.data.film import film_store
from willie.tokenizers.gan import Discriminators, hinge_d_loss, r1_penalty
from willie.train.loop import step_batches
from willie.tokenizers.video_vae import fixed_clips, tokenizer_data
from willie.train.weights import Recipe, known_weights, load_weights

ROWS = [dict(lr=2e-4, r1=10.0, bs=4, name='as in the GAN phase (lr 2e-4, R1 10, batch 4)'),
        dict(lr=2e-4, r1=0.0, bs=4, name='no R1'),
        dict(lr=1e-3, r1=0.0, bs=4, name='no R1, lr 1e-3'),
        dict(lr=1e-3, r1=0.0, bs=16, name='no R1, lr 1e-3, batch 16')]


def probe(row, disc_cfg, tok, train_ds, val_real, val_fake, steps, seed=0):
    torch.manual_seed(seed)
    D = Discriminators(disc_cfg)
    opt = torch.optim.Adam(D.parameters(), lr=row['lr'], betas=(0.5, 0.9))
    batches, log = step_batches(train_ds, row['bs'], seed), []
    for step in range(steps):
        x = batches(step)
        with torch.no_grad(): xh = tok(x)[0].clamp(-1, 1)
        frames = torch.randperm(x.shape[2])[:D.cfg.frames_2d].sort().values
        do_r1 = row['r1'] > 0 and step % 4 == 0
        xr = x.requires_grad_(do_r1)
        real, fake = D(xr, frames), D(xh, frames)
        loss = hinge_d_loss(real, fake) + (row['r1'] / 2 * 4 * r1_penalty(real, xr) if do_r1 else 0)
        opt.zero_grad(); loss.backward(); opt.step()
        log.append((hinge_d_loss(real, fake).item(), (real.mean() - fake.mean()).item()))
    with torch.no_grad():
        frames = torch.arange(0, val_real.shape[2], max(1, val_real.shape[2] // D.cfg.frames_2d))[:D.cfg.frames_2d]
        r, f = D(val_real, frames).mean(1), D(val_fake, frames).mean(1)
    acc = ((r > 0).float().sum() + (f < 0).float().sum()).item() / (len(r) + len(f))
    last = np.array(log[-50:])
    return last[:, 0].mean(), last[:, 1].mean(), acc


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--steps', type=int, default=200); p.add_argument('--threads', type=int, default=2)
    p.add_argument('--n-val', type=int, default=32)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    tok = load_weights('magvit_gan_64')
    recipe = Recipe.from_dict(known_weights()['magvit_gan_64']['recipe'])   # the package's registry or the cache's
    train_ds, val_ds = tokenizer_data(recipe, film_store(64, progress=False))
    disc_cfg = recipe.disc
    val_real = fixed_clips(val_ds, a.n_val)
    with torch.no_grad():
        val_fake = torch.cat([tok(val_real[i:i + 8])[0].clamp(-1, 1) for i in range(0, len(val_real), 8)])
    print(f"discriminators alone vs the frozen magvit_gan_64, {a.steps} steps, {a.n_val} val clips + reconstructions\n")
    print("| discriminator training | hinge, last 50 steps (2 = chance) | real - fake logit | held-out accuracy (50% = "
          "chance) | time |\n|---|---|---|---|---|")
    for row in ROWS:
        t0 = time.time()
        h, gap, acc = probe(row, disc_cfg, tok, train_ds, val_real, val_fake, a.steps)
        print(f"| {row['name']} | {h:.3f} | {gap:+.3f} | {acc:.2f} | {time.time() - t0:.0f} s |", flush=True)


if __name__ == '__main__': main()
