"Fast tests of willie.eval.metrics: PSNR definition, SSIM parity with scikit-image, bits per pixel, evaluate_tokenizer."
import math
import numpy as np, pytest, torch, torch.nn.functional as F
from willie.eval.metrics import (psnr, ssim, ssim_map, gaussian_window, bits_per_token, bits_per_pixel,
                                 evaluate_tokenizer, Tokenizer)

skm = pytest.importorskip('skimage.metrics')

def sk(a, b, data_range):
    kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=data_range)
    if a.ndim == 3: kw['channel_axis'] = 0
    return skm.structural_similarity(a, b, **kw)

def test_psnr_per_clip_then_mean():
    x = torch.zeros(2, 1, 4, 8, 8); y = x.clone(); y[0] += 0.1; y[1, :, 0] += 0.4  # clip 1: one frame wrong
    per = psnr(x, y, reduction='none')
    assert torch.allclose(per, torch.tensor([10*math.log10(4/0.01), 10*math.log10(4/(0.16/4))]), atol=1e-4)
    assert math.isclose(psnr(x, y).item(), per.mean().item(), rel_tol=1e-6)
    assert psnr(x, x).item() == float('inf')
    u = torch.randint(0, 256, (2, 9, 9)); v = (u + 3).clamp(0, 255)
    assert math.isclose(psnr(u, v, data_range=255).item(), psnr(u/127.5-1, v/127.5-1).item(), rel_tol=1e-5)
    with pytest.raises(ValueError): psnr(x, y[:1])

def test_gaussian_window():
    w = gaussian_window(11, 1.5)
    assert len(w) == 11 and math.isclose(w.sum().item(), 1, rel_tol=1e-12) and torch.allclose(w, w.flip(0))

@pytest.mark.parametrize('seed', [0, 1])
def test_ssim_parity_random(seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(3, 1, 24, 30, generator=g) * 2 - 1
    b = (a + 0.4 * torch.randn(a.shape, generator=g)).clamp(-1, 1)
    ref = [sk(((a[i, 0].double() + 1) / 2).numpy(), ((b[i, 0].double() + 1) / 2).numpy(), 1.) for i in range(3)]
    assert torch.allclose(ssim(a, b, reduction='none').double(), torch.tensor(ref), atol=1e-4)

def test_ssim_parity_structured_uint8_and_channels():
    yy, xx = torch.meshgrid(torch.arange(32), torch.arange(32), indexing='ij')
    img = ((torch.sin(xx / 3.) * torch.cos(yy / 5.) + 1) * 127.5).round()[None, None]  # smooth structure in [0, 255]
    rec = F.avg_pool2d(F.pad(img, (1, 1, 1, 1), mode='replicate'), 3, 1).round()
    ref = sk(img[0, 0].numpy(), rec[0, 0].numpy(), 255.)
    assert abs(ssim(img, rec, data_range=255., vmin=0.).item() - ref) < 1e-4
    assert abs(ssim(img / 127.5 - 1, rec / 127.5 - 1).item() - ref) < 1e-4  # [-1, 1] tensors score as their pixels
    g = torch.Generator().manual_seed(2)
    c1, c2 = torch.rand(1, 3, 20, 20, generator=g), torch.rand(1, 3, 20, 20, generator=g)
    assert abs(ssim(c1, c2, data_range=1., vmin=0.).item()
               - sk(c1[0].double().numpy(), c2[0].double().numpy(), 1.)) < 1e-4

def test_ssim_video_is_mean_of_frames():
    g = torch.Generator().manual_seed(3)
    v = torch.rand(2, 1, 3, 16, 16, generator=g) * 2 - 1; w = (v + 0.2 * torch.randn(v.shape, generator=g)).clamp(-1, 1)
    per = ssim(v, w, reduction='none')
    frames = torch.stack([torch.stack([ssim(v[i:i+1, :, t], w[i:i+1, :, t]) for t in range(3)]).mean()
                          for i in range(2)])
    assert torch.allclose(per, frames, atol=1e-6)
    assert torch.allclose(ssim(v, v, reduction='none'), torch.ones(2))
    with pytest.raises(ValueError): ssim(v[..., :8, :8], w[..., :8, :8])

def test_bits():
    assert math.isclose(bits_per_pixel(256, bits_per_token(1024), (16, 64, 64)), 2560 / 65536)
    assert bits_per_token(1) == 0

class PoolTokenizer(torch.nn.Module):
    def __init__(self, codebook_size=16): super().__init__(); self.codebook_size = codebook_size
    def tokenize(self, x): return ((F.avg_pool3d(x, 4)[:, 0] + 1) / 2 * (self.codebook_size - 1)).round().long()
    def detokenize(self, idx):
        return F.interpolate((idx.float() / (self.codebook_size - 1) * 2 - 1)[:, None], scale_factor=4)
    def token_shape(self, clip_shape): return tuple(s // 4 for s in clip_shape)

def test_evaluate_tokenizer():
    g = torch.Generator().manual_seed(4)
    ds = torch.utils.data.TensorDataset(torch.rand(5, 1, 8, 16, 16, generator=g) * 2 - 1)
    tok = PoolTokenizer(); assert isinstance(tok, Tokenizer)
    r = evaluate_tokenizer(tok, ds, bs=2, progress=False)
    x = ds.tensors[0]; xh = tok.detokenize(tok.tokenize(x)).clamp(-1, 1)
    assert r['n_clips'] == 5 and r['tokens_per_clip'] == 2 * 4 * 4 and r['token_shape'] == (2, 4, 4)
    assert (math.isclose(r['psnr'], psnr(x, xh).item(), rel_tol=1e-5)
            and math.isclose(r['ssim'], ssim(x, xh).item(), rel_tol=1e-5))
    assert math.isclose(r['bpp'], 32 * 4 / (8 * 16 * 16))
    assert 0 < r['code_use'] <= 1 and 1 <= r['perplexity'] <= 16
    r2 = evaluate_tokenizer(tok, torch.utils.data.DataLoader(ds, batch_size=3), max_clips=4, progress=False)
    assert r2['n_clips'] == 4
    with pytest.raises(TypeError): evaluate_tokenizer(torch.nn.Linear(2, 2), ds, progress=False)

def test_bench_h264_helpers():
    """bench/rate_distortion.py: Annex-B parsing, bit counting without SEI/start codes, round trip, log-bpp
    interpolation."""
    import importlib.util, pathlib
    pytest.importorskip('av')
    spec = importlib.util.spec_from_file_location('rate_distortion',
                                                  pathlib.Path(__file__).parents[1]/'bench'/'rate_distortion.py')
    rd = importlib.util.module_from_spec(spec); spec.loader.exec_module(rd)
    assert (rd.nal_units(b'\x00\x00\x00\x01\x67ab\x00\x00\x01\x68c\x00\x00\x00\x01\x06xyz')
            == [b'\x67ab', b'\x68c', b'\x06xyz'])
    yy, xx = np.mgrid[:32, :32]
    frames = np.stack([((np.sin((xx + 2*t) / 5) * np.cos(yy / 7) + 1) * 127.5).astype(np.uint8) for t in range(16)])
    dec, bits, raw = rd.h264_roundtrip(frames, crf=20, preset='ultrafast')
    assert dec.shape == frames.shape and dec.dtype == np.uint8 and 0 < bits < raw
    assert psnr(rd.to_clips(frames), rd.to_clips(dec)).item() > 30
    curve = [dict(bpp=.02, psnr=20.), dict(bpp=.08, psnr=28.)]
    assert rd.interp_logbpp(curve, .04) == (pytest.approx(24.), False) and rd.interp_logbpp(curve, .16)[1]

def test_jod_pins_a_tiny_case():
    """ColorVideoVDP through `jod`: identical clips score 10 (indistinguishable), noise lowers it, more noise lowers it
    more"""
    pytest.importorskip('pycvvdp', reason='ColorVideoVDP is not installed (bash scripts/install_cvvdp.sh)')
    from willie.eval.metrics import jod
    g = torch.Generator().manual_seed(0)
    x = torch.nn.functional.avg_pool3d(torch.rand(2, 1, 16, 64, 64, generator=g) * 2 - 1, (1, 5, 5), 1, (0, 2, 2))
    noisy = lambda s: (x + s * torch.randn(x.shape, generator=g)).clamp(-1, 1)
    fps = 23.976   # the film's
    same, a, b = jod(x, x, fps), jod(noisy(0.05), x, fps), jod(noisy(0.2), x, fps)
    assert torch.allclose(same, torch.full((2,), 10.0)) and (a < 10).all() and (b < a - 1).all()
    with pytest.raises(ValueError, match='one shape'): jod(x[:, :, :8], x, fps)
