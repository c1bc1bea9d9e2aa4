"""The sampling sweep as one table: every `logs/*.json` written by `bench/eval_samples.py --json`, one row per method
and setting, beside the reference rows of the first log.

    python experiments/sampling/table.py
"""
import json
from pathlib import Path

LOGS = Path(__file__).parent/'logs'
COLS = '| setting | critic vs film through the tokenizer [95% CI] | FD | motion × | sharpness × | nearest-train SSIM |'


def row(name:str, r:dict)->str:
    c = r.get('c2st_tok') or r.get('c2st')
    crit = f"{c['accuracy']:.2f} [{c['ci95'][0]:.2f}–{c['ci95'][1]:.2f}]" if c else '—'
    fd = f"{r['fd']:.3f}" if 'fd' in r else '—'
    return f"| {name} | {crit} | {fd} | {r.get('motion', 1):.2f} | {r.get('sharp', 1):.2f} | {r['near'][1]:.2f} |"


def setting(args:dict, method:str)->str:
    t = args['temperature']
    parts = [method, f'T {t}' if t is not None else 'T default']
    if args.get('top_k'): parts.append(f"top-k {args['top_k']}")
    if args.get('top_p'): parts.append(f"top-p {args['top_p']}")
    if method == 'maskgit': parts.append(f"{args['steps']} steps")
    if args.get('surprise'): parts.append(f"steered to {args['surprise']:g} bits")
    if args.get('burn_in') is not None: parts.append(f"clips from latent frame {args['burn_in']}")
    # AR's cache: float32 in the logs before commit c9b7ecf (no exact_cache in their args), bfloat16 since unless asked
    if method == 'ar' and args.get('exact_cache') is False: parts.append('bfloat16 cache')
    return ', '.join(parts)


def main():
    logs = sorted(LOGS.glob('*.json'))
    out, ref = [COLS, '|---|---|---|---|---|---|'], None
    for p in logs:
        d = json.loads(p.read_text())
        for r in d['rows']:
            m = r['name'].split(' samples')[0] if r['name'].endswith(('samples', 'steps)')) else None
            if m is None:
                ref = ref or {x['name']: x for x in d['rows'] if x['name'].startswith(('real val B', 'val B through'))}
                continue
            note = ' (older MaskGIT path: one 5-frame grid)' if 'old_maskgit' in p.stem and m == 'maskgit' else ''
            out.append(row(setting(d['args'], m) + note, r))
    out[2:2] = [row(n, r) for n, r in (ref or {}).items()]
    print('\n'.join(out))


if __name__ == '__main__': main()
