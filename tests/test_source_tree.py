"""From the folder that holds a clone named `willie`, `import willie` finds the clone's root (no `__init__.py`) as a
namespace package; with willie installed in editable mode, its modules then load under that namespace, and
`load_weights('fsq_vae_64')` used to say `known: none`. `willie.base.core` (which every module that finds files imports)
now stops the import with one line that says what to do. From inside the clone, and from any other folder, the
package imports as usual."""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = ("from willie.train.weights import load_weights; load_weights('fsq_vae_64'); import willie; "
        "print(willie.__file__)")


def _run(cwd):
    return subprocess.run([sys.executable, '-c', CODE], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_from_the_folder_holding_the_clone(tmp_path):
    (tmp_path/'willie').symlink_to(ROOT, target_is_directory=True)   # as if `git clone ... willie` had made it here
    r = _run(tmp_path)
    if r.returncode == 0:   # a regular install (not editable) or a path entry wins over the namespace: nothing to fix
        assert Path(r.stdout.strip()).parent.name == 'willie'; return
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f'ImportError: `import willie` found {tmp_path/"willie"}, the root of a clone'), last
    assert 'cd willie' in last and 'pip install -e willie' in last, last
    assert 'known: none' not in r.stderr


def test_from_inside_the_clone_and_elsewhere(tmp_path):
    for cwd in (ROOT, tmp_path):
        r = _run(cwd)
        assert r.returncode == 0, r.stderr[-2000:]
        assert Path(r.stdout.strip()).name == '__init__.py'
