"""Fast tests of willie.eval.judges (H.264 at a rate, over footage; the classifier two-sample test) and of the scoring
it shares with evaluate_tokenizer."""
import math
import numpy as np, pytest, torch, torch.nn.functional as F
from willie.eval.metrics import Distortion, Footage, evaluate_tokenizer, psnr, reconstruct_stretch, score_footage
from willie.base.core import to_uint8
from willie.eval.judges import (ClipCritic, h264_at_rate, h264_footage, h264_roundtrip, nal_units, two_sample_split,
                                two_sample_test)


def drifting(n:int=1, t:int=32, size:int=32, seed:int=0)->torch.Tensor:
    """(n, 1, t, size, size) in [-1, 1], values on the uint8 grid: soft stripes drifting right, a bright square drifting
    down"""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size).float(), torch.arange(size).float(), indexing='ij')
    out = []
    for _ in range(n):
        ph, v = torch.rand(1, generator=g).item() * 6, 0.5 + torch.rand(1, generator=g).item()
        fr = [0.6 * torch.sin((xx + v * k) / 3 + ph) * torch.cos(yy / 5) for k in range(t)]
        for k, f in enumerate(fr): f[(yy - 4 - k // 2).abs().lt(3) & (xx - size // 2).abs().lt(3)] = 0.9
        out.append(torch.stack(fr)[None])
    return (((torch.stack(out) + 1) * 127.5).round() / 127.5 - 1)


class PoolTokenizer(torch.nn.Module):
    codebook_size = 16
    def tokenize(self, x): return ((F.avg_pool3d(x, 4)[:, 0] + 1) / 2 * 15).round().long().clamp(0, 15)
    def detokenize(self, idx): return F.interpolate(idx.float()[:, None] / 15 * 2 - 1, scale_factor=4, mode='nearest')
    def token_shape(self, clip_shape): return tuple(s // 4 for s in clip_shape)


def test_nal_units():
    assert (nal_units(b'\x00\x00\x00\x01\x67ab\x00\x00\x01\x68c\x00\x00\x00\x01\x06xyz')
            == [b'\x67ab', b'\x68c', b'\x06xyz'])
    assert nal_units(b'') == []


def test_h264_roundtrip_and_rate():
    frames = to_uint8(drifting(t=24)[0, 0]).numpy()
    assert frames.dtype == np.uint8 and frames.shape == (24, 32, 32)
    dec, bits, raw = h264_roundtrip(frames, 20, preset='ultrafast')
    assert dec.shape == frames.shape and 0 < bits < raw
    assert psnr(torch.from_numpy(frames)[None].float(), torch.from_numpy(dec)[None].float(), data_range=255).item() > 30
    with pytest.raises(ValueError, match='even frame sides'): h264_roundtrip(frames[:, :, :31], 20)
    hi = h264_roundtrip(frames, 20, preset='ultrafast')[1] / frames.size
    target = hi * 0.6
    r = h264_at_rate(frames, target, preset='ultrafast', tol=0.05)
    assert (abs(r['bpp'] / target - 1) <= 0.05 and r['crf'] > 20 and r['decoded'].shape == frames.shape
            and r['tries'] <= 10)
    assert h264_at_rate(frames, 1e-5, preset='ultrafast', max_iter=4)['crf'] == 51  # out of reach: the fewest bits


def test_h264_footage_is_scored_like_a_tokenizer():
    x = drifting(2, t=40, size=64, seed=1)
    feet = Footage([x[:1], x[1:, :, :36]])
    tok = evaluate_tokenizer(PoolTokenizer(), feet, progress=False)
    orig, rec, info = h264_footage(feet, tok['bpp'], preset='ultrafast', tol=0.05)
    assert [o.shape[2] for o in orig] == [32, 32]  # cut to whole 16-frame windows, the frames the tokenizer coded
    assert torch.equal(orig[0], reconstruct_stretch(PoolTokenizer(), feet[0])[0])
    h = score_footage(orig, rec, bits=info['bits'])
    assert (abs(h['bpp'] / tok['bpp'] - 1) <= 0.05 and h['n_clips'] == tok['n_clips'] == 4
            and h['frames'] == tok['frames'])
    assert {'psnr', 'ssim', 'sharpness', 'motion', 'seams', 'seams_original'} <= set(h)
    assert h['seams_original'] == pytest.approx(tok['seams_original'])  # the same originals
    assert [o.shape[2] for o in h264_footage(feet, 0.2, window=None, preset='ultrafast')[0]] == [40, 36]


def test_score_footage_is_evaluate_tokenizers_scoring():
    feet = Footage([drifting(t=40, seed=2), drifting(t=48, seed=3)])
    r = evaluate_tokenizer(PoolTokenizer(), feet, progress=False)
    coded = [reconstruct_stretch(PoolTokenizer(), v) for v in feet]
    s = score_footage(Footage(c[0] for c in coded), Footage(c[1] for c in coded),
                      bits=sum(c[2].numel() for c in coded) * 4)
    for k in ('psnr', 'ssim', 'sharpness', 'motion', 'seams', 'seams_original', 'bpp', 'n_clips', 'frames'):
        assert s[k] == pytest.approx(r[k], rel=1e-6), k
    assert s['psnr_per_clip'] == pytest.approx(r['psnr_per_clip'])
    with pytest.raises(ValueError, match='2 original stretches but 1'): score_footage(feet, feet[:1])


def test_distortion_clips_and_footage():
    x = drifting(t=32)
    d = Distortion(16).update(x, x, footage=True).result()
    assert d['n_clips'] == 2 and d['psnr'] == float('inf') and d['sharpness'] == 1 and d['seams'] == d['seams_original']
    c = Distortion().update(x[:, :, :16], x[:, :, :16].flip(-1)).result()
    assert c['n_clips'] == 1 and 'seams' not in c and 'frames' not in c
    with pytest.raises(ValueError): Distortion(16).update(x[:, :, :8], x[:, :, :8], footage=True)


def test_two_sample_split():
    m = two_sample_split(40, blocks=8, seed=3)
    assert m.sum() == 20 and torch.equal(m, two_sample_split(40, blocks=8, seed=3))
    assert all(b.all() or not b.any() for b in m.view(8, 5))  # whole contiguous blocks
    g = torch.arange(10) // 2
    mg = two_sample_split(10, groups=g, seed=1)
    assert all(mg[g == k].all() or not mg[g == k].any() for k in range(5))
    with pytest.raises(ValueError, match='group labels'): two_sample_split(10, groups=[0, 1])


def test_two_sample_test():
    real = drifting(24, t=8, size=16, seed=4)
    blurred = F.avg_pool3d(F.pad(real, (1, 1, 1, 1, 0, 0), mode='replicate'), (1, 3, 3), stride=1)
    state = torch.get_rng_state()
    same = two_sample_test(real, real, steps=30, bs=8, blocks=6)
    assert torch.equal(state, torch.get_rng_state())  # the caller's random state is left alone
    assert same['accuracy'] == 0.5 and same['n_test'] == 24 and same['n_train'] == 24  # paired twins: exactly chance
    lo, hi = same['ci95']; assert lo < 0.5 < hi and same['stderr'] == pytest.approx(math.sqrt(0.25 / 24))
    r = two_sample_test(real, blurred, steps=60, bs=8, blocks=6)
    assert r['accuracy'] > 0.85 and r['p_value'] < 1e-3
    assert two_sample_test(real, blurred, steps=60, bs=8, blocks=6)['accuracy'] == r['accuracy']  # deterministic
    assert ClipCritic()(real[:2]).shape == (2,)
    with pytest.raises(ValueError, match='windows differ'): two_sample_test(real, blurred[:, :, :4])
