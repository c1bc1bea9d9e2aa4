"""Never losing a run: real processes killed with SIGKILL (`kill -9`: no clean-up possible) or SIGTERM in the middle
of their work, then run again.

- training: the resumed run's losses are bit-identical to a run that was never stopped (dropout and EMA included);
- `willie prepare` and `willie tokenize`: the rerun gives byte-identical stores, and no hidden temporary folder is
  left behind (SIGTERM cleans up at once; after SIGKILL the next run sweeps the dead process's leftovers).

Run as a script, this file is the training process the first test kills: `python tests/test_crash.py CKPT_DIR OUT`."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pytest, torch
from torch import nn

try: import willie  # noqa: F401
except ImportError: sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from willie.data.film import prepare, synthetic_video
from willie.train.loop import Trainer, TrainConfig, step_batches

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
STEPS, EVERY = 40, 4


def training_run(ckpt, pace:float=0.0)->Trainer:
    """A small net with dropout and EMA on y = sin(3x), checkpointing every 4 steps; `pace` seconds per step gives a
    killer time to aim"""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, 32), nn.GELU(), nn.Dropout(0.2), nn.Linear(32, 1))
    xs = torch.linspace(-1, 1, 256)[:, None]; ys = torch.sin(3 * xs)
    batches = step_batches((xs, ys), 16, seed=5)
    def batch_fn(step): time.sleep(pace); return batches(step)
    cfg = TrainConfig(steps=STEPS, lr=1e-2, warmup=4, ema=0.9, log_every=1, ckpt_every=EVERY, seed=5)
    return Trainer(net, lambda m, b: (nn.functional.mse_loss(m(b[0]), b[1]), {}), batch_fn, cfg, ckpt_dir=ckpt,
                   log=lambda s: None).fit()


def _wait_for(cond, proc, what:str, timeout:float=300):
    t0 = time.time()
    while not cond():
        assert proc.poll() is None, (f"the process ended (exit {proc.returncode}) before {what}: "
                                     f"{proc.stderr.read() if proc.stderr else ''}")
        assert time.time() - t0 < timeout, f"no {what} after {timeout} s"
        time.sleep(0.01)


def _ckpt_step(d:Path)->int:
    try: return json.loads((d/'latest.json').read_text())['step']
    except (FileNotFoundError, json.JSONDecodeError): return 0


def test_training_killed_and_resumed_is_bit_identical(tmp_path):
    ckpt = tmp_path/'run'
    cmd = [sys.executable, __file__, str(ckpt), str(tmp_path/'out.json')]
    p = subprocess.Popen(cmd + ['0.05'], env=ENV, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: _ckpt_step(ckpt) >= 2 * EVERY, p, 'a second checkpoint')
    p.kill(); p.wait()
    killed_at = _ckpt_step(ckpt)
    assert p.returncode == -signal.SIGKILL and 0 < killed_at < STEPS and not (tmp_path/'out.json').exists()
    r = subprocess.run(cmd + ['0'], env=ENV, capture_output=True, text=True, timeout=300)   # the same command, again
    assert r.returncode == 0, r.stderr[-2000:]
    resumed = json.loads((tmp_path/'out.json').read_text())
    torch.set_num_threads(1)   # the reference, never stopped, with the same arithmetic as the children's
    straight = training_run(None)
    assert resumed['resumed_from'] == killed_at
    assert resumed['losses'] == [h['loss'] for h in straight.history], ("the resumed run's losses differ from an "
                                                                        "uninterrupted run's")
    assert resumed['ema'] == [p.flatten().tolist() for p in straight.ema.parameters()]
    assert not [f for f in ckpt.iterdir() if f.name.startswith('.')], "temporary files left in the checkpoint folder"


@pytest.fixture(scope='module')
def long_video(tmp_path_factory):
    "600 frames: long enough to be caught in the middle of decoding"
    return synthetic_video(tmp_path_factory.mktemp('crash')/'long.mp4', n_frames=600, width=160, height=128,
                           cuts=(200, 400))


def _hidden(d:Path)->list: return sorted(p.name for p in d.iterdir() if p.name.startswith('.'))


def test_prepare_killed_then_rerun_gives_the_same_store(long_video, tmp_path):
    out = tmp_path/'stores'/'s'
    cmd = [sys.executable, '-m', 'willie.apps.cli', 'prepare', '--video', str(long_video), '--out', str(out), '--size',
           '32', '--quiet']
    p = subprocess.Popen(cmd, env=ENV, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: list(out.parent.glob('.s.tmp-*/frames.npy')), p, 'frames being written')
    p.kill(); p.wait()
    assert not out.exists() and _hidden(out.parent), ("kill -9 could not have cleaned up: the test did not catch "
                                                      "prepare at work")
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert _hidden(out.parent) == [], "the rerun left (or did not sweep) hidden folders"
    ref = prepare(long_video, tmp_path/'ref', size=32, progress=False).path   # never interrupted
    for f in ('frames.npy', 'manifest.json'): assert (out/f).read_bytes() == (ref/f).read_bytes(), f


def test_prepare_terminated_cleans_up_at_once(long_video, tmp_path):
    out = tmp_path/'s'
    p = subprocess.Popen([sys.executable, '-m', 'willie.apps.cli', 'prepare', '--video', str(long_video), '--out',
                          str(out), '--size', '32', '--quiet'],
                         env=ENV, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: list(tmp_path.glob('.s.tmp-*/frames.npy')), p, 'frames being written')
    p.terminate()
    err = p.communicate(timeout=120)[1]
    assert p.returncode == 128 + signal.SIGTERM and err == 'willie: interrupted (SIGTERM); no output was left ' \
                                                           'half-written\n', (p.returncode, err)
    assert not out.exists() and _hidden(tmp_path) == [], _hidden(tmp_path)


def test_tokenize_killed_then_rerun_gives_the_same_store(tmp_path):
    from willie.tokenizers.causal import CausalTokenizer, CausalTokenizerConfig
    from willie.data.film import ClipStore
    from willie.tokens.store import tokenize_film
    from willie.train.weights import save_weights
    torch.manual_seed(0)
    save_weights(CausalTokenizer(CausalTokenizerConfig(ch=(8, 8, 8), enc_res=(0, 0, 0), dec_res=(0, 0, 0))), 'tiny',
                 weights_dir=tmp_path/'w')
    video = synthetic_video(tmp_path/'clip.mp4', n_frames=240, cuts=(80, 160))
    out, env = tmp_path/'tokens'/'t', ENV | {'WILLIE_HOME': str(tmp_path/'home')}
    cmd = [sys.executable, '-m', 'willie.apps.cli', 'tokenize', '--tokenizer', 'tiny', '--weights-dir',
           str(tmp_path/'w'), '--out', str(out),
           '--video', str(video), '--variants', 'all', '--block-len', '64', '--val-every', '3', '--quiet']
    p = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: list(out.parent.glob('.t.build-*/1.npz')), p, 'two of the eight variants coded')
    p.kill(); p.wait()
    assert not out.exists() and _hidden(out.parent), ("kill -9 could not have cleaned up: the test did not catch "
                                                      "tokenize at work")
    # the same command: resumes after variant 2
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert _hidden(out.parent) == [], _hidden(out.parent)
    torch.set_num_threads(1)   # never interrupted, on the store the command prepared
    ref = tokenize_film('tiny', ClipStore(tmp_path/'home'/'stores'/'clip_64'), out=tmp_path/'ref',
                        block_len=64, val_every=3, weights_dir=tmp_path/'w', progress=False).path
    for f in ('tokens.npy', 'manifest.json'): assert (out/f).read_bytes() == (ref/f).read_bytes(), f


if __name__ == '__main__':   # the training process the first test kills and restarts
    ckpt, out, pace = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    torch.set_num_threads(1)
    resumed_from = _ckpt_step(ckpt)
    t = training_run(ckpt, pace)
    out.write_text(json.dumps({'resumed_from': resumed_from, 'losses': [h['loss'] for h in t.history],
                               'ema': [p.flatten().tolist() for p in t.ema.parameters()]}))
