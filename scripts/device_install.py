"""Bring back what a GPU run made: evaluate it on val exactly as the CPU-trained weights were, and install into the
package's registry only what beats what ships.

    python scripts/device_install.py RESULTS             # evaluate, print the table; nothing changes
    python scripts/device_install.py RESULTS --install   # ... and install the winners into willie/weights

    python scripts/device_install.py --cache NAME --as SHIPPED [--install]   # a CPU run that `willie train` saved

RESULTS is the folder of files the run left in OUT (the `run` tool's files_at): `<name>.tar` per trained model (weights,
history, registry entry), `tokens_<tokenizer>.tar`, `checks.json`, `summary.json`, `log.txt`.
A tokenizer wins when its val PSNR, SSIM and JOD (where ColorVideoVDP is installed) beat the shipped tokenizer's (the
table shows each one's bits per pixel). A prior wins when its tokenizer is installed (now or before) and it codes val
below the unigram entropy of the val tokens and, on the tokens of the tokenizer that ships, below the shipped prior of
its role. The `ablation` stage's best arm (`ablation_*`) is a candidate for `prior_s4_64`, installed under that name.
"""
from __future__ import annotations
import argparse, json, math, shutil, sys, tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_TOKENIZER = 'causal_s4_64'
ROLE = {'ablation_': 'prior_s4_64'}   # a run's name prefix: the shipped model it would replace

def role(name:str)->str: return next((r for p, r in ROLE.items() if name.startswith(p)), name)

def unpack(results:Path, dest:Path)->dict:
    "A run's model tars into `dest` as a registry folder, its token stores into the cache; returns the run's models"
    from willie.base.core import willie_home
    dest.mkdir(parents=True, exist_ok=True)
    reg = {}
    for t in sorted(results.glob('*.tar')):
        target = willie_home()/'tokens' if t.name.startswith('tokens_') else dest
        with tarfile.open(t) as f: f.extractall(target, filter='data')
    for e in dest.glob('*.entry.json'): reg |= json.loads(e.read_text())
    from willie.train.weights import read_registry
    shipped = read_registry()   # a model trained on the package's tokenizer names it: its entry (not its file) joins
    deps = {d: shipped[d] for e in reg.values() for d in e.get('depends', {}) if d not in reg and d in shipped}
    (dest/'registry.json').write_text(json.dumps(reg | deps, indent=1, sort_keys=True) + '\n')
    return reg

def val_footage(store):
    from willie.data.film import ClipDataset
    from willie.eval.metrics import footage
    return footage(ClipDataset(store, 16, split='val', stride=16))

def eval_tokenizer(name:str, weights_dir, store)->dict:
    "Held-out footage through the tokenizer, as `train_magvit` scores it when it saves"
    from willie.eval.metrics import evaluate_tokenizer
    from willie.train.weights import load_weights
    try: import pycvvdp  # noqa: F401  (JOD when ColorVideoVDP is here: bash scripts/install_cvvdp.sh)
    except ImportError: pycvvdp = None
    r = evaluate_tokenizer(load_weights(name, weights_dir), val_footage(store), progress=False,
                           with_jod=pycvvdp is not None)
    return {k: r[k] for k in ('psnr', 'ssim', 'jod', 'sharpness', 'motion', 'seams', 'code_use', 'bpp') if k in r}

def eval_prior(name:str, weights_dir, entry:dict)->dict:
    "Val bits per token over the token store's val streams, as `train_prior` measures them, and the unigram entropy"
    import numpy as np
    from willie.priors.transformer import TokenWindows, evaluate_prior, unigram_entropy, prior_data
    from willie.tokens.store import TokenStore, token_store_path
    from willie.train.weights import Recipe, load_weights
    recipe = Recipe.from_dict(entry['recipe'])
    tok = recipe.data.tokenizer
    tok_dir = weights_dir if weights_dir is not None and (Path(weights_dir)/f'{tok}.entry.json').exists() else None
    store = TokenStore(token_store_path(tok), tok, tok_dir)   # the tokenizer trained in this run, or the package's
    _, val = prior_data(recipe, store, train=False)
    m = load_weights(name, weights_dir)
    c = m.cfg
    windows = TokenWindows(val, c.context, c.grid, stride=max(1, c.context // c.frame_tokens))
    r = evaluate_prior(m, windows, bs=4) if 'objective' not in entry['recipe'] else _eval_maskgit(m, windows, entry)
    h0 = unigram_entropy(np.concatenate([np.ravel(s) for s in val]), c.vocab_size)
    tf = store.manifest['tokenizer']['time_factor']; sf = store.manifest['tokenizer']['space_factor']
    return dict(val_bpt=r['val_bpt'], unigram_bpt=h0, ratio=r['val_bpt'] / h0, bpp=r['val_bpt'] / (tf * sf * sf))

def _eval_maskgit(m, windows, entry):
    from willie.priors.maskgit import evaluate_maskgit
    return evaluate_maskgit(m, windows, 4, max_windows=None, modes=entry['recipe']['objective']['modes'])

def install(name:str, src:Path, trained:dict, as_name:str|None=None, entry:dict|None=None):
    "Copy a model's weights and history into the package under `as_name` and add its entry (where and how it trained)"
    from willie.base.core import atomic_write
    from willie.train.weights import WEIGHTS_DIR, read_registry
    as_name = as_name or name
    e = (entry or json.loads((src/f'{name}.entry.json').read_text())[name]) | {'trained': trained}
    shutil.copy2(src/e['file'], WEIGHTS_DIR/f'{as_name}.safetensors')
    if (h := src/f'{name}.history.json').exists(): shutil.copy2(h, WEIGHTS_DIR/f'{as_name}.history.json')
    reg = read_registry(WEIGHTS_DIR) | {as_name: e | {'file': f'{as_name}.safetensors'}}
    atomic_write(WEIGHTS_DIR/'registry.json', lambda p: p.write_text(json.dumps(reg, indent=1, sort_keys=True) + '\n'))

def from_cache(name:str, as_name:str, do_install:bool, device:str)->int:
    "A prior `willie train` saved in the cache: judged as a GPU run's candidate for `as_name`, installed if it wins"
    from willie.train.weights import cache_dir, read_registry
    e = read_registry(cache_dir()).get(name)
    if e is None: raise SystemExit(f"no weights named {name!r} in the cache's registry ({cache_dir()})")
    old = read_registry().get(as_name)
    tokens = lambda entry: entry.get('recipe', {}).get('data', {}).get('tokenizer')
    if old is None or old['arch'] != e['arch'] or tokens(old) != tokens(e):
        raise SystemExit(f"{name} is no candidate for {as_name}: another architecture or other tokens")
    # a cache entry cannot name the package's tokenizer as its dependency (a registry checks its own), but it trained
    # on the film's token store, which is refused unless coded by that tokenizer's current weights: the shipped
    # entry's dependency holds for it
    e = e | {'depends': old.get('depends', {})}
    stage = cache_dir()
    new_r, old_r = eval_prior(name, stage, e), eval_prior(as_name, None, old)
    t = e['recipe']['train']
    trained = dict(device=device, minutes=t.get('minutes', 0), steps={'train': t.get('steps_taken')},
                   seconds=e['metrics'].get('train_seconds'), started_from=e['metrics'].get('init_sha256'))
    win = new_r['val_bpt'] < old_r['val_bpt']
    for n, kind, r in ((name, 'new', new_r), (as_name, 'shipped', old_r)):
        print(f"{n:16} {kind:8} " + ', '.join(f"{k} {v:.4g}" for k, v in r.items()))
    print(f"{name} {'beats' if win else 'does not beat'} {as_name} on val")
    if do_install and win:
        install(name, stage, trained, as_name, entry=e); print(f"installed {name} as {as_name}")
    return 0

def main(argv=None)->int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('results', type=Path, nargs='?', help="the run's files (what it wrote to OUT)")
    ap.add_argument('--install', action='store_true', help='install the winners into willie/weights')
    ap.add_argument('--device', default=None,
                    help="the machine it trained on (default: the run's machine.json or checks.json)")
    ap.add_argument('--cache', metavar='NAME', help="instead: a prior `willie train` saved in the cache")
    ap.add_argument('--as', dest='as_name', metavar='SHIPPED', help="with --cache: the shipped prior it would replace")
    a = ap.parse_args(argv)
    if a.cache:
        if not a.as_name: ap.error("--cache needs --as SHIPPED (the shipped prior it would replace)")
        return from_cache(a.cache, a.as_name, a.install, a.device or "the course's 2-core CPU")
    if a.results is None: ap.error("give the run's files (RESULTS), or --cache NAME --as SHIPPED")
    if not (a.results/'summary.json').exists():
        ap.error(f"{a.results} holds no summary.json: not the files of a GPU run")
    from willie.base.core import willie_home
    from willie.data.film import film_store
    from willie.train.weights import read_registry
    summary = json.loads((a.results/'summary.json').read_text())
    found = [json.loads((a.results/f).read_text()) for f in ('machine.json', 'checks.json') if (a.results/f).exists()]
    stage = willie_home()/'device'/a.results.name
    reg = unpack(a.results, stage)
    print('stages:', ', '.join(f"{k} {v['status']}" for k, v in summary['stages'].items()))
    device = a.device or next((f['device'] for f in found if 'device' in f), 'a GPU')
    shipped, store, wins = read_registry(), film_store(64, progress=False), {}
    rows = []
    for name, e in sorted(reg.items(), key=lambda kv: kv[1]['arch'] != 'CausalTokenizer'):   # tokenizers first
        phases = {ph: e['recipe'][ph] for ph in ('recon', 'gan', 'train')
                  if ph in e['recipe'] and e['recipe'][ph].get('steps_taken')}
        trained = dict(device=device, minutes=round(sum(p.get('minutes', 0) for p in phases.values()), 2),
                       steps={ph: p['steps_taken'] for ph, p in phases.items()},
                       seconds=e['metrics'].get('train_seconds'))
        if e['arch'] == 'CausalTokenizer':
            new, old = eval_tokenizer(name, stage, store), eval_tokenizer(SHIPPED_TOKENIZER, None, store)
            wins[name] = (new['psnr'] > old['psnr'] and new['ssim'] > old['ssim']
                          and new.get('jod', 0) >= old.get('jod', 0))
            rows += [(name, 'new', new, trained), (SHIPPED_TOKENIZER, 'shipped', old, None)]
        else:
            r = eval_prior(name, stage, e)
            tok, old = e['recipe']['data']['tokenizer'], shipped.get(role(name))
            wins[name] = (wins.get(tok) or tok in shipped) and r['ratio'] < 1
            rows.append((name, 'new', r, trained))
            if not wins.get(tok) and old and old.get('depends') == e.get('depends'):   # the same tokens: compare
                r_old = eval_prior(role(name), None, old)
                wins[name] = wins[name] and r['val_bpt'] < r_old['val_bpt']
                rows.append((role(name), 'shipped', r_old, None))
    for name, kind, r, trained in rows:
        print(f"{name:16} {kind:8} " + ', '.join(f"{k} {v:.4g}" for k, v in r.items())
              + (f"  [{trained['device']}, {trained['minutes']} min, steps {trained['steps']}]" if trained else '')
              + (f"  -> {'installs' if wins[name] else 'does not beat what ships'}" if kind == 'new' else ''))
    if a.install:
        for name, ok in wins.items():
            if ok:
                t = next(t for n, k, _, t in rows if n == name and k == 'new')
                install(name, stage, t, role(name)); print(f"installed {name} as {role(name)}")
    return 0

if __name__ == '__main__': sys.exit(main())
