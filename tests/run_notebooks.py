"""Every notebook tested as `nbdev_test` tests it, but each in a fresh process, as each runs in its own kernel in
JupyterLab.

`nbdev_test --n_workers 2` reuses its two worker processes. A notebook re-runs the cells it exports, so it registers
its own copies of the package's classes and recipes, and a later notebook in the same worker then finds those
instead of the package's: `98`'s recipe checks failed that way when `10` had run before it in the same worker.

    python tests/run_notebooks.py [--flags "film cifar"] [--workers 2] [NOTEBOOK ...]
"""
import argparse, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def test_one(nb:Path, flags:str)->tuple:
    "(notebook, passed, seconds, output): `nbdev_test` on this notebook alone, in its own process"
    t0 = time.time()
    p = subprocess.run(['nbdev_test', '--path', str(nb), '--flags', flags, '--n_workers', '0'],
                       capture_output=True, text=True)
    return nb, p.returncode == 0, time.time() - t0, p.stdout + p.stderr

def main(argv=None)->int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('notebooks', nargs='*', type=Path, help='these notebooks (default: every one nbdev_test would run)')
    ap.add_argument('--flags', default='', help='flags of the cells to run that are skipped by default')
    ap.add_argument('--workers', type=int, default=2, help='notebooks at a time')
    a = ap.parse_args(argv)
    from nbdev.doclinks import nbglob
    nbs = a.notebooks or sorted(nbglob(as_path=True))   # nbdev's selection (settings.ini's skip patterns)
    if missing := [str(n) for n in nbs if not Path(n).is_file()]: ap.error(f"no such notebook: {', '.join(missing)}")
    t0, failed = time.time(), []
    with ThreadPoolExecutor(a.workers) as ex:
        for nb, ok, secs, out in ex.map(lambda n: test_one(n, a.flags), nbs):
            print(f"{'ok  ' if ok else 'FAIL'} {nb.name}: {secs:.0f} s", flush=True)
            if not ok: failed.append(nb.name); print(out[-6000:], flush=True)
    print(f"{len(nbs) - len(failed)} of {len(nbs)} notebooks passed in {time.time() - t0:.0f} s"
          + (f"; failed: {', '.join(failed)}" if failed else ''))
    return 1 if failed else 0

if __name__ == '__main__': sys.exit(main())
