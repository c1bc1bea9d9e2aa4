"""`willie generate` on the bundled weights: no film, no network; the same seed gives the same file, and a shorter video
is the start of a longer one; the closing line says what the file holds; every bad argument is refused in one line
(the arguments and the prompt before any model loads, every input before the output file), and leaves no file behind."""
import subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest, torch
from PIL import Image

from willie.apps.cli import main
from willie.generate.sampling import SAMPLERS, Generator, generate
from willie.train.weights import read_registry

pytestmark = pytest.mark.skipif(not {'prior_s4_64', 'maskgit_s4_64'} <= set(read_registry()),
                                reason='the bundled priors are not in this checkout')


def gif_frames(path:Path)->int:
    with Image.open(path) as im: return im.n_frames


def read_gif(path:Path)->tuple: # (frames (T, H, W) uint8, total delay in ms)
    with Image.open(path) as im:
        frames, ms = [], 0
        for i in range(im.n_frames): im.seek(i); frames.append(np.asarray(im.convert('L'))); ms += im.info['duration']
    return np.stack(frames), ms


@pytest.mark.parametrize('method', list(SAMPLERS))
def test_generate_writes_a_reproducible_clip(tmp_path, method, monkeypatch, capsys):
    monkeypatch.setenv('WILLIE_FILM', str(tmp_path/'no-film-here.mp4'))   # needs no film
    a, b = tmp_path/'a.gif', tmp_path/'b.gif'
    for out in (a, b):
        assert main(['generate', '--seconds', '0.5', '--seed', '7', '--method', method, '--out',
                     str(out), '--quiet']) == 0
    gen = Generator.load()
    assert gif_frames(a) == gen.frames_for(gen.latent_frames_for(0.5)) == 13
    assert a.read_bytes() == b.read_bytes()                                      # same seed, same video
    c = tmp_path/'c.gif'
    assert main(['generate', '--seconds', '0.5', '--seed', '8', '--method', method, '--out', str(c), '--quiet']) == 0
    assert c.read_bytes() != a.read_bytes()                                      # another seed, another video
    frames, ms = read_gif(a)                                                   # the closing line says what was written
    line = capsys.readouterr().out.strip().splitlines()[0]
    assert line.startswith(f"{a}: {len(frames)} frames of {frames.shape[2]}x{frames.shape[1]} (64x64 generated, "
                           f"enlarged 4x), plays {ms / 1000:.2f} s at {len(frames) * 1000 / ms:.5g} fps "
                           "(made at 23.976 fps"), line
    assert (len(frames), frames.shape[1:], ms) == (13, (256, 256), 13 * 40)


@pytest.mark.parametrize('method', list(SAMPLERS))
def test_a_shorter_video_is_the_start_of_a_longer_one(tmp_path, method):
    "The seed promise across lengths: the same tokens, frames equal to float rounding (a GIF: within one grey level)"
    gen = Generator.load()
    short, t_short = generate(gen, 0.5, seed=3, method=method)
    long, t_long = generate(gen, 1.0, seed=3, method=method)
    assert t_long.shape[1] > t_short.shape[1] and torch.equal(t_long[:, :t_short.shape[1]], t_short)
    torch.testing.assert_close(long[:, :, :short.shape[2]], short, atol=1e-4, rtol=0)
    for s in ('0.5', '1'):
        assert main(['generate', '--seconds', s, '--seed', '3', '--method', method, '--out', str(tmp_path/f'{s}.gif'),
                     '--quiet']) == 0
    a, b = read_gif(tmp_path/'0.5.gif')[0], read_gif(tmp_path/'1.gif')[0]
    assert np.abs(a.astype(int) - b[:len(a)].astype(int)).max() <= 1


def test_the_closing_line_of_an_mp4(tmp_path, capsys):
    out = tmp_path/'v.mp4'
    assert main(['generate', '--seconds', '0.5', '--out', str(out), '--quiet']) == 0
    assert capsys.readouterr().out.startswith(f"{out}: 13 frames of 256x256 (64x64 generated, enlarged 4x), "
                                              "plays 0.54 s at 23.976 fps; ar at temperature "
                                              f"{SAMPLERS['ar'].temperature} steered to "
                                              f"{SAMPLERS['ar'].options['surprise']:g} bits a token, seed 0, 4 latent "
                                              "frames, ")


def test_greedy_is_not_steered(tmp_path, capsys):
    "At temperature 0 every token is the most likely one: there is no temperature to steer, and no error"
    assert main(['generate', '--seconds', '0.5', '--temperature', '0', '--out', str(tmp_path/'v.gif'), '--quiet']) == 0
    assert 'ar at temperature 0.0, seed 0' in capsys.readouterr().out


def test_ar_steers_its_temperature_by_default():
    "AR holds the surprise at its sampler's target unless told not to (`surprise=None`, `--surprise 0`)"
    gen, target = Generator.load(), SAMPLERS['ar'].options['surprise']
    default = generate(gen, 0.5, seed=5)[1]
    assert target and torch.equal(default, generate(gen, 0.5, seed=5, surprise=target)[1])
    assert not torch.equal(default, generate(gen, 0.5, seed=5, surprise=None)[1])


@pytest.mark.parametrize('method', list(SAMPLERS))
def test_the_default_temperature_is_the_methods(method):
    "No temperature given: the one measured best for the method's prior (`SAMPLERS[method].temperature`)"
    gen, own = Generator.load(), SAMPLERS[method].temperature
    default = generate(gen, 0.5, seed=5, method=method)[1]
    assert torch.equal(default, generate(gen, 0.5, seed=5, method=method, temperature=own)[1])
    assert not torch.equal(default, generate(gen, 0.5, seed=5, method=method, temperature=own + 0.3)[1])


def test_continuation_keeps_the_prompt_in_front(tmp_path):
    gen = Generator.load()
    img = torch.zeros(1, 1, 1, 64, 64); img[..., 16:48, 16:48] = 1.0            # a white square on black
    video, tokens = generate(gen, seconds=0.5, seed=0, method='maskgit', prompt=img)
    assert tokens.shape[1] == 1 + gen.latent_frames_for(0.5) and video.shape[2] == gen.frames_for(tokens.shape[1])
    first = gen.decode(gen.tokenizer.tokenize_stream(img)[None])[0, 0, 0]
    # the prompt's own reconstruction comes first
    assert torch.allclose(video[0, 0, 0], first, atol=1e-5)
    # the square survives the tokenizer
    assert video[0, 0, 0, 24:40, 24:40].mean() > video[0, 0, 0, :8, :8].mean() + 0.3


BAD = [
    (['--seconds', '0'], '--seconds must be positive'),
    (['--seconds', '-3'], '--seconds must be positive'),
    (['--seconds', '100000'], '--seconds must be at most'),
    (['--temperature', '-1'], '--temperature must be at least 0'),
    (['--top-k', '0'], '--top-k must be at least 1'),
    (['--top-p', '0'], '--top-p must be in (0, 1]'),
    (['--top-p', '1.5'], '--top-p must be in (0, 1]'),
    (['--steps', '0'], '--steps must be at least 1'),
    (['--out', 'clip.txt'], 'must end in'),
    (['--out', 'no/such/folder/clip.gif'], 'does not exist'),
    (['--prompt', 'missing.mp4'], 'prompt not found'),
    (['--prompt', 'notes.txt'], 'not a video PyAV can open'),
]


@pytest.mark.parametrize('args,message', BAD, ids=[' '.join(a) for a, _ in BAD])
def test_bad_arguments_fail_fast_in_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path/'notes.txt').write_text('not a video')
    args = args + ([] if '--out' in args else ['--out', 'clip.gif'])
    t0 = time.time()
    assert main(['generate', *args, '--quiet']) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert time.time() - t0 < 5 and not (tmp_path/'clip.gif').exists()


@pytest.mark.parametrize('prompt,message', [('missing.mp4', 'prompt not found'), ('notes.txt', 'not a video PyAV')])
def test_input_errors_come_before_output_errors(tmp_path, monkeypatch, capsys, prompt, message):
    "A bad prompt is reported even when the output exists (and would need --overwrite)"
    monkeypatch.chdir(tmp_path)
    (tmp_path/'notes.txt').write_text('not a video'); (tmp_path/'willie.gif').write_bytes(b'keep me')
    assert main(['generate', '--prompt', prompt, '--quiet']) == 1
    err = capsys.readouterr().err
    assert message in err and 'exists' not in err and (tmp_path/'willie.gif').read_bytes() == b'keep me'


def test_existing_output_needs_overwrite(tmp_path, capsys):
    out = tmp_path/'clip.gif'; out.write_bytes(b'keep me')
    assert main(['generate', '--seconds', '0.5', '--out', str(out), '--quiet']) != 0
    assert 'exists' in capsys.readouterr().err and out.read_bytes() == b'keep me'
    assert main(['generate', '--seconds', '0.5', '--out', str(out), '--overwrite', '--quiet']) == 0
    assert gif_frames(out) == 13


@pytest.mark.parametrize('args', [['--method', 'diffusion'], ['--seconds', 'two'], ['--size', '100']])
def test_argparse_choices_are_one_line_usage_errors(args):
    r = subprocess.run([sys.executable, '-c', 'import sys; from willie.apps.cli import main; sys.exit(main())',
                        'generate', *args],
                       capture_output=True, text=True)
    assert (r.returncode == 2 and 'invalid' in r.stderr and len(r.stderr.strip().splitlines()) == 1
            and 'Traceback' not in r.stderr)

def test_no_progress_bars_into_a_pipe(tmp_path):
    "Run with its output going to a pipe or a log, `willie generate` prints its closing line and no bar updates"
    r = subprocess.run([sys.executable, '-c', 'import sys; from willie.apps.cli import main; sys.exit(main())',
                        'generate', '--seconds', '0.2', '--out', str(tmp_path/'x.gif')],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert ('\r' not in r.stdout + r.stderr and '█' not in r.stdout
            and r.stdout.strip().startswith(str(tmp_path/'x.gif')))
