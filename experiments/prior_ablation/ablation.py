"""How big, how regularised and how long a context should the AR prior be for 400 s of film? Arms trained on
`causal_s4_64`'s token store under one equal budget each, judged by their best val bits per token (issue 20).

    python experiments/prior_ablation/ablation.py --scale cpu --steps 360 --every 4   # the CPU pilot (about an hour)
    python experiments/prior_ablation/ablation.py --scale gpu --minutes 1             # the full-size arms, on a GPU
    python experiments/prior_ablation/ablation.py --table experiments/prior_ablation/cpu_arms.json   # a record's table

Each arm is the scale's base recipe with one change, trained for the same number of steps (`--steps`: the same
compute for arms of one size, whatever else the CPU is doing) or the same minutes (`--minutes`: arms of different
sizes). `gpu` is the shipped prior's recipe (`prior_s4_64_gpu`) and arms around it (scripts/device_train.py, stage
`ablation`). `cpu` is a scaled-down proxy a 2-core CPU finishes in an hour: 4 layers at width 128, a context of one
second, the store's un-augmented variant only, and with `--every 4` a quarter of the shots, so that the small model
passes over its data often enough to memorise it, as the shipped prior did (its val was best after 600 of 1,223 GPU
steps). Arms finished in the record are skipped, so a stopped run continues where it was.
"""
from __future__ import annotations
import argparse, json, sys, time
from dataclasses import replace
from pathlib import Path
import torch

HERE = Path(__file__).resolve().parent


def base_recipe(scale:str):
    from willie.apps.recipes import GPU_RECIPES
    r = GPU_RECIPES['prior_s4_64_gpu']
    if scale == 'gpu': return r
    if scale == 'tiny':                                # the code path at toy size (tests/test_device.py)
        from willie.priors.transformer import tiny_prior
        return replace(tiny_prior(r), gpu=None)
    model = replace(r.model, n_layer=4, n_head=4, n_embd=128, context=6 * r.model.frame_tokens,
                    window=3 * r.model.frame_tokens)   # a context of 6 latent frames: one second of video
    train = replace(r.train, bs=8, warmup=30, eval_every=40, val_windows=64)
    return replace(r, model=model, train=train, data=replace(r.data, variants=['p0']), gpu=None)

def arms(scale:str)->dict:
    "name: (what changes, the recipe)"
    r = base_recipe(scale)
    m, t, d = r.model, r.train, r.data
    with_model = lambda **kw: replace(r, model=replace(m, **kw))
    with_train = lambda **kw: replace(r, train=replace(t, **kw))
    if scale == 'cpu':
        return {'base': ('4 layers, width 128, dropout 0.1, context 1 s, store variant p0 only', r),
                'flip': ('+ the flipped variant (p0, p0+flip): twice the data', replace(r, data=replace(
                    d, variants=['p0', 'p0+flip']))),
                'dropout 0.3': ('dropout 0.1 -> 0.3', with_model(dropout=0.3)),
                'token noise 0.1': ('10% of the input tokens replaced by random codes', with_train(token_noise=0.1)),
                'weight decay 0.5': ('AdamW weight decay 0.1 -> 0.5', with_train(weight_decay=0.5)),
                'zoom': ('+ a zoomed variant (p0, p0+crop85): twice the data', replace(r, data=replace(
                    d, variants=['p0', 'p0+crop85'])))}
    longer = 2 * m.context if scale == 'gpu' else m.context + m.frame_tokens   # a toy film is short
    return {'base': (f'the shipped recipe ({m.n_layer} layers, width {m.n_embd}, dropout {m.dropout}, context '
                     f'{m.context // m.frame_tokens} latent frames)', r),
            'dropout 0.3': ('dropout 0.1 -> 0.3', with_model(dropout=0.3)),
            'token noise 0.1': ('10% of the input tokens replaced by random codes', with_train(token_noise=0.1)),
            'zoomed variants': ('+ each variant zoomed 1.18x (+crop85): 16 variants, twice the data', replace(
                r, data=replace(d, variants=[*d.variants, *(f'{v}+crop85' for v in d.variants)]))),
            'narrower': ('width 192: 40% fewer weights (the bundle is over its 50 MB)', with_model(n_embd=192)),
            'longer context': (f'context {longer // m.frame_tokens} latent frames, window {longer // 2} tokens',
                               with_model(context=longer, window=longer // 2))}

def train_data(recipe, store, every:int=1)->dict:
    "The arm's data keywords; `every` > 1 keeps every n-th shot of the train split (the same shots in every variant)"
    from willie.priors.transformer import token_data
    data = token_data(recipe, store, progress=False)
    n = len(store.streams('train', recipe.data.val_variant))   # streams per variant, in the same order in each
    for k in ('train_tokens', 'train_labels'):   # labels, where the recipe tells the prior which windows are zoomed
        if k in data: data[k] = [s for i, s in enumerate(data[k]) if (i % n) % every == 0]
    return data

def run_arm(recipe, budget:dict, store, device:str, ckpt_dir:Path, log, name=None, save_to=None,
            every:int=1)->dict:
    "Train one arm for `budget` ({'steps': n} or {'minutes': m}); its val curve, best val and the train loss at the end"
    from willie.train.weights import task_of
    recipe = replace(recipe, device=device, train=replace(recipe.train, minutes=budget.get('minutes'),
                                                          steps=budget.get('steps', 100_000)))
    t0 = time.time()
    tr = task_of(recipe).train(recipe, name=name, save_to=save_to, ckpt_dir=ckpt_dir, log=log,
                               **train_data(recipe, store, every))
    trainer, m = tr.trainer, tr.metrics
    last = [h['bpt'] for h in trainer.history[-10:]]
    return dict(val_bpt=m['val_bpt'], best_step=m['best_step'], steps=m['steps'], params=m['params'],
                unigram_bpt=m['val_unigram_bpt'], train_bpt_end=sum(last) / len(last),
                tokens_seen=m['steps'] * recipe.train.bs * recipe.model.context, seconds=round(time.time() - t0),
                val_curve=[(e['step'], round(e['val_bpt'], 4)) for e in trainer.evals])

def slug(arm:str)->str: return arm.replace(' ', '_').replace(',', '').replace('.', '')

def write_json(path:Path, obj):
    tmp = path.with_name(f'.{path.name}.tmp'); tmp.write_text(json.dumps(obj, indent=1)); tmp.replace(path)

def table(record:dict)->str:
    "The record as a markdown table, each arm beside the base"
    rows, base = record['arms'], record['arms'].get('base', {}).get('val_bpt')
    out = [f"{record['scale']} scale, {record['budget']} an arm on {record['device']}",
           '| arm | change | params | steps (best) | passes over the data | val bits/token | vs base | '
           'train bits/token at the end |',
           '|---|---|---|---|---|---|---|---|']
    for name, r in rows.items():
        vs = '–' if base is None or name == 'base' else f"{r['val_bpt'] - base:+.3f}"
        out.append(f"| {name} | {r['change']} | {r['params'] / 1e6:.2f}M | {r['steps']} ({r['best_step']}) | "
                   f"{r['tokens_seen'] / r['train_tokens']:.1f} | {r['val_bpt']:.3f} | {vs} | "
                   f"{r['train_bpt_end']:.2f} |")
    u = next(iter(rows.values()))['unigram_bpt'] if rows else float('nan')
    out.append(f"val tokens' unigram entropy: {u:.3f} bits")
    return '\n'.join(out)

def main(argv=None)->int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--scale', choices=['cpu', 'gpu', 'tiny'], default='cpu')
    budget = ap.add_mutually_exclusive_group()
    budget.add_argument('--steps', type=int, help='each arm trains this many steps')
    budget.add_argument('--minutes', type=float, help='each arm trains this long')
    ap.add_argument('--arms', nargs='+', help='these arms only (default: all of the scale)')
    ap.add_argument('--out', type=Path, help='the record (default: <scale>_pilot.json / gpu_arms.json here)')
    ap.add_argument('--store', type=Path, help="token store folder (default: causal_s4_64's, made if missing)")
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--save-to', type=Path, help="also save each arm's weights in this registry folder")
    ap.add_argument('--seed', type=int, default=0, help="every arm's seed (weights and data order)")
    ap.add_argument('--every', type=int, default=1, help='train on every n-th shot only (less data: memorising sooner)')
    ap.add_argument('--ckpt-dir', type=Path, default=Path('/tmp/prior_ablation'), help='checkpoints, to resume an arm')
    ap.add_argument('--table', type=Path, metavar='RECORD', help='print the table of a record and stop')
    a = ap.parse_args(argv)
    if a.table:
        print(table(json.loads(a.table.read_text()))); return 0
    if (a.steps or a.minutes or 0) <= 0: ap.error("give a positive --steps or --minutes for each arm")
    budget = {'steps': a.steps} if a.steps else {'minutes': a.minutes}
    said = ' '.join(f'{v} {k}' for k, v in budget.items())
    every = arms(a.scale)
    if bad := set(a.arms or []) - set(every): ap.error(f"no arm {sorted(bad)}; arms: {', '.join(every)}")
    out = a.out or HERE/f'{a.scale}_arms.json'
    if a.device == 'cpu': torch.set_num_threads(2)
    from willie.tokens.store import TokenStore, open_token_store
    tok = base_recipe(a.scale).data.tokenizer
    store = TokenStore(a.store, check=False) if a.store else open_token_store(tok)
    record = json.loads(out.read_text()) if out.exists() else {}
    if a.every > 1: said += f', every {a.every}th shot'
    if a.seed: said += f', seed {a.seed}'
    if record and (record['scale'], record['budget']) != (a.scale, said):
        raise SystemExit(f"{out} holds a {record['scale']} run of {record['budget']} an arm; use another --out")
    record = record or dict(scale=a.scale, budget=said, device=a.device, arms={})
    for name in a.arms or every:
        if name in record['arms']: print(f"{name}: in the record already"); continue
        change, r = every[name]
        r = replace(r, seed=a.seed)
        train_tokens = sum(s.size for s in train_data(r, store, a.every)['train_tokens'])
        print(f"{name}: {change}", flush=True)
        res = run_arm(r, budget, store, a.device, a.ckpt_dir/f"{out.stem}_{slug(said)}_{slug(name)}",
                      log=lambda s: print(f"  {name}: {s}", flush=True), save_to=a.save_to,
                      name=f'ablation_{slug(name)}' if a.save_to else None, every=a.every)
        record['arms'][name] = dict(change=change, train_tokens=train_tokens, **res)
        write_json(out, record)
        print(f"{name}: val {res['val_bpt']:.3f} bits/token at step {res['best_step']} of {res['steps']}", flush=True)
    print(table(record))
    return 0

if __name__ == '__main__': sys.exit(main())
