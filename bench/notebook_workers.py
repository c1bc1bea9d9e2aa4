"""Notebook workers on a small machine: `nbdev_test` with W workers x T torch threads, settings interleaved.

Each setting runs the same notebooks (a fixed subset by default, with the film and CIFAR cells when the data is
found), in rounds A, B, A, B, ..., so that a machine whose load changes (a training run beside the tests) skews both
settings alike. It prints every run's wall time and the load average around it, then both settings side by side:
their median wall times and the ratio of each to the first setting's.

    python bench/notebook_workers.py [--rounds 2] [--settings 2x1 1x2 2x2] [--notebooks all | 10_prior_alibi ...]
                                     [--flags auto | none | 'film cifar'] [--home DIR]

`--flags none` runs no data cells (a fresh clone without the film). Every run gets its own empty WILLIE_HOME unless
`--home` is given, so that no cache built or locked by something else on the machine (a token store being written)
makes a run wait.
"""
import argparse, os, re, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBSET = ['00_3_train', '04_fsq', '06_causal_tokenizer', '09a_attention', '10_prior_alibi', '10a_maskgit']


def data_flags() -> str:
    "The flags `tests/run.sh` passes: `film` and `cifar` when their data is found here."
    checks = {'film': 'from willie.data.film import film_path; film_path()',
              'cifar': 'from willie.cifar.data import cifar_path; cifar_path(download=False)'}
    return ' '.join(f for f, code in checks.items()
                    if subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True).returncode == 0)


def run(workers:int, threads:int, flags:str, notebooks:list[str]|None, home:str|None):
    "One `nbdev_test`: (wall seconds, 1-minute load before, 1-minute load after, passed)."
    if home is None:
        with tempfile.TemporaryDirectory(prefix='willie-bench-home-') as h:
            return run(workers, threads, flags, notebooks, h)
    cmd = ['nbdev_test', '--n_workers', str(workers), '--flags', flags]
    if notebooks: cmd += ['--file_re', '^(' + '|'.join(map(re.escape, notebooks)) + r')\.ipynb$']
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), WILLIE_HOME=home)
    load0, t0 = os.getloadavg()[0], time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode: print(p.stdout[-2000:], p.stderr[-2000:], sep='\n', file=sys.stderr)
    return wall, load0, os.getloadavg()[0], p.returncode == 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--rounds', type=int, default=2, help='runs of each setting (interleaved)')
    p.add_argument('--settings', nargs='+', default=['2x1', '1x2', '2x2'],
                   help='WORKERSxTHREADS, the first is the base')
    p.add_argument('--notebooks', nargs='+', default=SUBSET, help="notebook names without .ipynb, or 'all'")
    p.add_argument('--flags', default='auto', help="nbdev_test flags: 'auto' (as tests/run.sh), 'none', or a list")
    p.add_argument('--home', help='WILLIE_HOME for every run (default: a new empty one each run)')
    a = p.parse_args()
    settings = [tuple(map(int, s.split('x'))) for s in a.settings]
    notebooks = None if a.notebooks == ['all'] else a.notebooks
    flags = data_flags() if a.flags == 'auto' else '' if a.flags == 'none' else a.flags
    print(f"notebooks: {'all' if notebooks is None else ' '.join(notebooks)}; flags: {flags or 'none'}; "
          f"{os.cpu_count()} cores")
    walls = {s: [] for s in settings}
    print(f"{'round':>5} {'workers x threads':>17} {'wall s':>7} {'load before':>11} {'load after':>10}")
    for r in range(a.rounds):
        for w, t in settings:
            wall, l0, l1, ok = run(w, t, flags, notebooks, a.home)
            walls[w, t].append(wall)
            print(f"{r+1:>5} {f'{w} x {t}':>17} {wall:7.1f} {l0:11.2f} {l1:10.2f}{'' if ok else '  FAILED'}",
                  flush=True)
    base = statistics.median(walls[settings[0]])
    print('\n' + ' | '.join(f'{w} workers x {t} threads' for w, t in settings))
    print(' | '.join(f'median {statistics.median(walls[s]):.1f} s, {statistics.median(walls[s]) / base:.2f}x'
                     for s in settings))


if __name__ == '__main__': main()
