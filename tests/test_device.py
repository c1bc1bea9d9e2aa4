"""scripts/device_train.sh, the GPU run, tested here end to end at toy size before it ever runs there: the packing, the
size check, the whole chain, a stage killed at its limit, and a machine that lacks a package."""
import json, os, subprocess, sys, tarfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'scripts'))
import device_pack  # noqa: E402

cv2 = pytest.importorskip('cv2', reason='opencv-python-headless (a dev dependency) decodes the packed film')

@pytest.fixture(scope='module')
def packed(tmp_path_factory):
    "A synthetic film of 3 shots, prepared into a store and packed as the GPU run receives it"
    from willie.data.film import synthetic_video, prepare
    d = tmp_path_factory.mktemp('device')
    video = synthetic_video(d/'film.mp4', n_frames=160, width=80, height=64, cuts=(50, 110))
    store = prepare(video, d/'store', size=64, progress=False)
    info = device_pack.pack_store(store, dest=d/'pack')
    return d, store, info

def run_chain(d:Path, out:Path, *args, env=None):
    e = dict(os.environ, WILLIE_HOME=str(d/f'home_{out.name}'), WILLIE_DEVICE_PACK=str(d/'pack'),
             PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}") | (env or {})   # this python as python3
    return subprocess.run(['bash', str(ROOT/'scripts'/'device_train.sh'), str(out), '--tiny', *args], env=e, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)

def test_device_pack_round_trip(packed):
    d, store, info = packed
    meta = json.loads((d/'pack'/'film_64.json').read_text())
    assert meta['manifest'] == store.manifest and info['psnr_db'] > 40   # the GPU sees frames within a few grey levels

def test_device_travel_check(tmp_path, monkeypatch):
    subprocess.run(['git', 'init', '-q', str(tmp_path)], check=True)
    (tmp_path/'small.txt').write_text('x' * 100); (tmp_path/'big.bin').write_bytes(b'\0' * 5000)
    (tmp_path/'.gitignore').write_text('ignored/\n'); (tmp_path/'ignored').mkdir()
    (tmp_path/'ignored'/'f').write_bytes(b'\0' * 9000)
    subprocess.run(['git', '-C', str(tmp_path), 'add', 'small.txt', '.gitignore'], check=True)
    s = device_pack.travel_size(tmp_path, carry=())
    assert s['tracked'] == 109 and s['untracked'] == 5000 and s['total'] == 5109   # ignored files stay behind
    monkeypatch.setattr(device_pack, 'TOTAL_MAX', 6000)
    assert device_pack.check_travel(tmp_path, carry=())['total'] == 5109
    with pytest.raises(ValueError, match='travels is .* carried'):
        device_pack.check_travel(tmp_path, carry=(tmp_path/'ignored',))
    monkeypatch.setattr(device_pack, 'TRACKED_MAX', 100)
    with pytest.raises(ValueError, match='tracked files are'): device_pack.check_travel(tmp_path, carry=())

def test_device_chain_tiny(packed):
    "Every stage of the GPU run, at toy size on the CPU; what comes back loads"
    from willie.train.weights import load_weights, read_registry
    d, _, _ = packed
    r = run_chain(d, d/'out')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = d/'out'
    summary = json.loads((out/'summary.json').read_text())
    assert {s: v['status'] for s, v in summary['stages'].items()} == dict.fromkeys(
        ['checks', 'tokenizer', 'tokens', 'prior', 'maskgit'], 'ok')
    # what device_install records as "trained on"
    assert json.loads((out/'machine.json').read_text())['device'] == 'cpu'
    checks = json.loads((out/'checks.json').read_text())['bf16_step']
    assert not [n for n, v in checks.items() if v.startswith('FAILED')], checks
    back = d/'back'
    for name in ('causal_s4_64', 'prior_s4_64', 'maskgit_s4_64'):
        with tarfile.open(out/f'{name}.tar') as t: t.extractall(back, filter='data')
    reg = {k: v for f in back.glob('*.entry.json') for k, v in json.loads(f.read_text()).items()}
    (back/'registry.json').write_text(json.dumps(reg))
    assert reg['causal_s4_64']['recipe']['recon']['steps_taken'] == reg['causal_s4_64']['metrics']['steps'] >= 1
    assert reg['prior_s4_64']['depends'] == {'causal_s4_64': reg['causal_s4_64']['sha256']}
    tok = load_weights('causal_s4_64', back)
    assert (tok.time_factor, tok.space_factor) == (4, 4)
    assert load_weights('maskgit_s4_64', back).cfg.grid == (16, 16)
    assert 'tokens_causal_s4_64.tar' in os.listdir(out)

def test_device_ablation_tiny(packed):
    "The opt-in prior ablation: every arm trains on the shipped tokenizer's tokens, and the best arm comes back"
    d, _, _ = packed
    r = run_chain(d, d/'abl', '--only', 'ablation')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    arms = json.loads((d/'abl'/'prior_ablation.json').read_text())['arms']
    assert {'base', 'dropout 0.3', 'token noise 0.1'} <= set(arms)
    assert all(a['steps'] >= 1 and 0 < a['val_bpt'] < 20 and a['val_curve'] for a in arms.values()), arms
    with tarfile.open(d/'abl'/'prior_ablation_best.tar') as t: names = t.getnames()
    assert sum(n.endswith('.safetensors') for n in names) == 1 and any(n.endswith('.entry.json') for n in names)

def test_device_stage_killed_at_its_limit(packed):
    "A stage past its hard limit is killed; what finished before it is in OUT, and the run says what happened"
    d, _, _ = packed
    r = run_chain(d, d/'killed', '--only', 'tokenizer', 'tokens', 'prior', '--limit', 'tokens=1')
    assert r.returncode == 1
    st = json.loads((d/'killed'/'summary.json').read_text())['stages']
    assert st['tokenizer']['status'] == 'ok' and st['tokens']['status'].startswith('killed at its limit of 1 s')
    assert st['prior']['status'] == 'skipped: needs tokens'
    assert (d/'killed'/'causal_s4_64.tar').exists() and 'killed at its limit' in (d/'killed'/'log.txt').read_text()

def test_device_missing_package(packed, tmp_path):
    "A machine without one of the chain's packages: one line that names it, before any work"
    d, _, _ = packed
    (tmp_path/'cv2.py').write_text("raise ImportError('No module named cv2')\n")
    r = run_chain(d, d/'nocv2', env={'PYTHONPATH': str(tmp_path)})
    assert r.returncode == 3
    assert 'missing on this machine: cv2' in r.stdout and not (d/'nocv2'/'summary.json').exists()

def test_install_from_cache_refuses_before_scoring(tmp_path):
    "`device_install.py --cache NAME --as SHIPPED`: a name the cache lacks, or a prior of other tokens, is one line"
    import torch
    from willie.priors.transformer import Prior, PriorConfig
    from willie.train.weights import save_weights
    home = tmp_path/'home'
    save_weights(Prior(PriorConfig(vocab_size=16, n_layer=1, n_head=2, n_embd=16, context=8, window=4, grid=(2, 2))),
                 'tiny_prior', weights_dir=home/'weights')
    def run(*args):
        return subprocess.run([sys.executable, str(ROOT/'scripts'/'device_install.py'), *args], cwd=ROOT, text=True,
                              capture_output=True, env=dict(os.environ, WILLIE_HOME=str(home)), timeout=300)
    r = run('--cache', 'nope', '--as', 'prior_s4_64')
    assert r.returncode != 0 and "no weights named 'nope' in the cache's registry" in r.stderr
    r = run('--cache', 'tiny_prior', '--as', 'prior_s4_64')
    assert r.returncode != 0 and 'tiny_prior is no candidate for prior_s4_64: another architecture or other tokens' \
        in r.stderr
    r = run('--cache', 'tiny_prior')
    assert r.returncode == 2 and '--cache needs --as SHIPPED' in r.stderr
