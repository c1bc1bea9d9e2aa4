"Helpers of bench/eval_samples.py and bench/bench_generate.py, on tiny models (no film, no trained weights)."
import importlib.util, pathlib
import numpy as np, pytest, torch
from scipy import stats

from willie.priors.transformer import Prior, PriorConfig


def bench(name):
    spec = importlib.util.spec_from_file_location(name, pathlib.Path(__file__).parents[1]/'bench'/f'{name}.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

E, G = bench('eval_samples'), bench('bench_generate')


def test_mann_whitney_z_matches_scipy():
    rng = np.random.default_rng(0)
    x, ref = rng.normal(0.8, 1, 40).round(1), rng.normal(0, 1, 50).round(1)   # rounded: ties
    r = stats.mannwhitneyu(x, ref, method='asymptotic', use_continuity=False)
    z = E.mann_whitney_z(x, ref)
    assert z > 0 and 2 * stats.norm.sf(abs(z)) == pytest.approx(r.pvalue, rel=1e-6)
    assert E.mann_whitney_z(ref, x) == pytest.approx(-z)


def test_frechet():
    f = np.random.default_rng(0).normal(size=(200, 4))
    assert E.frechet(f, f) == pytest.approx(0, abs=1e-6)
    assert E.frechet(f, f + np.array([3., 0, 0, 0])) == pytest.approx(9, rel=1e-6)   # a shift of the mean: |d|^2


def test_frechet_ci_brackets_the_distance_and_narrows_with_more_clips():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(400, 4))
    width = {}
    for n in (40, 400):
        f = rng.normal(size=(n, 4)) + np.array([1., 0, 0, 0])
        lo, hi = E.frechet_ci(ref, f)
        assert lo < E.frechet(ref, f) < hi
        width[n] = hi - lo
    assert width[400] < width[40] / 2


def test_encoder_features_shape():
    class Enc:
        def encode(self, x): return torch.randn(len(x), 5, 5, 8, 8)
    assert E.encoder_features(Enc(), torch.zeros(3, 1, 17, 64, 64)).shape == (3, 20)


def tiny_models():
    torch.manual_seed(0)
    cfg = dict(vocab_size=16, n_layer=1, n_head=2, n_embd=16, context=32, window=16, grid=(2, 2), position='alibi+hw')
    return {'ar': Prior(PriorConfig(**cfg)).eval(), 'maskgit': Prior(PriorConfig(**cfg, mask_token=True)).eval()}


def test_sample_shapes_and_cache_agrees_within_the_window():
    m = tiny_models()
    g = lambda: torch.Generator().manual_seed(3)
    for kw in (dict(method='ar'), dict(method='ar', use_cache=False), dict(method='maskgit', steps=4)):
        assert G.sample_tokens(m, latent=3, batch=2, g=g(), **kw).shape == (2, 3, 2, 2)
    # 2 latent frames + 2 of burn-in = 16 tokens: inside the 16-token window an exact (float32) cache must not change
    # the samples (the default bfloat16 cache rounds the attention)
    exact = G.sample_tokens(m, 'ar', 2, 2, g(), cache_dtype=None)
    assert torch.equal(exact, G.sample_tokens(m, 'ar', 2, 2, g(), use_cache=False))
