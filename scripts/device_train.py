"""The course's training chain as one run on a GPU machine: unpack the film, check the GPU code paths, train the
tokenizer, tokenize the film, train the AR prior and MaskGIT. Every stage trains under a time budget (the recipes'
`minutes`) and runs in its own process under a hard limit; whatever a stage finishes is copied into OUT the moment it
ends, so a stage that fails or is killed still leaves the ones before it.

    python scripts/device_pack.py                 # here: pack the film store and wheels into .device/, check the size
    bash scripts/device_train.sh OUT              # there (any CUDA machine), from the repository root
    python scripts/device_install.py OUT          # here: evaluate what came back, install what beats what ships

`--tiny` runs the same chain at toy size on a CPU in seconds (tests/test_device.py).
"""
from __future__ import annotations
import argparse, importlib, json, os, subprocess, sys, tarfile, time, traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# what travels beside the tree: `carry: ['.device']`
PACK = Path(os.environ.get('WILLIE_DEVICE_PACK') or ROOT/'.device')
NEEDS = ('torch', 'numpy', 'einops', 'safetensors', 'fastprogress', 'cv2')
TINY_MINUTES = 0.02                        # each training stage's budget at toy size

# name: (what it makes, the stages it needs, hard limit in seconds beyond the recipe's training budget)
STAGES = {
    'checks': ('attention backends against the reference on the GPU; one bf16 step of every recipe', (), 75),
    'tokenizer': ('causal_s4_64, phase 1 (the GAN phase lowered JOD before: not in this run)', (), 70),
    'tokens': ('the film coded by causal_s4_64, 4 phases x flip', ('tokenizer',), 60),
    'prior': ('prior_s4_64, the AR prior', ('tokens',), 45),
    'maskgit': ('maskgit_s4_64, MaskGIT', ('tokens',), 45),
    'ablation': ("issue 20's prior arms on the shipped causal_s4_64's tokens (not in the default chain)", (), 150),
}
DEFAULT_STAGES = [s for s in STAGES if s != 'ablation']
ABLATION_MINUTES = 1.0                     # each arm's budget: the shipped prior's best val came after ~50 s
RECIPE = {'tokenizer': ('causal_s4_64_gpu', 'causal_s4_64'), 'prior': ('prior_s4_64_gpu', 'prior_s4_64'),
          'maskgit': ('maskgit_s4_64_gpu', 'maskgit_s4_64')}   # stage: (recipe, registry name it is saved under)


def missing_modules()->list:
    "The modules the chain imports that this machine lacks"
    out = []
    for m in NEEDS:
        try: importlib.import_module(m)
        except ImportError as e: out.append(f"{m} ({e})")
    return out

def home()->Path: return Path(os.environ['WILLIE_HOME'])

IN_STAGE = False                           # a stage's process prints; the driver copies its output into the log

def log_line(out:Path, msg:str):
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    if not IN_STAGE:
        with open(out/'log.txt', 'a') as f: f.write(line + '\n')

def write_json(path:Path, obj):
    tmp = path.with_name(f'.{path.name}.tmp'); tmp.write_text(json.dumps(obj, indent=1)); tmp.replace(path)

def ship(out:Path, name:str, files:list):
    "Copy finished files into OUT as one tar, atomically (what comes back even if a later stage is killed)"
    tmp = out/f'.{name}.tar.tmp'
    with tarfile.open(tmp, 'w') as t:
        for f in files: t.add(f, arcname=f.name)   # a folder goes in whole, under its own name
    tmp.replace(out/f'{name}.tar')


# --- unpacking the film: the training data on the GPU -------------------------------------------------------------
def unpack_film(size:int=64)->Path:
    "Decode .device/film_<size>.mp4 into a clip store where `film_store(size)` finds it; the manifest is the original's"
    import numpy as np
    from device_pack import decode_gray    # the decoding the packer measured its PSNR with
    src, meta = PACK/f'film_{size}.mp4', json.loads((PACK/f'film_{size}.json').read_text())
    frames, m = decode_gray(src), meta['manifest']
    if len(frames) != m['n_frames']:
        raise SystemExit(f"{src.name}: decoded {len(frames)} frames, the manifest says {m['n_frames']}")
    dest = home()/'stores'/f'film_{size}'
    tmp = dest.with_name(f'.{dest.name}.tmp'); tmp.mkdir(parents=True, exist_ok=True)
    np.save(tmp/'frames.npy', frames)
    (tmp/'manifest.json').write_text(json.dumps(m))
    if dest.exists(): import shutil; shutil.rmtree(dest)
    tmp.replace(dest)
    return dest


# --- the stages, each run in its own process ----------------------------------------------------------------------
def recipe_for(stage:str, tiny:bool)->'Recipe':
    from dataclasses import replace
    from willie.apps.recipes import all_recipes, tiny_recipe
    r = all_recipes()[RECIPE[stage][0]]
    if not tiny: return r
    r = tiny_recipe(r)
    timed = {ph: replace(p, steps=1000, minutes=TINY_MINUTES) for ph, p in r.phases.items() if ph in ('recon', 'train')}
    r = replace(r, gpu=None, **timed)      # bf16 autocast on a CPU is another path; the `checks` stage runs it
    if stage != 'tokenizer': r = replace(r, data=replace(r.data, tokenizer=RECIPE['tokenizer'][1]))
    return r

def cache_weights()->Path: return home()/'weights'

def film()->'ClipStore':
    "The unpacked film: every stage trains on it by name, never on a film found elsewhere on the machine"
    from willie.data.film import ClipStore
    return ClipStore(home()/'stores'/'film_64')

def tokenizer_split(tiny:bool)->dict:
    d = recipe_for('tokenizer', tiny).data
    return dict(block_len=d.block_len, val_every=d.val_every)

def attention_parity(dev:str)->dict:
    "Each attention backend against the fp32 reference on `dev`: largest error of the output and of the gradients"
    import torch
    from willie.layers.attention import attention, alibi_slopes, flash_status
    res, g = {}, torch.Generator(device=dev).manual_seed(0)
    backends = ['sdpa', 'flex', 'flex-compiled', 'naive'] + (['flash'] if flash_status() is None else [])
    for causal in (True, False):
        for window in (None, 96):
            q, k, v = (torch.randn(2, 4, 256, 32, device=dev, generator=g) for _ in range(3))
            kw = dict(slopes=alibi_slopes(4).to(dev), window=window, causal=causal)
            q, k, v = (x.requires_grad_() for x in (q, k, v))
            ref = attention(q, k, v, backend='naive', **kw)
            gref = torch.autograd.grad(ref.square().sum(), (q, k, v))
            for b in backends:
                for dtype in (torch.float32, torch.bfloat16):
                    # compiling costs ~10 s each
                    if b == 'flex-compiled' and (dtype == torch.float32 or not causal): continue
                    key = f"{b} causal={causal} window={window} {str(dtype)[6:]}"
                    try:
                        qq, kk, vv = (x.detach().to(dtype).requires_grad_() for x in (q, k, v))
                        o = attention(qq, kk, vv, backend=b, **kw)
                        gr = torch.autograd.grad(o.float().square().sum(), (qq, kk, vv))
                        res[key] = dict(out=(o.float() - ref).abs().max().item(),
                                        grad=max((a.float() - r).abs().max().item() for a, r in zip(gr, gref)))
                    except Exception as e: res[key] = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
    return res

def stage_checks(out:Path, dev:str, tiny:bool):
    import torch
    from dataclasses import replace
    from willie.apps.recipes import all_recipes, tiny_recipe, train_recipe
    from willie.tokens.store import tokenize_film
    from willie.train.weights import GPUSettings, read_registry
    res = {'device': torch.cuda.get_device_name() if dev == 'cuda' else 'cpu', 'torch': torch.__version__}
    if dev == 'cuda': res['attention'] = attention_parity(dev)
    steps, recipes = {}, all_recipes()
    # the CPU tests step every recipe already (test_recipes)
    if tiny: recipes = {n: recipes[n] for n, _ in RECIPE.values()}
    for name, r in recipes.items():
        t0 = time.time()
        if getattr(r.data, 'dataset', None) == 'cifar10': steps[name] = 'skipped: CIFAR-10 does not travel'; continue
        if r.arch == 'Upsampler' or getattr(r.data, 'size', 64) != 64:
            steps[name] = 'skipped: only the 64x64 store travels'; continue
        store, r = film(), tiny_recipe(r)
        if dev == 'cuda': r = replace(r, gpu=GPUSettings(bf16=True))
        try:
            if hasattr(r.data, 'tokenizer'):   # a prior's: it trains on its tokenizer's tokens
                tok = r.data.tokenizer
                if tok not in read_registry():
                    steps[name] = f'skipped: its tokenizer {tok} is trained later in this run'; continue
                store = tokenize_film(tok, film(), ['p0'], out=home()/'tokens'/f'check_{tok}', device=dev,
                                      progress=False, **tokenizer_split(tiny))
            train_recipe(r, store=store, steps=1, device=dev, ckpt_dir=home()/'runs'/f'check_{name}',
                         log=lambda s: None, progress=False)
            steps[name] = f'ok, {time.time() - t0:.1f} s'
        except Exception as e: steps[name] = f"FAILED: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
        log_line(out, f"checks: {name}: {steps[name]}")
    res['bf16_step'] = steps
    write_json(out/'checks.json', res)

def stage_train(stage:str, out:Path, dev:str, tiny:bool):
    from willie.apps.recipes import train_recipe
    from willie.tokens.store import TokenStore, token_store_path
    rname, name = RECIPE[stage]
    r = recipe_for(stage, tiny)
    store = film() if stage == 'tokenizer' else TokenStore(token_store_path(RECIPE['tokenizer'][1]),
                                                           RECIPE['tokenizer'][1], cache_weights())
    try: train_recipe(r, store=store, name=name, save_to=cache_weights(), device=dev, ckpt_dir=home()/'runs'/name,
                      log=lambda s: log_line(out, f"{stage}: {s}"), progress=False)
    except Exception:
        ship_checkpoint(out, name); raise
    w = cache_weights()
    entry = json.loads((w/'registry.json').read_text())[name]
    (w/f'{name}.entry.json').write_text(json.dumps({name: entry}, indent=1))
    ship(out, name, [w/entry['file'], w/f'{name}.history.json', w/f'{name}.entry.json'])

def ship_checkpoint(out:Path, name:str):
    "After a failure past training: the last checkpoint's averaged (EMA) weights in fp16, so the minutes are not lost"
    from safetensors.torch import load_file, save_file
    found = sorted((home()/'runs'/name).rglob('step*.safetensors'))
    if not found: return
    sd = load_file(str(found[-1]))
    pick = 'ema.' if any(k.startswith('ema.') for k in sd) else next(iter(sd)).split('.')[0] + '.'
    f = home()/f'{name}.rescued.safetensors'
    save_file({k[len(pick):]: v.half() if v.is_floating_point() else v
               for k, v in sd.items() if k.startswith(pick)}, str(f))
    ship(out, f'{name}.rescued', [f])
    log_line(out, f"{name}: failed after training; the last checkpoint's {pick[:-1]} weights are in {name}.rescued.tar")

def stage_tokens(out:Path, dev:str, tiny:bool):
    from willie.tokens.store import tokenize_film, DEFAULT_VARIANTS
    tok = RECIPE['tokenizer'][1]
    s = tokenize_film(tok, film(), ['p0'] if tiny else DEFAULT_VARIANTS, weights_dir=cache_weights(), device=dev,
                      progress=False, **tokenizer_split(tiny))
    log_line(out, f"tokens: {s}")
    if sum(f.stat().st_size for f in s.path.iterdir()) < 15 * 2**20: ship(out, f'tokens_{tok}', [s.path])

def ablation_module():
    sys.path.insert(0, str(ROOT/'experiments'/'prior_ablation'))
    return importlib.import_module('ablation')

def stage_ablation(out:Path, dev:str, tiny:bool):
    "experiments/prior_ablation at full size: every arm's record, and the best arm's weights when they fit the trip"
    ablation = ablation_module()
    from willie.tokens.store import tokenize_film
    r = ablation.base_recipe('tiny' if tiny else 'gpu')
    arms = ablation.arms('tiny' if tiny else 'gpu').values()
    variants = list(dict.fromkeys(v for _, a in arms for v in a.data.variants))   # every arm's
    store = tokenize_film(r.data.tokenizer, film(), variants, out=home()/'tokens'/f'shipped_{r.data.tokenizer}',
                          device=dev, progress=False, **tokenizer_split(tiny))   # the package's weights
    rec, saved = out/'prior_ablation.json', home()/'ablation'
    saved.mkdir(parents=True, exist_ok=True)   # the arms record the sha256 of the tokenizer whose tokens they read
    from willie.train.weights import read_registry
    (saved/'registry.json').write_text(json.dumps({r.data.tokenizer: read_registry()[r.data.tokenizer]}))
    minutes = TINY_MINUTES if tiny else ABLATION_MINUTES
    ablation.main(['--scale', 'tiny' if tiny else 'gpu', '--minutes', str(minutes), '--store', str(store.path),
                   '--out', str(rec), '--device', dev, '--save-to', str(saved), '--ckpt-dir', str(home()/'runs')])
    arms, reg = json.loads(rec.read_text())['arms'], json.loads((saved/'registry.json').read_text())
    ranked = sorted(arms, key=lambda a: arms[a]['val_bpt'])
    fits = [a for a in ranked if reg[f'ablation_{ablation.slug(a)}']['bytes'] <= 15 * 2**20]   # 16 MiB come back
    if fits[:1] != ranked[:1]: log_line(out, f"ablation: the best arm, {ranked[0]}, is too large to come back")
    if not fits: return
    name = f'ablation_{ablation.slug(fits[0])}'
    entry = reg[name]
    (saved/f'{name}.entry.json').write_text(json.dumps({name: entry}, indent=1))
    ship(out, 'prior_ablation_best', [saved/entry['file'], saved/f'{name}.history.json', saved/f'{name}.entry.json'])

def run_stage(stage:str, out:Path, tiny:bool):
    import torch
    dev = 'cuda' if torch.cuda.is_available() and not tiny else 'cpu'
    if stage == 'checks': stage_checks(out, dev, tiny)
    elif stage == 'tokens': stage_tokens(out, dev, tiny)
    elif stage == 'ablation': stage_ablation(out, dev, tiny)
    else: stage_train(stage, out, dev, tiny)


# --- the driver ---------------------------------------------------------------------------------------------------
def stage_limit(stage:str, tiny:bool)->float:
    "Seconds a stage may take before it is killed: its training budget plus room to start, evaluate and save"
    extra = STAGES[stage][2]
    if stage == 'ablation':
        return 60 * (TINY_MINUTES if tiny else ABLATION_MINUTES) * len(ablation_arms(tiny)) + extra
    if stage not in RECIPE: return extra
    r = recipe_for(stage, tiny)
    minutes = sum(p.minutes or 0 for p in r.phases.values())
    return 60 * minutes + extra

def ablation_arms(tiny:bool)->dict: return ablation_module().arms('tiny' if tiny else 'gpu')

def drive(out:Path, tiny:bool, only:list|None, deadline:float, limits:dict)->int:
    out.mkdir(parents=True, exist_ok=True)
    t_end, summary = time.monotonic() + deadline, {'stages': {}, 'tiny': tiny}
    if miss := missing_modules():
        log_line(out, f"cannot run: missing on this machine: {', '.join(miss)}; carry their wheels in .device/wheels "
                      "(python scripts/device_pack.py) or install them")
        return 3
    import torch
    write_json(out/'machine.json', dict(device=torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu',
                                        torch=torch.__version__))
    log_line(out, f"unpacking the film: {unpack_film()}")
    for stage in only or DEFAULT_STAGES:
        need = [s for s in STAGES[stage][1] if summary['stages'].get(s, {}).get('status') != 'ok']
        if need:
            summary['stages'][stage] = dict(status=f"skipped: needs {', '.join(need)}")
            write_json(out/'summary.json', summary)
            log_line(out, f"{stage}: skipped, it needs {', '.join(need)}"); continue
        limit = min(limits.get(stage, stage_limit(stage, tiny)), t_end - time.monotonic())
        if t_end - time.monotonic() < 5:
            summary['stages'][stage] = dict(status='skipped: the run is out of time')
            write_json(out/'summary.json', summary); continue
        log_line(out, f"{stage}: {STAGES[stage][0]} (limit {limit:.0f} s)")
        t0 = time.monotonic()
        cmd = [sys.executable, __file__, str(out), '--stage', stage] + (['--tiny'] if tiny else [])
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            tail = []
            import threading
            def pump():
                for line in p.stdout:
                    tail.append(line); del tail[:-40]
                    with open(out/'log.txt', 'a') as f: f.write(line)
            th = threading.Thread(target=pump, daemon=True); th.start()
            p.wait(timeout=limit); th.join(5)
            status = 'ok' if p.returncode == 0 else f"failed (exit {p.returncode}): {''.join(tail[-3:]).strip()[-300:]}"
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9); p.wait()
            status = f"killed at its limit of {limit:.0f} s"
        summary['stages'][stage] = dict(status=status, seconds=round(time.monotonic() - t0, 1))
        write_json(out/'summary.json', summary)
        log_line(out, f"{stage}: {status} after {time.monotonic() - t0:.0f} s")
    return 0 if all(s['status'] == 'ok' for s in summary['stages'].values()) else 1

def main(argv=None)->int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('out', type=Path, help='where results go as each stage ends ($OUT on the device machine)')
    ap.add_argument('--tiny', action='store_true', help='the same chain at toy size on the CPU (seconds)')
    ap.add_argument('--stage', choices=list(STAGES), help=argparse.SUPPRESS)   # internal: run one stage in this process
    ap.add_argument('--only', nargs='+', choices=list(STAGES),
                    help=f"run these stages only (default: {' '.join(DEFAULT_STAGES)}, in order)")
    ap.add_argument('--deadline', type=float, default=560, help='seconds for the whole run (default 560)')
    ap.add_argument('--limit', action='append', default=[], metavar='STAGE=SECONDS',
                    help='override a stage\'s hard limit')
    a = ap.parse_args(argv)
    if 'WILLIE_HOME' not in os.environ: ap.error('set WILLIE_HOME to a scratch folder (scripts/device_train.sh does)')
    if a.stage:
        global IN_STAGE; IN_STAGE = True
        try: run_stage(a.stage, a.out, a.tiny); return 0
        except Exception: traceback.print_exc(); return 1
    try: limits = {k: float(v) for k, v in (x.split('=') for x in a.limit)}
    except ValueError: ap.error(f"--limit takes STAGE=SECONDS, got {a.limit}")
    if bad := set(limits) - set(STAGES): ap.error(f"--limit: no stage {sorted(bad)}; stages: {', '.join(STAGES)}")
    return drive(a.out, a.tiny, a.only, a.deadline, limits)

if __name__ == '__main__': sys.exit(main())
