"""Fine-tune only the decoder of a causal tokenizer against fresh discriminators, and judge the checkpoints.

    python experiments/gan_diagnosis/decoder_finetune.py train shipped    # the shipped GAN settings, 900 steps
    python experiments/gan_diagnosis/decoder_finetune.py train no_clip '{"d_grad_clip": 0}'  # D's gradients not clipped
    python experiments/gan_diagnosis/decoder_finetune.py train d_lr '{"d_grad_clip": 0, "d_lr": 0.001}'  # and 5x its lr
    python experiments/gan_diagnosis/decoder_finetune.py train hs600_shift '{"head_start": 600, "ramp": 1, "d_steps": 2,
        "r1": 1.0, "lr": 1e-5, "d_shift": 2, "steps": 1000}'
    python experiments/gan_diagnosis/decoder_finetune.py eval no_clip base 100 600   # full val split + two-sample test
    python experiments/gan_diagnosis/decoder_finetune.py train s4_hs300 '{"bs": 8, ...}' --base causal_s4_64

`--base NAME` picks the tokenizer (default `magvit_gan_64`, the one every run in `decoder_finetune.txt` used); `eval`
adds ColorVideoVDP's JOD when cvvdp is installed (`bash scripts/install_cvvdp.sh`).

The encoder and the quantizer are frozen and copied, so the tokens, the token store and the priors stay valid: only
how tokens are drawn changes. ~12 min per 900-step run on 2 threads (needs the film's 64² store). Checkpoints (the
decoder's EMA weights every 100 steps) and the training log go to ~/.cache/willie/runs/decoder_finetune/RUN.
`eval` scores each checkpoint on the whole val split as `willie eval-tokenizer` does (PSNR, SSIM, sharpness, motion,
seams) and runs the classifier two-sample test of `bench/two_sample.py` (50% = indistinguishable from film).
`magvit_gan_64` is no longer bundled: `willie train magvit_gan_64` makes it first (about 50 min on a CPU).
After each checkpoint the log prints the game's last 100 steps in 50-step means: the discriminators' hinge loss (2 =
chance), their real and fake logits (equal: they learned nothing), the GAN weight and the batches' sharpness ratio.
A run of another tokenizer than `magvit_gan_64` goes to runs/decoder_finetune/BASE/RUN.
The runs of `decoder_finetune.txt`, beside this script (head start, more discriminator steps, random shifts), came from
here, when it lived in `bench/`.
"""
import importlib.util, json, sys, time
from dataclasses import replace
from pathlib import Path
import numpy as np
import torch
from safetensors.torch import load_file, save_file

from willie.base.core import willie_home
from willie.data.film import ClipDataset, film_store
from willie.tokenizers.gan import Discriminators
from willie.eval.judges import two_sample_test
from willie.tokenizers.magvit import _phase_cfg, clip_fidelity, gan_step
from willie.eval.metrics import evaluate_tokenizer, footage, jod
from willie.train.loop import Trainer, step_batches
from willie.tokenizers.video_vae import fixed_clips, tokenizer_augment, tokenizer_data
from willie.train.weights import Recipe, known_weights, load_weights, to_json

BASE = 'magvit_gan_64'   # `--base` picks another
TWO_SAMPLE = Path(__file__).resolve().parents[2]/'bench'/'two_sample.py'   # the repository's bench/


def run_dir(run:str)->Path:
    return willie_home()/'runs'/'decoder_finetune'/(run if BASE == 'magvit_gan_64' else f'{BASE}/{run}')


def train(run:str, changes:dict, threads:int=2):
    "900 GAN steps on the decoder only (the shipped GAN phase's settings, lr 5e-5, ramp 200), `changes` applied."
    torch.set_num_threads(threads)
    out = run_dir(run); out.mkdir(parents=True, exist_ok=True)
    G = load_weights(BASE).train()   # says how to train it when it is not there
    recipe = Recipe.from_dict(known_weights()[BASE]['recipe'])   # the package's registry or the cache's
    a = recipe.data.augment
    train_ds, val_ds = tokenizer_data(recipe, film_store(64, progress=False))
    val = fixed_clips(val_ds, recipe.data.n_eval)
    augment = tokenizer_augment(train_ds, reverse=a.reverse, gain=a.gain, offset=a.offset)
    G.encoder.requires_grad_(False); G.quantizer.requires_grad_(False)   # optimizers skip parameters without gradients
    seed = 7
    torch.manual_seed(seed)
    D = Discriminators(recipe.disc)
    changes = dict(changes); d_clip = changes.pop('d_grad_clip', 1.0)   # the discriminators' clipping: not in the phase
    p = replace(recipe.gan, **dict(steps=900, lr=5e-5, ramp=200, eval_every=100) | changes)
    print('settings', json.dumps(to_json(p) | {'d_grad_clip': d_clip}), flush=True)
    g_cfg = _phase_cfg(recipe, p, seed, grad_clip=1.0, log_every=5)
    d_cfg = _phase_cfg(recipe, replace(p, lr=p.d_lr, betas=p.d_betas), seed, grad_clip=d_clip)
    t0, evals = time.time(), []
    def tracker(m):
        evals.append(clip_fidelity(m, val)); step = 100 * len(evals)
        save_file({k: v.contiguous() for k, v in m.decoder.state_dict().items()}, out/f'dec_{step:04d}.safetensors')
        print(f"{time.time() - t0:.0f}s step {step}: "
              + ', '.join(f'{k} {v:.3f}' for k, v in evals[-1].items()), flush=True)
        for a_ in range(step - 100, step, 50):   # how the game went since the last checkpoint
            seg = [h for h in tr.history if a_ <= h['step'] < a_ + 50]
            mean = lambda k: np.mean([h[k] for h in seg])
            print(f"  steps {a_}-{a_ + 49}: D hinge {mean('d_hinge'):.3f}, logits real {mean('logit_real'):+.2f} fake "
                  f"{mean('logit_fake'):+.2f}, gan_w {mean('gan_w'):.3f}, batch sharpness {mean('sharp'):.2f}",
                  flush=True)
        (out/'history.json').write_text(json.dumps(tr.history))
        return evals[-1]
    tr = Trainer({'generator': G, 'discriminator': D}, None,
                 step_batches(train_ds, p.bs, seed, augment=augment), g_cfg,
                 eval_fn=tracker, opt_cfgs={'discriminator': d_cfg}, step_fn=gan_step(p),
                 log=lambda s: None)
    tr.fit()


def evaluate(run:str, steps:list, threads:int=2):
    "Each checkpoint ('base' = the shipped decoder) on the whole val split, and its two-sample test."
    torch.set_num_threads(threads)
    spec = importlib.util.spec_from_file_location('two_sample', TWO_SAMPLE)
    ts = importlib.util.module_from_spec(spec); spec.loader.exec_module(ts)
    fp = ts.val_footage(64, None)
    full = ClipDataset(film_store(64, progress=False), 16, split='val', stride=16)
    try: jod(torch.zeros(1, 1, 2, 8, 8), torch.zeros(1, 1, 2, 8, 8)); with_jod = True
    except ImportError: with_jod = False
    print(f"| {BASE} checkpoint | PSNR | SSIM |{' JOD |' * with_jod} sharpness | motion | seams (film's) | bpp | "
          f"two-sample accuracy [95% CI] |\n|---|---|---|{'---|' * with_jod}---|---|---|---|---|")
    for s in steps:
        m = load_weights(BASE)
        if s != 'base': m.decoder.load_state_dict(load_file(str(run_dir(run)/f'dec_{int(s):04d}.safetensors')))
        r = evaluate_tokenizer(m, footage(full), progress=False, with_jod=with_jod)
        real, fake, bpp = ts.tokenizer_windows(m, fp)
        c = two_sample_test(real, fake, steps=300, seed=0)
        jod_col = f" {r['jod']:.2f} |" if with_jod else ''
        print(f"| {run} {s} | {r['psnr']:.2f} | {r['ssim']:.3f} |{jod_col} {r['sharpness']:.3f} | {r['motion']:.3f} | "
              f"{r['seams']:.3f} ({r['seams_original']:.3f}) | {bpp:.4f} | {c['accuracy']:.2f} "
              f"[{c['ci95'][0]:.2f}–{c['ci95'][1]:.2f}] |", flush=True)


if __name__ == '__main__':
    if '--base' in sys.argv:
        i = sys.argv.index('--base'); BASE = sys.argv[i + 1]; del sys.argv[i:i + 2]
    if len(sys.argv) < 3 or sys.argv[1] not in ('train', 'eval'): sys.exit(__doc__)
    if sys.argv[1] == 'train': train(sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else {})
    else: evaluate(sys.argv[2], sys.argv[3:] or ['base'])
