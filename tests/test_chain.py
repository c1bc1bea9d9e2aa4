"""Every model fact flows from the tokenizer and its token store: the whole chain (clip store, tokenizer, token store,
prior, generation, decoding, the written file) with a tokenizer of another rate than the film's chain — time x2,
space x8 — on footage of another frame rate (12 fps). No 4, 8, 24 or 64 of the shipped chain may leak into it."""
import json
from dataclasses import asdict
import numpy as np, pytest, torch
from PIL import Image

from willie.tokenizers.causal import CausalTokenizer, CausalTokenizerConfig
from willie.apps.cli import main
from willie.base.core import film_store_path
from willie.data.film import FILM_FPS, ClipStore, prepare, synthetic_video
from willie.generate.sampling import SAMPLERS, Generator, drift, generate, read_prompt
from willie.priors.maskgit import maskgit_recipe
from willie.priors.transformer import PriorConfig, prior_recipe
from willie.apps.recipes import train_recipe
from willie.tokens.store import TokenStore, tokenize_film
from willie.train.weights import read_registry, save_weights

FPS = 12   # the footage's frame rate: not the film's 23.976


@pytest.fixture(scope='module')
def chain(tmp_path_factory):
    "A 32x32 store of 12 fps footage, a time x2 / space x8 tokenizer, its token store and one tiny prior per method."
    d = tmp_path_factory.mktemp('chain')
    store = prepare(synthetic_video(d/'clip12.mp4', n_frames=96, cuts=(30, 60), fps=FPS), d/'store_32', size=32,
                    progress=False)
    torch.manual_seed(0)
    cfg = CausalTokenizerConfig(ch=(8, 8, 8), enc_res=(0, 0, 0), dec_res=(0, 0, 0), levels=(3, 3, 3), patch=2,
                                time_down=(True, False))
    reg = d/'weights'
    save_weights(CausalTokenizer(cfg), 'tiny_t2', weights_dir=reg,
                 recipe=dict(arch='CausalTokenizer', model=asdict(cfg), data=dict(store='clip12', size=32)))
    tokens = tokenize_film('tiny_t2', store, ('p0', 'p1'), out=d/'tokens', block_len=16, val_every=3, weights_dir=reg,
                           progress=False)
    # the temporary registry's priors take the bundled names, so that `willie generate --weights-dir` finds them
    for name, masked in (('prior_s4_64', False), ('maskgit_s4_64', True)):
        pc = PriorConfig.from_token_shape((3, *tokens.grid), tokens.vocab_size, latent_frames=3, n_layer=1, n_head=2,
                                          n_embd=16, window=2 * tokens.grid[0] * tokens.grid[1], position='alibi+hw',
                                          mask_token=masked)
        kw = dict(tokenizer='tiny_t2', variants=('p0', 'p1'), steps=3, bs=2, warmup=0, eval_every=3, val_windows=2)
        recipe = maskgit_recipe(pc, **kw) if masked else prior_recipe(pc, **kw)
        train_recipe(recipe, store=tokens, name=name, save_to=reg, ckpt_dir=d/'runs'/name, log=lambda s: None,
                     progress=False)
    return dict(dir=d, store=store, tokens=tokens, reg=reg)


def test_the_token_store_records_the_frames_it_stands_for(chain):
    s = chain['tokens']
    assert s.frames == dict(tokenizer='tiny_t2', fps=pytest.approx(FPS), time_factor=2, space_factor=8,
                            size=32, grid=[4, 4])
    assert s.fps == pytest.approx(chain['store'].fps) and TokenStore(s.path, check=False).frames == s.frames
    assert all(json.loads((s.path/'manifest.json').read_text())['tokenizer'][k] == v
               for k, v in dict(time_factor=2, space_factor=8).items())


def test_priors_keep_those_facts_and_the_generator_reads_them(chain):
    reg = read_registry(chain['reg'])
    assert reg['prior_s4_64']['frames'] == reg['maskgit_s4_64']['frames'] == chain['tokens'].frames
    gen = Generator.load(weights_dir=chain['reg'])
    assert (gen.fps, gen.time_factor, gen.space_factor, gen.grid, gen.size) == (pytest.approx(FPS), 2, 8, (4, 4), 32)
    assert set(gen.priors) == set(SAMPLERS) and gen.ar is gen.prior('ar')
    assert gen.latent_frames_for(1) == 7 and gen.frames_for(7) == 13      # 12 frames a second, 2 frames a latent frame


@pytest.mark.parametrize('method', list(SAMPLERS))
def test_generate_and_decode_at_the_other_rate(chain, method):
    gen = Generator.load(weights_dir=chain['reg'])
    video, tokens = generate(gen, 1.0, seed=0, method=method, steps=2)
    assert tokens.shape == (1, 7, 4, 4) and video.shape == (1, 1, 13, 32, 32)
    assert torch.equal(generate(gen, 0.5, seed=0, method=method, steps=2)[1], tokens[:, :4])   # 0.5 s starts 1 s
    frame = video[:, :, -1:]                                                           # continue one frame
    v2, t2 = generate(gen, 0.5, seed=1, method=method, prompt=frame, steps=2)
    assert t2.shape[1] == 1 + gen.latent_frames_for(0.5) and v2.shape[2] == gen.frames_for(t2.shape[1])
    assert len(drift(video, gen.fps, seconds=0.5)) == 2                               # 6-frame windows at 12 fps


def test_a_prompt_file_is_read_at_the_tokenizer_frame_size(chain, tmp_path):
    Image.fromarray(np.full((40, 60), 200, np.uint8)).save(tmp_path/'still.png')
    gen = Generator.load(weights_dir=chain['reg'])
    x = read_prompt(tmp_path/'still.png', gen.size, gen.frames_for(2))
    assert x.shape == (1, 1, 1, 32, 32)
    assert generate(gen, 0.5, method='ar', prompt=x)[1].shape[1] == 1 + gen.latent_frames_for(0.5)


def test_the_command_writes_and_reports_the_other_rate(chain, tmp_path, capsys):
    out = tmp_path/'v.mp4'
    assert main(['generate', '--weights-dir', str(chain['reg']), '--seconds', '1', '--out', str(out), '--quiet']) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{out}: 13 frames of 256x256 (32x32 generated, enlarged 8x), plays 1.08 s at 12 fps;"), line
    gif = tmp_path/'v.gif'                                 # 83 ms a frame is written as 80: it plays at 12.5 fps
    assert main(['generate', '--weights-dir', str(chain['reg']), '--seconds', '1', '--out', str(gif), '--quiet']) == 0
    assert 'plays 1.04 s at 12.5 fps (made at 12 fps; GIF delays are whole 10 ms steps)' in capsys.readouterr().out
    assert main(['generate', '--weights-dir', str(chain['reg']), '--size', '128', '--out', str(tmp_path/'b.gif')]) == 1
    assert 'the upsampler takes 64x64 frames and these priors make 32x32' in capsys.readouterr().err


@pytest.mark.skipif(not (film_store_path(64)/'manifest.json').exists(),
                    reason="the film's 64x64 clip store is not here")
def test_the_films_rate_is_what_its_store_measures():
    assert ClipStore(film_store_path(64)).fps == pytest.approx(FILM_FPS, rel=1e-6)
