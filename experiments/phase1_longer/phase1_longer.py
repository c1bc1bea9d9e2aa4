"""Does the causal tokenizer's phase 1 still have room? Continue `causal_64`'s reconstruction training for more steps.

    python experiments/phase1_longer/phase1_longer.py 2500   # 2,500 more steps, lr 3e-4, 100 warm-up, cosine to 3e-5

Starts from the `causal_64` weights (phase 1's final EMA), same data, augmentation, batch and weight decay as its
recipe; a fresh optimizer. They are no longer bundled: `willie train causal_64` makes them first (about 47 min on a
CPU). Prints the tracked val clips' PSNR, sharpness and motion every 500 steps, then the whole val split as
`willie eval-tokenizer` scores it, for the starting weights and the continued ones. The continued weights
(EMA) go to ~/.cache/willie/runs/phase1_longer/causal_64_more.safetensors; nothing in the package changes, because
new encoder weights would make the token store and the priors stale. ~0.6 s per step on 2 threads (needs the 64² store);
`phase1_longer.txt`, beside this script, is the 2,500-step run.
"""
import sys, time
from dataclasses import replace
import torch
from safetensors.torch import save_file

from willie.base.core import willie_home
from willie.data.film import ClipDataset, film_store
from willie.tokenizers.magvit import _phase_cfg, clip_fidelity
from willie.eval.metrics import evaluate_tokenizer, footage
from willie.train.loop import Trainer, step_batches
from willie.tokenizers.video_vae import fixed_clips, recon_loss, tokenizer_augment, tokenizer_data
from willie.train.weights import Recipe, known_weights, load_weights


def main(steps:int, lr:float=3e-4, threads:int=2):
    torch.set_num_threads(threads)
    model = load_weights('causal_64').train()   # says how to train it when it is not there
    recipe = Recipe.from_dict(known_weights()['causal_64']['recipe'])
    a, p = recipe.data.augment, recipe.recon
    store = film_store(64, progress=False)
    train_ds, val_ds = tokenizer_data(recipe, store)
    val = fixed_clips(val_ds, recipe.data.n_eval)
    augment = tokenizer_augment(train_ds, reverse=a.reverse, gain=a.gain, offset=a.offset)
    seed = recipe.seed + 2          # phase 1 used seed, the GAN phase seed + 1: a data order neither saw
    t0 = time.time()
    def tracker(m):
        r = clip_fidelity(m, val)
        print(f"{time.time() - t0:.0f}s " + ', '.join(f'{k} {v:.3f}' for k, v in r.items()), flush=True)
        return r
    cfg = _phase_cfg(recipe, replace(p, steps=steps, lr=lr, warmup=100, eval_every=500), seed)
    print('start (causal_64):',
          ', '.join(f'{k} {v:.3f}' for k, v in clip_fidelity(model.eval(), val).items()), flush=True)
    tr = Trainer(model.train(), recon_loss, step_batches(train_ds, p.bs, seed, augment=augment), cfg,
                 eval_fn=tracker, log=lambda s: None).fit()
    out = willie_home()/'runs'/'phase1_longer'; out.mkdir(parents=True, exist_ok=True)
    more = tr.ema.float().eval()
    save_file({k: v.contiguous() for k, v in more.state_dict().items()}, str(out/'causal_64_more.safetensors'))
    full = ClipDataset(store, 16, split='val', stride=16)
    print("| weights | steps | PSNR | SSIM | sharpness | motion | seams (film's) | code use |"
          "\n|---|---|---|---|---|---|---|---|")
    for name, m, n in (('causal_64', load_weights('causal_64'), p.steps), ('continued', more, p.steps + steps)):
        r = evaluate_tokenizer(m, footage(full), progress=False)
        print(f"| {name} | {n} | {r['psnr']:.2f} | {r['ssim']:.3f} | {r['sharpness']:.3f} | {r['motion']:.3f} | "
              f"{r['seams']:.3f} ({r['seams_original']:.3f}) | {r['code_use']:.0%} |", flush=True)
    print(f"{time.time() - t0:.0f}s in all")


if __name__ == '__main__':
    if len(sys.argv) != 2 or not sys.argv[1].isdigit(): sys.exit(__doc__)
    main(int(sys.argv[1]))
