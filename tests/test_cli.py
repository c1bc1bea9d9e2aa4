"Tests of the `willie` command line (in-process `willie.apps.cli.main`)."
import numpy as np, pytest
from willie.apps.cli import main


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err

def test_prepare_and_info(capsys, synth_video, tmp_path):
    rc, out, err = run(capsys, 'prepare', '--video', synth_video, '--size', 32, '--out', tmp_path/'s', '--quiet')
    assert rc == 0 and 'ClipStore(' in out and '48 frames 32x32' in out
    rc, out, err = run(capsys, 'info', tmp_path/'s', '--clip-len', 8)
    assert rc == 0 and 'shots   3' in out and 'train' in out and 'val' in out and 'synth.mp4' in out
    rc, out, err = run(capsys, 'prepare', '--video', synth_video, '--size', 32, '--out', tmp_path/'s', '--quiet')
    assert rc == 0   # again: nothing to do

@pytest.fixture
def offline(tmp_path, monkeypatch):
    "No local film anywhere: an empty cache, no $WILLIE_FILM, and a working directory with no shared/ above it"
    monkeypatch.setenv('WILLIE_HOME', str(tmp_path/'home'))
    monkeypatch.delenv('WILLIE_FILM', raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path

def test_prepare_video_is_found_by_later_commands(capsys, synth_video, offline):
    "`willie prepare --video film.mp4` writes the film's store, which `willie reconstruct` then uses"
    assert run(capsys, 'prepare', '--video', synth_video, '--size', 64, '--quiet')[0] == 0
    assert (offline/'home'/'stores'/'film_64'/'frames.npy').exists()
    rc, out, err = run(capsys, 'reconstruct', '--split', 'all', '-n', 1, '--out', offline/'r.gif', '--quiet')
    assert rc == 0, err
    assert '256 tokens' in out and (offline/'r.gif').stat().st_size > 0

def test_failed_download_says_how_to_use_a_local_copy(capsys, offline):
    "Offline (nothing listens on the port): one line that says the film could not be fetched and what to do instead"
    for argv in (['prepare', '--download'], ['reconstruct', '--download']):
        rc, out, err = run(capsys, *argv, '--base-url', 'http://127.0.0.1:9', '--quiet')
        assert rc == 1 and err.count('\n') == 1, err
        assert 'could not be fetched' in err and 'WILLIE_FILM' in err and 'willie prepare --video' in err

def test_download_uses_the_local_copy_first(capsys, synth_video, offline, monkeypatch):
    "With $WILLIE_FILM set, --download never touches the network (the server here does not exist)"
    monkeypatch.setenv('WILLIE_FILM', str(synth_video))
    rc, out, err = run(capsys, 'prepare', '--download', '--base-url', 'http://127.0.0.1:9', '--size', 16, '--quiet')
    assert rc == 0, err
    assert (offline/'home'/'stores'/'film_16'/'manifest.json').exists() and not (offline/'home'/'film').exists()

def test_tokenizers_that_no_longer_ship(capsys, offline):
    "A tokenizer that left the package: one line saying how to make it and where it then is"
    rc, out, err = run(capsys, 'eval-tokenizer', 'causal_64', '--quiet')
    assert rc == 1 and err.count('\n') == 1 and '`willie train causal_64`' in err and 'min on a CPU' in err
    assert f"--weights-dir {offline/'home'/'weights'}" in err and 'choose one of causal_s4_64, fsq_vae_64' in err

@pytest.mark.parametrize('kind', ['missing', 'empty', 'text', 'truncated', 'audio'])
def test_prepare_bad_input(kind, capsys, tmp_path, synth_video, audio_only):
    src = {'missing': tmp_path/'missing.mp4', 'empty': tmp_path/'empty.mp4', 'text': tmp_path/'notes.mp4',
           'truncated': tmp_path/'cut.mp4', 'audio': audio_only}[kind]
    if kind == 'empty': src.write_bytes(b'')
    if kind == 'text': src.write_text('not a video\n')
    if kind == 'truncated': src.write_bytes(synth_video.read_bytes()[:synth_video.stat().st_size // 2])
    rc, out, err = run(capsys, 'prepare', '--video', src, '--out', tmp_path/'out', '--quiet')
    msg = {'missing': 'video not found', 'empty': 'is empty', 'text': 'not a video PyAV can open',
           'truncated': 'truncated', 'audio': 'has no video stream (found: audio)'}[kind]
    assert rc == 1 and err.startswith('willie: error: ') and msg in err and err.count('\n') == 1
    assert not (tmp_path/'out').exists()

def test_prepare_still_image(capsys, still_image, tmp_path):
    rc, out, err = run(capsys, 'prepare', '--video', still_image, '--out', tmp_path/'out', '--quiet')
    assert rc == 1 and 'still image' in err and not (tmp_path/'out').exists()

def test_info_bad_store(capsys, synth_store, tmp_path):
    import shutil
    bad = shutil.copytree(synth_store.path, tmp_path/'bad')
    np.save(bad/'frames.npy', np.zeros((5, 32, 32), np.uint8))
    rc, out, err = run(capsys, 'info', bad)
    assert rc == 1 and 'but the manifest says uint8 (96, 32, 32)' in err and err.count('\n') == 1
    rc, out, err = run(capsys, 'info', tmp_path/'nothing')
    assert rc == 1 and 'not a clip store' in err

def test_usage_errors(capsys):
    with pytest.raises(SystemExit) as e: main([])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e: main(['prepare', '--video', 'a.mp4', '--download'])
    assert e.value.code == 2 and 'not allowed with' in capsys.readouterr().err

def test_prepare_download(capsys, archive, synth_video, tmp_path, offline):
    archive.add('Steamboat Willie.mp4', synth_video.read_bytes(), height=480)
    rc, out, err = run(capsys, 'prepare', '--download', '--base-url', archive.base_url, '--size', 16, '--quiet')
    assert rc == 0 and (tmp_path/'home'/'film'/'Steamboat Willie.mp4').exists()
    assert (tmp_path/'home'/'stores'/'film_16'/'manifest.json').exists()

def test_download_failure_is_one_line(capsys, archive, synth_video, tmp_path, offline):
    archive.add('w.mp4', synth_video.read_bytes(), height=480, md5='f' * 32)
    rc, out, err = run(capsys, 'prepare', '--download', '--base-url', archive.base_url, '--quiet')
    assert rc == 1 and 'md5' in err and err.count('\n') == 1 and not (tmp_path/'home'/'stores').exists()


def test_reconstruct_with_bundled_tokenizer(capsys, synth_video, tmp_path, monkeypatch):
    monkeypatch.setenv('WILLIE_HOME', str(tmp_path / 'home'))
    out = tmp_path / 'recon.gif'
    rc, stdout, err = run(capsys, 'reconstruct', '--video', str(synth_video), '--split', 'all', '-n', '2', '--out',
                          str(out), '--quiet')
    assert rc == 0, err
    assert '256 tokens' in stdout and stdout.count('PSNR') == 3 and out.stat().st_size > 0


def test_reconstruct_unknown_tokenizer(capsys, synth_video, tmp_path):
    rc, stdout, err = run(capsys, 'reconstruct', '--tokenizer', 'nope', '--video', str(synth_video), '--out',
                          str(tmp_path / 'x.gif'))
    assert rc == 1 and "no bundled weights named 'nope'" in err and not (tmp_path / 'x.gif').exists()


def test_eval_tokenizer_on_any_footage(capsys, synth_video, tmp_path, monkeypatch):
    monkeypatch.setenv('WILLIE_HOME', str(tmp_path / 'home'))
    out = tmp_path / 'side.gif'
    rc, stdout, err = run(capsys, 'eval-tokenizer', 'fsq_vae_64', '--video', str(synth_video), '--out', str(out),
                          '--seconds', '1', '--quiet')
    assert rc == 0, err
    for k in ('PSNR', 'SSIM', 'sharpness ratio', 'motion ratio', 'seam ratio', 'bits per pixel', 'code use'):
        assert k in stdout
    assert '0.0389' in stdout and out.stat().st_size > 0



def test_eval_tokenizer_h264(capsys, synth_video, tmp_path, monkeypatch):
    "--h264: the same table for H.264 on the same frames at the tokenizer's bpp"
    monkeypatch.setenv('WILLIE_HOME', str(tmp_path / 'home'))
    rc, stdout, err = run(capsys, 'eval-tokenizer', 'fsq_vae_64', '--video', str(synth_video), '--h264', '--quiet')
    assert rc == 0, err
    tok, h264 = stdout.split('H.264 on ')
    assert tok.startswith('fsq_vae_64 on ') and 'code use' in tok and 'crf' in h264
    for k in ('PSNR', 'SSIM', 'sharpness ratio', 'motion ratio', 'seam ratio', 'bits per pixel'):
        assert k in tok and k in h264
    assert tok.split('windows of')[0].split(':')[-1] == h264.split('windows of')[0].split(':')[-1]  # the same windows

@pytest.mark.parametrize('args,msg', [
    (['vae_cifar'], 'is not a bundled video tokenizer'),
    (['fsq_vae_64', '--out', 'x.txt'], 'must end in .mp4 or .gif'),
    (['fsq_vae_64', '--window', '1'], '--window must be at least 2'),
    (['fsq_vae_64', '--seconds', '0'], '--seconds must be positive'),
    (['fsq_vae_64', '--video', 'nope.mp4'], 'video not found'),
])
def test_eval_tokenizer_bad_input(capsys, args, msg):
    rc, stdout, err = run(capsys, 'eval-tokenizer', *args)
    assert rc == 1 and msg in err and err.strip().count('\n') == 0

@pytest.fixture
def stream_registry(tmp_path):
    "A registry with a small random causal tokenizer 'tiny' and a clip-only tokenizer 'clips'"
    import torch
    from willie.tokenizers.causal import CausalTokenizer, CausalTokenizerConfig
    from willie.tokenizers.video_vae import VideoFSQVAE, VideoFSQVAEConfig
    from willie.train.weights import save_weights
    torch.manual_seed(0)
    save_weights(CausalTokenizer(CausalTokenizerConfig(ch=(8, 16, 16), enc_res=(0, 0, 1), dec_res=(0, 0, 1))), 'tiny',
                 weights_dir=tmp_path/'w')
    save_weights(VideoFSQVAE(VideoFSQVAEConfig(ch=(8, 16, 16))), 'clips', weights_dir=tmp_path/'w')
    return tmp_path/'w'

def test_tokenize_a_video(capsys, make_video, stream_registry, offline):
    vid = make_video('synth96.mp4', n_frames=96, cuts=(30, 60))
    args = ['tokenize', '--tokenizer', 'tiny', '--video', vid, '--block-len', 16, '--val-every', 3,
            '--variants', 'p0,flip+p1', '--weights-dir', stream_registry, '--quiet']
    rc, out, err = run(capsys, *args)
    assert rc == 0, err
    assert 'tokens per second of film' in out and 'variants  2 on train (p0, p1+flip)' in out
    from willie.tokens.store import TokenStore
    ts = TokenStore(offline/'home'/'tokens'/'synth96_64_tiny', 'tiny', stream_registry)
    assert ts.grid == (8, 8) and ts.variants == ['p0', 'p1+flip'] and ts.manifest['split']['block_len'] == 16
    assert run(capsys, *args)[0] == 0                                        # again: the store is there

@pytest.mark.parametrize('argv, msg', [
    (['--tokenizer', 'nope'], "'nope' is not a bundled tokenizer"),
    (['--tokenizer', 'clips'], 'clips cannot code whole shots as streams'),
    (['--tokenizer', 'tiny', '--variants', 'p0,mirror'], "unknown part 'mirror'"),
    (['--tokenizer', 'tiny', '--variants', 'p4'], 'has only the phases p0..p3'),
    (['--tokenizer', 'tiny', '--video', 'missing.mp4'], 'video not found'),
    (['--tokenizer', 'tiny', '--val-every', '1'], '--val-every must be at least 2')])
def test_tokenize_bad_arguments(capsys, stream_registry, offline, argv, msg):
    "Each mistake is one line, before any decoding or coding: nothing is written"
    rc, out, err = run(capsys, 'tokenize', *argv, '--weights-dir', stream_registry, '--quiet')
    assert rc == 1 and msg in err and err.count('\n') == 1, err
    assert not (offline/'home').exists()


def test_only_errors_a_user_can_fix_become_one_line(capsys, monkeypatch):
    "`main` turns the errors a user can fix into one line and status 1; a bug (a plain KeyError) keeps its traceback"
    import willie.apps.cli as cli
    from willie.train.weights import UnknownWeightsError
    def missing(args): raise UnknownWeightsError("no bundled weights named 'x'")
    monkeypatch.setattr(cli, 'cmd_info', missing)
    rc, out, err = run(capsys, 'info', 'somewhere')
    assert rc == 1 and err == "willie: error: no bundled weights named 'x'\n"
    def bug(args): return {}['no such key']
    monkeypatch.setattr(cli, 'cmd_info', bug)
    with pytest.raises(KeyError, match='no such key'): main(['info', 'somewhere'])
    def unpack(args): a, b = [1]   # a plain ValueError is a bug too: only the project's own errors are the user's
    monkeypatch.setattr(cli, 'cmd_info', unpack)
    with pytest.raises(ValueError, match='not enough values to unpack'): main(['info', 'somewhere'])
    from willie.train.weights import RecipeError, WeightsError
    for e in (RecipeError('recon.lr: expected a number'), WeightsError('x.safetensors is damaged')):
        def fixable(args, e=e): raise e
        monkeypatch.setattr(cli, 'cmd_info', fixable)
        assert run(capsys, 'info', 'somewhere')[:3:2] == (1, f"willie: error: {e}\n")


def test_eval_prior_without_a_token_store_says_how_to_make_one(capsys, offline):
    "Reading the film's tokens never builds them: eval-prior names `willie tokenize` (and `willie prepare`)"
    rc, out, err = run(capsys, 'eval-prior', 'prior_s4_64', '--quiet')
    assert rc == 1 and 'make it with `willie tokenize --tokenizer causal_s4_64`' in err and 'willie prepare' in err
    assert err.count('\n') == 1 and not (offline/'home'/'tokens').exists()
