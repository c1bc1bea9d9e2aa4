"""Every public entry point, walked through bad input the way a new user meets it.

The `willie` commands (prepare, info, reconstruct, eval-tokenizer, tokenize, train, generate, eval-prior) and the
library's loaders (`load_weights`, `ClipStore`, `ClipDataset`, `prepare`, `TokenStore`, `tokenize_film`, `prior_data`, a
`Trainer` resuming a checkpoint) each get missing, empty, truncated and non-video files, damaged stores and checkpoints,
wrong shapes and dtypes, absurd numbers, models of the wrong kind. Each case checks the same four things: a one-line
error that says what was wrong (no traceback), a non-zero exit, nothing written, and no time lost (it fails before any
slow work). `CLI` and `LOADERS` below are the whole list."""
import json, os, re, shutil, signal, subprocess, sys, time
from dataclasses import dataclass
from pathlib import Path
import numpy as np, pytest, torch
from torch import nn

from willie.apps.cli import main
from willie.base.core import file_hash
from willie.data.film import ClipDataset, ClipStore, StoreError, prepare, synthetic_video
from willie.tokens.store import StaleTokensError, TokenStore, TokenStoreError, tokenize_film
from willie.train.loop import CheckpointError, Trainer, TrainConfig, step_batches
from willie.train.weights import WEIGHTS_DIR, UnknownWeightsError, load_weights, read_registry, save_weights

FAST = 5.0   # seconds: a refusal comes before any decoding, coding or training (these take longer even on tiny inputs)


# --- the bad inputs, made on demand -----------------------------------------------------------------------------------
SETUP = {'s': 0.0, 'depth': 0}   # time spent making inputs (not counted against the refusal)
def setup(f):
    "Count the time `f` takes as setup (once, however deep the calls nest)"
    def g(*a, **k):
        t0 = time.time(); SETUP['depth'] += 1
        try: return f(*a, **k)
        finally:
            SETUP['depth'] -= 1
            if not SETUP['depth']: SETUP['s'] += time.time() - t0
    return g

class Inputs:
    "Bad (and a few good) inputs under `root`, each made the first time it is asked for: `inp['text']` is a path"
    def __init__(self, root:Path, audio_only:Path, shared:dict):
        self.root, self.audio, self.shared, self.made = root, audio_only, shared, {}
    @setup
    def __getitem__(self, k):
        if k not in self.made: self.made[k] = getattr(self, f'_{k}')()
        return self.made[k]
    def _missing(self): return self.root/'missing.mp4'
    def _nodir(self): return self.root/'no_such_folder'
    def _empty(self): p = self.root/'empty.mp4'; p.write_bytes(b''); return p
    def _text(self): p = self.root/'notes.mp4'; p.write_text('not a video\n' * 20); return p
    def _truncated(self):
        p = self.root/'cut.mp4'; b = self['short'].read_bytes(); p.write_bytes(b[:len(b) // 2]); return p
    def _audio(self): return self.audio
    def _still(self):
        import matplotlib.pyplot as plt
        p = self.root/'still.png'
        plt.imsave(p, np.random.default_rng(0).integers(0, 255, (48, 64)).astype(np.uint8), cmap='gray'); return p
    def _folder(self): p = self.root/'folder.mp4'; p.mkdir(); return p
    def _short(self): return synthetic_video(self.root/'short.mp4')            # 48 frames, 2 s: no val block
    def _file(self): p = self.root/'taken.gif'; p.write_bytes(b'GIF89a already here'); return p
    # 96 frames 32x32 of another video
    def _store(self): return Path(shutil.copytree(self.shared['store'], self.root/'store'))
    def _damaged(self, name, edit):
        d = Path(shutil.copytree(self.shared['store'], self.root/name)); edit(d); return d
    def _nostore(self): p = self.root/'empty_folder'; p.mkdir(); return p
    def _badjson(self):
        return self._damaged('badjson', lambda d: (d/'manifest.json').write_text('{"format": "willie-clipstore", '))
    def _listjson(self): return self._damaged('listjson', lambda d: (d/'manifest.json').write_text('[]'))
    def _lacks(self):
        def edit(d):
            m = json.loads((d/'manifest.json').read_text()); del m['shots'], m['fps']
            (d/'manifest.json').write_text(json.dumps(m))
        return self._damaged('lacks', edit)
    def _truncframes(self):
        def edit(d): b = (d/'frames.npy').read_bytes(); (d/'frames.npy').write_bytes(b[:len(b) // 3])
        return self._damaged('truncframes', edit)
    def _floatframes(self):
        return self._damaged('floatframes', lambda d: np.save(d/'frames.npy', np.zeros((96, 32, 32), np.float32)))
    def _fewframes(self):
        return self._damaged('fewframes', lambda d: np.save(d/'frames.npy', np.zeros((40, 32, 32), np.uint8)))
    def _tampered(self):   # fsq_vae_64 with a few bytes changed: the sha256 no longer matches the registry's
        d = self.root/'w_tampered'; d.mkdir(); e = read_registry()['fsq_vae_64']
        b = bytearray((WEIGHTS_DIR/e['file']).read_bytes()); b[-100:-90] = bytes(10)
        (d/e['file']).write_bytes(bytes(b))
        (d/'registry.json').write_text(json.dumps({'fsq_vae_64': e})); return d
    def _nofile(self):     # the registry names a file that is not there
        d = self.root/'w_nofile'; d.mkdir()
        (d/'registry.json').write_text(json.dumps({'fsq_vae_64': read_registry()['fsq_vae_64']})); return d
    def _noarch(self): p = self.root/'noarch.json'; p.write_text(json.dumps({'model': {}})); return p
    def _recipe_file(self, name, edit):   # fsq_vae_64's recipe as a .json file, edited
        from willie.apps.recipes import all_recipes
        r = all_recipes()['fsq_vae_64'].to_dict(); edit(r)
        p = self.root/f'{name}.json'; p.write_text(json.dumps(r)); return p
    def _misspelt(self): return self._recipe_file('misspelt', lambda r: r['train'].update(lrr=r['train'].pop('lr')))
    def _mistyped(self): return self._recipe_file('mistyped', lambda r: r['data']['augment'].update(flip='yes'))
    def _streams(self): return Path(shutil.copytree(self.shared['weights'], self.root/'w_streams'))
    def _tokens(self): return Path(shutil.copytree(self.shared['tokens'], self.root/'tokens'))
    def _tokens_other(self):
        d = self._tokens(); m = json.loads((d/'manifest.json').read_text()); m['tokenizer']['name'] = 'other'
        (d/'manifest.json').write_text(json.dumps(m)); return d
    def _tokens_badjson(self):
        d = Path(shutil.copytree(self.shared['tokens'], self.root/'tokens_bad')); (d/'manifest.json').write_text('{"')
        return d


@pytest.fixture(scope='module')
def shared(tmp_path_factory):
    """Built once: a 32x32 clip store, a registry with a tiny causal tokenizer 'tiny' and a clip tokenizer 'clips',
    tiny's token store"""
    from willie.tokenizers.causal import CausalTokenizer, CausalTokenizerConfig
    from willie.tokenizers.video_vae import VideoFSQVAE, VideoFSQVAEConfig
    d = tmp_path_factory.mktemp('bad_shared')
    store = prepare(synthetic_video(d/'synth96.mp4', n_frames=96, cuts=(30, 60)), d/'store', size=32, progress=False)
    torch.manual_seed(0)
    save_weights(CausalTokenizer(CausalTokenizerConfig(ch=(8, 16, 16), enc_res=(0, 0, 1), dec_res=(0, 0, 1))), 'tiny',
                 weights_dir=d/'w')
    save_weights(VideoFSQVAE(VideoFSQVAEConfig(ch=(8, 16, 16))), 'clips', weights_dir=d/'w')
    tokenize_film('tiny', store, ('p0',), out=d/'tokens', block_len=16, val_every=3, weights_dir=d/'w', progress=False)
    return {'store': store.path, 'weights': d/'w', 'tokens': d/'tokens'}


@pytest.fixture
def inp(tmp_path, audio_only, shared): return Inputs(tmp_path, audio_only, shared)


def tree(root:Path)->dict:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob('*')}


# --- the command line -------------------------------------------------------------------------------------------------
ONLY_TOKENIZERS = r"choose one of (?!.*cifar)"   # the list that follows names no CIFAR model
CLI = {  # entry point: [(case, argv with {input} placeholders, regex the one-line error must match, exit status)]
    'prepare': [
        ('missing video', 'prepare --video {missing} --out out', 'video not found', 1),
        ('empty file', 'prepare --video {empty} --out out', 'is empty', 1),
        ('text file', 'prepare --video {text} --out out', 'is not a video PyAV can open', 1),
        ('truncated video', 'prepare --video {truncated} --out out', 'truncated', 1),
        ('audio only', 'prepare --video {audio} --out out', r'has no video stream \(found: audio\)', 1),
        ('still image', 'prepare --video {still} --out out', 'is a still image', 1),
        ('a folder as video', 'prepare --video {folder} --out out', 'is a directory', 1),
        ('--size 0', 'prepare --video {short} --size 0 --out out', '--size must be at least 8, got 0', 1),
        ('--size 5000', 'prepare --video {short} --size 5000 --out out', '--size must be at most 1024', 1),
        ('--size abc', 'prepare --video {short} --size abc', "argument --size: invalid int value: 'abc'", 2),
        ('--out is a file', 'prepare --video {short} --out {file}', 'is a file; give a folder', 1),
        ('--out holds another video', 'prepare --video {short} --size 32 --out {store}',
         'holds the 32x32 store of synth96.mp4; pass --force', 1),
        ('--video and --download', 'prepare --video {short} --download', 'not allowed with argument', 2),
        ('no source', 'prepare --size 64', 'one of the arguments --video --download is required', 2)],
    'info': [
        ('missing store', 'info {nodir}', 'does not exist, so it is not a clip store', 1),
        ('a file', 'info {file}', 'is a file, not a clip store', 1),
        ('folder without manifest', 'info {nostore}', r'is not a clip store \(no manifest.json\)', 1),
        ('manifest cut short', 'info {badjson}', 'manifest.json is not valid JSON', 1),
        ('manifest not a dict', 'info {listjson}', 'holds a list, not a manifest', 1),
        ('manifest lacks fields', 'info {lacks}', 'lacks fps, shots; the store is damaged', 1),
        ('frames.npy truncated', 'info {truncframes}', r'frames.npy is not a readable .npy', 1),
        ('frames of another dtype', 'info {floatframes}',
         r'frames.npy is float32 \(96, 32, 32\) but the manifest says uint8', 1),
        ('frames of another shape', 'info {fewframes}',
         r'frames.npy is uint8 \(40, 32, 32\) but the manifest says uint8 \(96, 32, 32\)', 1),
        ('--clip-len 0', 'info {store} --clip-len 0', '--clip-len must be at least 1, got 0', 1)],
    'reconstruct': [
        ('a CIFAR model as tokenizer', 'reconstruct --tokenizer vae_cifar',
         r'vae_cifar is not a bundled video tokenizer \(a VAE has no tokenize\); ' + ONLY_TOKENIZERS, 1),
        ('unknown tokenizer', 'reconstruct --tokenizer nope',
         r"no bundled weights named 'nope'\); " + ONLY_TOKENIZERS, 1),
        ('-n 0', 'reconstruct -n 0', '-n must be at least 1, got 0', 1),
        ('-n -1', 'reconstruct -n -1', '-n must be at least 1, got -1', 1),
        ('-n abc', 'reconstruct -n abc', "argument -n: invalid int value: 'abc'", 2),
        ('--clip-len 3', 'reconstruct --clip-len 3',
         r'--clip-len 3: fsq_vae_64 cannot code 3-frame clips \(clip shape \(3, 64, 64\) is not a multiple', 1),
        ('--clip-len 0', 'reconstruct --clip-len 0', '--clip-len must be at least 1', 1),
        ('--fps 0', 'reconstruct --fps 0', '--fps must be positive, got 0', 1),
        ('--size 128 with a 64x64 tokenizer', 'reconstruct --size 128',
         'fsq_vae_64 was trained on 64x64 frames; leave --size out', 1),
        ('--out foo.txt', 'reconstruct --out foo.txt', 'the output must end in .mp4 or .gif', 1),
        ('--out exists', 'reconstruct --out {file}', 'exists; pass --overwrite to replace it', 1),
        ('--out in a missing folder', 'reconstruct --out {nodir}/r.gif', 'the folder .* does not exist', 1),
        ('--split test', 'reconstruct --split test', 'argument --split: invalid choice', 2),
        ('a 2 s video, val split', 'reconstruct --video {short} --split val',
         r'short.mp4 is 2.0 s long and val is every 10th block of 20 s, so it has no val frames .*use --split all', 1),
        ('missing video', 'reconstruct --video {missing}', 'video not found', 1),
        ('text file as video', 'reconstruct --video {text}', 'is not a video PyAV can open', 1),
        ('weights sha256 mismatch', 'reconstruct --weights-dir {tampered}',
         r'fsq_vae_64.safetensors does not match the registry \(sha256', 1),
        ('weights file missing', 'reconstruct --weights-dir {nofile}',
         'fsq_vae_64.safetensors for .fsq_vae_64. is missing', 1)],
    'eval-tokenizer': [
        ('a CIFAR model', 'eval-tokenizer vae_cifar',
         'vae_cifar is not a bundled video tokenizer .*' + ONLY_TOKENIZERS, 1),
        ('--window 1', 'eval-tokenizer fsq_vae_64 --window 1', '--window must be at least 2, got 1', 1),
        ('--window 3', 'eval-tokenizer fsq_vae_64 --window 3', '--window 3: fsq_vae_64 cannot code 3-frame clips', 1),
        ('--seconds 0', 'eval-tokenizer fsq_vae_64 --out side.gif --seconds 0', '--seconds must be positive', 1),
        ('--fps 0', 'eval-tokenizer fsq_vae_64 --fps 0', '--fps must be positive', 1),
        ('--out x.txt', 'eval-tokenizer fsq_vae_64 --out x.txt', 'must end in .mp4 or .gif', 1),
        ('--out exists', 'eval-tokenizer fsq_vae_64 --out {file}', 'exists; pass --overwrite', 1),
        ('--size 128', 'eval-tokenizer fsq_vae_64 --size 128', 'trained on 64x64 frames', 1),
        ('missing video', 'eval-tokenizer fsq_vae_64 --video {missing}', 'video not found', 1),
        ('audio only', 'eval-tokenizer fsq_vae_64 --video {audio}', 'has no video stream', 1),
        ('a 2 s video, val split', 'eval-tokenizer fsq_vae_64 --video {short} --split val',
         'has no val frames .*use --split all', 1)],
    'tokenize': [
        ('unknown tokenizer', 'tokenize --tokenizer nope --weights-dir {streams}',
         r"'nope' is not a bundled tokenizer that codes streams .*choose one of tiny$", 1),
        ('a clip tokenizer', 'tokenize --tokenizer clips --weights-dir {streams}',
         r'clips cannot code whole shots as streams \(a VideoFSQVAE has no tokenize_stream\)', 1),
        ('unknown variant', 'tokenize --tokenizer tiny --weights-dir {streams} --variants p0,mirror',
         "unknown part 'mirror'", 1),
        ('phase beyond the time factor', 'tokenize --tokenizer tiny --weights-dir {streams} --variants p4',
         'has only the phases p0..p3', 1),
        ('--block-len 3', 'tokenize --tokenizer tiny --weights-dir {streams} --block-len 3',
         '--block-len must be at least 9, got 3', 1),
        ('--val-every 1', 'tokenize --tokenizer tiny --weights-dir {streams} --val-every 1',
         '--val-every must be at least 2, got 1', 1),
        ('a 2 s video', 'tokenize --tokenizer tiny --weights-dir {streams} --video {short}',
         r'has no val frames \(needs 9\); choose shorter blocks \(--block-len\)', 1),
        ('missing video', 'tokenize --tokenizer tiny --weights-dir {streams} --video {missing}', 'video not found', 1),
        ('--out is a file', 'tokenize --tokenizer tiny --weights-dir {streams} --out {file}',
         'is a file; give a folder for the token store', 1),
        ('--out holds another tokenizer', 'tokenize --tokenizer tiny --weights-dir {streams} --out {tokens_other}',
         "holds tokens of 'other'; tokens of different tokenizers do not mix", 1),
        ('--out damaged', 'tokenize --tokenizer tiny --weights-dir {streams} --out {tokens_badjson}',
         'manifest.json is not valid JSON.*pass --force', 1)],
    'train': [
        ('unknown recipe', 'train nope', r"'nope' is no recipe: choose one of .*fsq_vae_64", 1),
        ('a recipe file that is not JSON', 'train {text}', 'notes.mp4: a recipe file is a .json', 1),
        ('--steps 0', 'train fsq_vae_64 --steps 0', '--steps must be at least 1, got 0', 1),
        ('--store missing', 'train fsq_vae_64 --store {nodir}', 'does not exist, so it is not a clip store', 1),
        ('--store damaged', 'train fsq_vae_64 --store {truncframes}', 'frames.npy is not a readable .npy', 1),
        ('--store of tokens for a tokenizer recipe', 'train fsq_vae_64 --store {tokens}',
         'store format willie-tokens v1, expected willie-clipstore', 1),
        ('--store at another size', 'train fsq_vae_64 --store {store}',
         'it trains on 64x64 frames, store has 32x32', 1),
        ('a GPU recipe on a CPU', 'train prior_128_gpu', 'prior_128_gpu is a GPU recipe .*--device cpu', 1),
        ('a store for a CIFAR recipe', 'train vae_cifar --store {store}',
         'VAE recipe: it trains on CIFAR-10; it takes no store', 1),
        ('a recipe file without arch', 'train {noarch}', r"noarch.json: a recipe file needs an 'arch'", 1),
        ('a recipe file with a misspelt field', 'train {misspelt}', "misspelt.json: train has no field 'lrr'", 1),
        ('a recipe file with a mistyped field', 'train {mistyped}',
         "mistyped.json: data.augment.flip: expected a number, got 'yes'", 1),
        ('--device cuda without a GPU', 'train fsq_vae_64 --device cuda', 'no CUDA GPU here', 1)],
    'generate': [
        ('--seconds 0', 'generate --seconds 0', '--seconds must be positive', 1),
        ('--seconds 1000', 'generate --seconds 1000', '--seconds must be at most 600', 1),
        ('--seed -1', 'generate --seed -1', '--seed must be at least 0', 1),
        ('--temperature -1', 'generate --temperature -1', '--temperature must be at least 0', 1),
        ('--top-k 0', 'generate --top-k 0', '--top-k must be at least 1', 1),
        ('--top-p 1.5', 'generate --top-p 1.5', r'--top-p must be in \(0, 1\]', 1),
        ('--steps 0', 'generate --steps 0', '--steps must be at least 1', 1),
        ('--surprise -1', 'generate --surprise -1', '--surprise must be at least 0', 1),
        ('--surprise for maskgit', 'generate --method maskgit --surprise 5', 'maskgit takes no surprise target', 1),
        ('--method beam', 'generate --method beam', "argument --method: invalid choice: 'beam'", 2),
        ('--out foo.txt', 'generate --out foo.txt', 'the output must end in .mp4 or .gif', 1),
        ('--out exists', 'generate --out {file}', 'exists; pass --overwrite', 1),
        ('missing prompt', 'generate --prompt {missing}', 'prompt not found', 1),
        ('text file as prompt', 'generate --prompt {text}', 'is not a video PyAV can open', 1)],
    'eval-prior': [
        ('a CIFAR model as prior', 'eval-prior vae_cifar',
         r'vae_cifar is not a bundled prior \(a VAE has no new_cache\)', 1),
        ('unknown prior', 'eval-prior nope', "no bundled weights named 'nope'", 1)],
}
CLI_CASES = [pytest.param(entry, argv, msg, rc, id=f'{entry}: {case}')
             for entry, cases in CLI.items() for case, argv, msg, rc in cases]


@pytest.mark.parametrize('entry,argv,msg,rc', CLI_CASES)
def test_cli_refuses_bad_input(entry, argv, msg, rc, inp, tmp_path, capsys, monkeypatch):
    if entry == 'train' and '--device cuda' in argv and torch.cuda.is_available(): pytest.skip('this machine has a GPU')
    monkeypatch.setenv('WILLIE_HOME', str(tmp_path/'home')); monkeypatch.delenv('WILLIE_FILM', raising=False)
    monkeypatch.chdir(tmp_path)                                   # no film anywhere: the checks must not need it
    args = [a.format_map({k: inp[k] for k in re.findall(r'\{(\w+)\}', a)}) for a in argv.split()]
    before, t0 = tree(tmp_path), time.time()
    try: code = main(args)
    except SystemExit as e: code = e.code                        # argparse's usage errors
    took, (out, err) = time.time() - t0, capsys.readouterr()
    assert code == rc, f"exit {code}: {err}"
    assert err.startswith('willie') and err.count('\n') == 1 and 'Traceback' not in err, err
    assert re.search(msg, err.strip()), err
    assert took < FAST, f"{took:.1f} s before refusing: the check comes after slow work"
    assert tree(tmp_path) == before, "something was written"


def test_ctrl_c_prints_one_line(tmp_path):
    "SIGINT in the middle of `willie prepare`: one line, exit 130, no traceback, no half-built store or hidden folder"
    env = dict(os.environ, OMP_NUM_THREADS='1', WILLIE_HOME=str(tmp_path/'home'))
    # on a loaded machine a short video can finish between the check and the signal: then a longer one (2 of 3
    # attempts were needed in CI runs beside a training run)
    for n in (600, 2400, 9600):
        vid = synthetic_video(tmp_path/f'long{n}.mp4', n_frames=n, width=160, height=128, cuts=())
        out = tmp_path/f's{n}'
        p = subprocess.Popen([sys.executable, '-m', 'willie.apps.cli', 'prepare', '--video', str(vid), '--out',
                              str(out), '--quiet'],
                             env=env, stderr=subprocess.PIPE, text=True,
                             # a shell's background job ignores SIGINT and its children inherit that: not this one
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.time() + 300
        # the store's temporary folder appears before decoding starts; a moment later the writer is inside it
        while not list(tmp_path.glob(f'.s{n}.tmp-*')) and p.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        if p.poll() is None: p.send_signal(signal.SIGINT)
        err = p.communicate(timeout=120)[1]
        # finished first: whole. A signal that lands after the store was renamed into place, while the interpreter
        # shuts down, meets the default handler Python restores there: killed by SIGINT, nothing printed (seen in CI)
        if p.returncode == 0 or (p.returncode == -signal.SIGINT and out.exists()):
            assert out.exists() and not list(tmp_path.glob(f'.s{n}*')); continue
        assert p.returncode == 130 and err == 'willie: interrupted (Ctrl-C); no output was left half-written\n', \
            (p.returncode, err)
        assert not out.exists() and not list(tmp_path.glob(f'.s{n}*'))
        return
    raise AssertionError("prepare finished before it could be interrupted, 3 times: make the video longer")


# --- the library's loaders --------------------------------------------------------------------------------------------
@dataclass
class TinyConfig: width:int=8

class TinyNet(nn.Module):
    "A model with a dataclass `cfg`, like the course's: a checkpoint records its config"
    def __init__(self, cfg:TinyConfig=TinyConfig()):
        super().__init__(); self.cfg = cfg
        self.net = nn.Sequential(nn.Linear(1, cfg.width), nn.GELU(), nn.Linear(cfg.width, 1))
    def forward(self, x): return self.net(x)

XS = torch.linspace(-1, 1, 32)[:, None]
def _trainer(ckpt, model=None, **cfg):
    torch.manual_seed(0)
    return Trainer(model or TinyNet(), lambda m, b: (nn.functional.mse_loss(m(b), b.sin()), {}), step_batches(XS, 8),
                   TrainConfig(**(dict(steps=4, lr=1e-2, warmup=1, ckpt_every=2) | cfg)), ckpt_dir=ckpt,
                   log=lambda s: None)

@setup
def _ckpt(tmp_path, edit=None):
    d = tmp_path/'run'; _trainer(d).fit()
    tag = json.loads((d/'latest.json').read_text())['tag']
    if edit: edit(d, tag)
    return d

def _cut(p:Path): b = p.read_bytes(); p.write_bytes(b[:len(b) // 2])

@setup
def _registry_edit(tmp_path, edit):
    d = tmp_path/'w'; d.mkdir(); e = dict(read_registry()['fsq_vae_64'])
    shutil.copy(WEIGHTS_DIR/e['file'], d/e['file']); e = edit(d, e) or e
    (d/'registry.json').write_text(json.dumps({'fsq_vae_64': e})); return d

def _bad_config(d, e): return e | {'config': e['config'] | {'ch': [16, 32, 64]}}
def _corrupt_same_sha(d, e): _cut(d/e['file']); return e | {'sha256': file_hash(d/e['file'])}


LOADERS = {  # entry point: [(case, call(inp, tmp_path), exception, regex)]
    'load_weights()': [
        ('unknown name', lambda i, t: load_weights('nope'), UnknownWeightsError, "no bundled weights named 'nope'"),
        ('sha256 mismatch', lambda i, t: load_weights('fsq_vae_64', i['tampered']), ValueError,
         r'does not match the registry \(sha256'),
        ('file missing', lambda i, t: load_weights('fsq_vae_64', i['nofile']), FileNotFoundError,
         'is missing; reinstall willie or retrain it'),
        ('registry config of another model',
         lambda i, t: load_weights('fsq_vae_64', _registry_edit(t, _bad_config)), ValueError,
         'does not fit VideoFSQVAE with its registered config: .*shape mismatch'),
        ('registry.json damaged', lambda i, t: load_weights('fsq_vae_64', _registry_edit(t, lambda d, e: None) and
         ((t/'w'/'registry.json').write_text('{"fsq') and t/'w')), ValueError,
         r'registry\.json is damaged \(not valid JSON'),
        ('corrupt safetensors with a matching sha256',
         lambda i, t: load_weights('fsq_vae_64', _registry_edit(t, _corrupt_same_sha)),
         ValueError, 'is damaged: not a readable safetensors file')],
    'ClipStore()': [
        ('missing', lambda i, t: ClipStore(i['nodir']), StoreError, 'does not exist'),
        ('a file', lambda i, t: ClipStore(i['file']), StoreError, 'is a file'),
        ('no manifest', lambda i, t: ClipStore(i['nostore']), StoreError, 'no manifest.json'),
        ('manifest cut short', lambda i, t: ClipStore(i['badjson']), StoreError, 'is not valid JSON'),
        ('manifest lacks fields', lambda i, t: ClipStore(i['lacks']), StoreError, 'lacks fps, shots'),
        ('frames truncated', lambda i, t: ClipStore(i['truncframes']), StoreError, 'is not a readable .npy'),
        ('frames of another dtype', lambda i, t: ClipStore(i['floatframes']), StoreError, 'is float32'),
        ('frames of another shape', lambda i, t: ClipStore(i['fewframes']), StoreError,
         r'uint8 \(40, 32, 32\) but the manifest')],
    'ClipDataset()': [
        ('clip_len 0', lambda i, t: ClipDataset(i['store'], 0), ValueError, 'clip_len must be an integer >= 1, got 0'),
        ('clip_len 2.5', lambda i, t: ClipDataset(i['store'], 2.5), ValueError, 'clip_len must be an integer'),
        ('unknown split', lambda i, t: ClipDataset(i['store'], 8, 'test'), ValueError,
         "split must be 'train', 'val' or 'all'"),
        ('val_every 1', lambda i, t: ClipDataset(i['store'], 8, val_every=1), ValueError,
         'val_every must be an integer >= 2'),
        ('no val frames', lambda i, t: ClipDataset(i['store'], 8, 'val'), ValueError, "has no val frames.*split 'all'"),
        ('clips longer than any shot', lambda i, t: ClipDataset(i['store'], 40, 'all'), ValueError,
         'its longest stretch is 36 frames')],
    'prepare()': [
        ('size 4', lambda i, t: prepare(i['short'], t/'out', size=4), ValueError, 'size must be between 8 and 1024'),
        ('truncated video', lambda i, t: prepare(i['truncated'], t/'out', progress=False), ValueError, 'truncated'),
        ('out is a folder of other files',
         lambda i, t: (t/'out').mkdir() or (t/'out'/'x').write_text('x')
                      and prepare(i['short'], t/'out', size=16, progress=False),
         FileExistsError, 'exists and is not a clip store')],
    'TokenStore()': [
        ('missing', lambda i, t: TokenStore(i['nodir']), TokenStoreError, 'does not exist'),
        ('manifest cut short', lambda i, t: TokenStore(i['tokens_badjson']), TokenStoreError, 'is not valid JSON'),
        ('manifest lacks fields', lambda i, t: TokenStore(_edit_tokens(i, lambda m: m.pop('grid'))),
         TokenStoreError, 'lacks grid'),
        ('tokens truncated',
         lambda i, t: TokenStore(_edit_tokens(i, files=lambda d: _cut(d/'tokens.npy')), check=False), TokenStoreError,
         'is not a readable .npy'),
        ('tokens of another dtype',
         lambda i, t: TokenStore(_edit_tokens(i, files=lambda d: np.save(d/'tokens.npy',
                                                                         np.load(d/'tokens.npy').astype(np.float32))),
                                 check=False),
         TokenStoreError, 'tokens.npy is float32'),
        ('a store of another tokenizer', lambda i, t: TokenStore(i['tokens'], tokenizer='magvit_gan_64', check=False),
         StaleTokensError, 'do not mix'),
        ('tokenizer retrained since', lambda i, t: TokenStore(i['tokens'], weights_dir=_retrained(i)), StaleTokensError,
         'the tokens are stale')],
    'tokenize_film()': [
        ('unknown tokenizer', lambda i, t: tokenize_film('nope', i['store'], weights_dir=i['streams']), KeyError,
         "no tokenizer named 'nope'"),
        ('a clip tokenizer', lambda i, t: tokenize_film('clips', i['store'], weights_dir=i['streams'], progress=False),
         ValueError, 'cannot code a whole shot'),
        ('a store at another size', lambda i, t: tokenize_film('fsq_vae_64', i['store']), ValueError,
         'has 32x32 frames but fsq_vae_64 was trained on 64x64')],
    'prior_data()': [
        ('a token store of another tokenizer', lambda i, t: _prior_data(i), ValueError,
         "holds tokens of 'tiny', the recipe trains on 'magvit_gan_64'")],
    'Trainer.fit() resuming': [
        ('another TrainConfig', lambda i, t: _trainer(_ckpt(t), lr=5e-3).fit(), CheckpointError,
         r"another config \(saved, now\): \{'lr': \(0.01, 0.005\)\}"),
        ('another model config', lambda i, t: _trainer(_ckpt(t), TinyNet(TinyConfig(16))).fit(), CheckpointError,
         r"trained another TinyNet as 'model' \(saved, now\): \{'width': \(8, 16\)\}"),
        ('weights of another shape', lambda i, t: _trainer(_ckpt(t), nn.Sequential(nn.Linear(1, 16))).fit(),
         CheckpointError, "its 'model' weights do not fit this Sequential"),
        ('other networks',
         lambda i, t: Trainer({'g': TinyNet(), 'd': TinyNet()}, lambda m, b: (m(b).mean(), {}), step_batches(XS, 8),
                              TrainConfig(steps=4, lr=1e-2, warmup=1, ckpt_every=2), ckpt_dir=_ckpt(t)).fit(),
         CheckpointError, r"trained the networks \['model'\], this trainer \['g', 'd'\]"),
        ('latest.json damaged',
         lambda i, t: _trainer(_ckpt(t, lambda d, tag: (d/'latest.json').write_text('{"st'))).fit(), CheckpointError,
         'latest.json is damaged'),
        ('weights file corrupt', lambda i, t: _trainer(_ckpt(t, lambda d, tag: _cut(d/f'{tag}.safetensors'))).fit(),
         CheckpointError, r'is damaged \(SafetensorError'),
        ('state file truncated', lambda i, t: _trainer(_ckpt(t, lambda d, tag: _cut(d/f'{tag}.state.pt'))).fit(),
         CheckpointError, 'is damaged'),
        ('state file missing', lambda i, t: _trainer(_ckpt(t, lambda d, tag: (d/f'{tag}.state.pt').unlink())).fit(),
         CheckpointError, r'is incomplete: step0000004.state.pt is missing')],
    'step_batches()': [
        ('empty data', lambda i, t: step_batches(torch.zeros(0, 3), 4), ValueError, 'the data is empty')],
}
def _param(entry, c):
    values, marks = (c.values, c.marks) if hasattr(c, 'marks') else (c, ())
    return pytest.param(entry, *values, marks=marks, id=f'{entry}: {values[0]}')
LOADER_CASES = [_param(entry, c) for entry, cases in LOADERS.items() for c in cases]

@setup
def _edit_tokens(i, edit=None, files=None):
    d = i['tokens']
    if edit: m = json.loads((d/'manifest.json').read_text()); edit(m); (d/'manifest.json').write_text(json.dumps(m))
    if files: files(d)
    return d

@setup
def _retrained(i):
    from willie.tokenizers.causal import CausalTokenizer, CausalTokenizerConfig
    torch.manual_seed(1)
    save_weights(CausalTokenizer(CausalTokenizerConfig(ch=(8, 16, 16), enc_res=(0, 0, 1), dec_res=(0, 0, 1))), 'tiny',
                 weights_dir=i['streams'])
    return i['streams']

def _prior_data(i):
    from willie.priors.transformer import RECIPES, prior_data
    return prior_data(RECIPES['prior_64'], TokenStore(i['tokens'], check=False))


@pytest.mark.parametrize('entry,case,call,exc,msg', LOADER_CASES)
def test_loaders_refuse_bad_input(entry, case, call, exc, msg, inp, tmp_path):
    t0, s0 = time.time(), SETUP['s']
    with pytest.raises(exc) as e: call(inp, tmp_path)
    assert re.search(msg, str(e.value)), str(e.value)
    assert '\n' not in str(e.value), f"a message of several lines: {e.value}"
    assert time.time() - t0 - (SETUP['s'] - s0) < FAST


def test_every_entry_point_is_walked():
    "The commands `willie --help` lists and the loaders named in the docstring all have cases here"
    from willie.apps.cli import parser
    commands = set(parser()._subparsers._group_actions[0].choices)
    assert commands <= set(CLI), (f"commands without bad-input cases: {commands - set(CLI)}; add them to CLI in "
                                  "tests/test_bad_input.py")
    counts = {e: len(c) for e, c in (CLI | LOADERS).items()}
    print('bad-input cases by entry point:', counts, 'total', sum(counts.values()) + 1)   # + Ctrl-C
    assert all(n >= 1 for n in counts.values())
