"""The upsampler: windows of frames, a model that starts as bicubic, stores paired frame for frame, a short training
run on synthetic stores that saves and reloads, an evaluation that sees flicker, and the `upsample` API a generator
calls. The film's stores are checked only where they are already prepared (skipped otherwise)."""
from dataclasses import replace
import numpy as np, pytest, torch

from willie.data.film import film_store_path, prepare, resize_frames, synthetic_video, ClipStore
from willie.eval.metrics import psnr
from willie.generate.upsample import (RECIPES, PairedClips, PatchAugment, Upsampler, UpsamplerConfig, bicubic,
                                      bicubic_upscale, check_paired, evaluate_upsampler, frame_windows, line_art,
                                      pairing_psnr, sr_augment, sr_loss, train_upsampler, upsample, upsampler_data,
                                      upsampler_recipe)
from willie.train.weights import WEIGHTS_DIR, load_weights, read_registry


@pytest.fixture(scope='module')
def stores(tmp_path_factory):
    "One synthetic video prepared at 16², 32² and 64² (a small stand-in for the film's 64/128/256 stores)"
    d = tmp_path_factory.mktemp('sr_stores')
    vid = synthetic_video(d/'synth.mp4', n_frames=96, cuts=(30, 60))
    return [prepare(vid, d/f'store_{s}', size=s, progress=False) for s in (16, 32, 64)]


def lowres_line_art(n_frames=8, seed=1):
    art = line_art(n_frames, 256, seed=seed)
    to = lambda a: torch.from_numpy(a).float()[None, None] / 127.5 - 1
    return to(resize_frames(art, 64)), to(art)


def test_frame_windows_repeat_the_ends():
    v = torch.arange(3.).view(1, 1, 3, 1, 1)
    assert frame_windows(v, 3)[:, :, 0, 0].tolist() == [[0, 0, 1], [0, 1, 2], [1, 2, 2]]
    with pytest.raises(ValueError, match='odd'): frame_windows(v, 2)
    with pytest.raises(ValueError, match=r'\(B, 1, T, h, w\)'): frame_windows(v[0], 3)


@pytest.mark.parametrize('window', [1, 5])
def test_untrained_model_is_bicubic(window):
    x = torch.rand(2, 1, 6, 16, 16) * 2 - 1
    m = Upsampler(UpsamplerConfig(window=window, ch=8, n_res=1))
    out = m.upscale(x)
    for s in (2, 4):
        assert out[s].shape == (2, 1, 6, 16 * s, 16 * s)
        assert (out[s] - bicubic(x, s).clamp(-1, 1)).abs().max() < 1e-6
    with pytest.raises(ValueError, match='odd'): Upsampler(UpsamplerConfig(window=2))


def test_stores_pair_frame_for_frame(stores, tmp_path):
    p = pairing_psnr(stores[0], stores[2])
    assert max(p, key=p.get) == 0 and p[0] > p[1] + 6, p
    pairs = PairedClips(stores, 5, 'all')
    assert ([tuple(v.shape) for v in pairs[3]] == [(1, 5, 16, 16), (1, 5, 32, 32), (1, 5, 64, 64)]
            and pairs.scales == (2, 4))
    other = prepare(synthetic_video(tmp_path/'o.mp4', n_frames=90, seed=1), tmp_path/'o_32', size=32, progress=False)
    with pytest.raises(ValueError, match='n_frames'): check_paired(stores[0], other)
    with pytest.raises(ValueError, match='not a multiple'): check_paired(stores[1], stores[0])


def test_patches_are_aligned_across_sizes(stores):
    batch = torch.utils.data.default_collate([PairedClips(stores, 5, 'all')[i] for i in range(8)])
    lr, y2, y4 = sr_augment(8, flip=1.0, reverse=1.0)(batch, torch.Generator().manual_seed(1))
    assert (lr.shape, y2.shape, y4.shape) == ((8, 5, 8, 8), (8, 1, 16, 16), (8, 1, 32, 32))
    mid = lr[:, 2:3]  # the reversed window has the same middle frame
    shrunk = torch.nn.functional.interpolate(y4, size=(8, 8), mode='bilinear', antialias=True)
    assert (shrunk - mid).abs().mean() < (shrunk - mid.flip(-1)).abs().mean() / 2, \
        'the targets are not the flipped patches'


def test_flicker_is_seen(stores):
    data = PairedClips(stores, 8, 'all', stride=8)
    g = torch.Generator().manual_seed(0)
    shimmer = lambda v, scales: {s: (y + 0.1 * torch.randn(y.shape, generator=g)).clamp(-1, 1)
                                 for s, y in bicubic_upscale(v, scales).items()}
    res = evaluate_upsampler({'bicubic': bicubic_upscale, 'shimmer': shimmer}, data, progress=False)
    for s in (2, 4):
        assert res['shimmer', s]['flicker'] > 2 * res['bicubic', s]['flicker'] > 0
    lr, _, hr4 = (torch.stack(v) for v in zip(*[data[i] for i in range(len(data))]))
    direct = psnr(hr4, bicubic(lr, 4).clamp(-1, 1), reduction='none').mean().item()
    assert res['bicubic', 4]['psnr'] == pytest.approx(direct, abs=1e-4) and res['bicubic', 4]['frames'] == len(data) * 8


def test_training_saves_its_recipe_and_reloads(stores, tmp_path):
    recipe = upsampler_recipe(UpsamplerConfig(window=3, ch=8, n_res=1), steps=30, lr=5e-3, bs=8)
    recipe = replace(recipe, data=replace(recipe.data, clip_len=3, n_eval=8, block_len=16, val_every=3,
                                          augment=PatchAugment(patch=8, flip=0.5, reverse=0.5)),
                     train=replace(recipe.train, eval_every=10))
    train, val = upsampler_data(recipe, stores)
    lines = []
    model, metrics = train_upsampler(recipe, train, val, name='sr_smoke', save_to=tmp_path, ckpt_dir=tmp_path/'ckpt',
                                     log=lines.append)
    assert metrics['steps'] == 30 and len(lines) >= 3 and \
        {'val_subset_psnr_x2', 'val_subset_psnr_x4', 'val_subset_bicubic_psnr_x4', 'cpu_seconds'} <= set(metrics)
    e = read_registry(tmp_path)['sr_smoke']
    assert e['recipe'] == recipe.to_dict() and e['arch'] == 'Upsampler' and e['config'] == recipe.to_dict()['model']
    again = load_weights('sr_smoke', weights_dir=tmp_path)
    x = val[0][0][None]
    assert (again.upscale(x)[4] - model.upscale(x)[4]).abs().max() < 2e-3  # stored in fp16


def test_training_improves_on_bicubic():
    """From bicubic (the zero-initialised heads), 40 small steps on synthetic line art lower the loss on a fixed batch
    by a fifth"""
    to = lambda a: torch.from_numpy(a).float()[None] / 127.5 - 1
    arts = [line_art(9, 128, seed=seed) for seed in range(4)]
    sizes = [torch.stack([to(resize_frames(a, s))[:, t:t + 5] for a in arts for t in range(5)]) for s in (32, 64, 128)]
    aug = sr_augment(16)
    def batch(step, n=8):
        g = torch.Generator().manual_seed(step)
        idx = torch.randint(len(sizes[0]), (n,), generator=g)
        return aug(tuple(v[idx] for v in sizes), g)
    fixed = batch(10_000, 32)
    torch.manual_seed(0)
    m = Upsampler(UpsamplerConfig(window=5, ch=16, n_res=1))
    with torch.no_grad(): before = sr_loss(m, fixed)[0].item()
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    for step in range(40):
        loss, _ = sr_loss(m, batch(step))
        opt.zero_grad(); loss.backward(); opt.step()
    with torch.no_grad(): after = sr_loss(m, fixed)[0].item()
    assert after < 0.8 * before, (before, after)


def test_upsample_api_checks_its_input():
    x = torch.zeros(1, 1, 2, 64, 64)
    assert upsample(x, 64) is x
    with pytest.raises(ValueError, match=r'one of \(64, 128, 256\)'): upsample(x, 512)
    with pytest.raises(ValueError, match=r'\(B, 1, T, 64, 64\)'): upsample(torch.zeros(1, 1, 2, 32, 32), 128)
    with pytest.raises(ValueError, match=r'\(B, 1, T, 64, 64\)'): upsample(torch.zeros(1, 2, 64, 64), 128)


@pytest.mark.skipif('upsample_64_256' not in read_registry(),
                    reason='no bundled upsampler weights yet (train them in nbs/12_upsample.ipynb)')
def test_bundled_upsampler_beats_bicubic_on_unseen_line_art():
    "Trained on the film only, the bundled model still does better than bicubic on a synthetic cartoon, at both sizes"
    lr, real = lowres_line_art()
    real2 = torch.from_numpy(resize_frames(line_art(8, 256, seed=1), 128)).float()[None, None] / 127.5 - 1
    for size, ref in ((128, real2), (256, real)):
        out = upsample(lr, size)
        assert out.shape == (1, 1, 8, size, size) and out.min() >= -1 and out.max() <= 1
        assert psnr(ref, out) > psnr(ref, bicubic(lr, size // 64).clamp(-1, 1)) + 0.5
    for name in ('upsample_64_256', 'upsample_64_256_frame'):
        e = read_registry()[name]
        assert e['recipe'] == RECIPES[name].to_dict() and (WEIGHTS_DIR/e['file']).stat().st_size < 5e6


@pytest.mark.skipif(not all((film_store_path(s)/'manifest.json').exists() for s in (64, 128, 256)),
                    reason="the film's 64², 128² and 256² stores are not prepared here (`willie prepare --download "
                           "--size 128` and `--size 256`)")
def test_film_stores_pair_frame_for_frame():
    lr, *hrs = [ClipStore(film_store_path(s)) for s in (64, 128, 256)]
    for hr in hrs:
        check_paired(lr, hr)
        p = pairing_psnr(lr, hr, n=32)
        assert max(p, key=p.get) == 0, p
