"""willie.layers.attention: ALiBi slopes and masks, every backend against the naive reference (forward and, where the
backend has one here, backward), the blocked sliding window, the KV cache, FlashAttention's conventions, and argument
errors."""
import math
import pytest, torch
from willie.layers.attention import (attention, alibi_slopes, alibi_bias, alibi3d_bias, attn_mask, raster_coords,
                                     backends, flash_status, flex_backward_ok, windowed_sdpa, naive_attention, KVCache)

def paper_slopes(n):
    "The ALiBi paper's reference code (recursive form)."
    def p2(n):
        start = 2 ** (-2 ** -(math.log2(n) - 3))
        return [start * start ** i for i in range(n)]
    if math.log2(n).is_integer(): return p2(n)
    c = 2 ** math.floor(math.log2(n))
    return p2(c) + paper_slopes(2 * c)[0::2][:n - c]

@pytest.mark.parametrize('n', list(range(1, 25)) + [32, 48, 64])
def test_slopes_match_paper(n):
    torch.testing.assert_close(alibi_slopes(n), torch.tensor(paper_slopes(n)), rtol=1e-6, atol=0)
    assert (alibi_slopes(n) > 0).all() and alibi_slopes(n).dtype == torch.float32

def test_bias_window_and_causal():
    b = alibi_bias(alibi_slopes(4), torch.arange(10), torch.arange(10), window=3)
    allowed = b[0, 0] > float('-inf')
    i, j = torch.meshgrid(torch.arange(10), torch.arange(10), indexing='ij')
    assert torch.equal(allowed, (j <= i) & (i - j < 3))               # i-W < j <= i
    torch.testing.assert_close(b[0, :, 5, 4], -alibi_slopes(4))          # one step back costs one slope

def flash_rule(slopes, L, S, window, causal):
    "flash_attn_func's documented bias: -slope*|i + S - L - j|, keys within window_size=(W-1, 0 or W-1)."
    left, right = (-1, -1) if window is None else (window - 1, 0 if causal else window - 1)
    out = torch.full((1, len(slopes), L, S), float('-inf'))
    for i in range(L):
        for j in range(S):
            c = i + S - L
            if causal and j > c: continue
            if left >= 0 and (j < c - left or j > c + right): continue
            out[0, :, i, j] = -slopes * abs(c - j)
    return out

@pytest.mark.parametrize('L,S,window,causal', [(8, 8, None, True), (8, 8, 3, True), (3, 11, 4, True), (1, 9, 9, True),
                                               (7, 7, None, False), (7, 7, 2, False)])
def test_mask_is_flash_attention_bias(L, S, window, causal):
    torch.testing.assert_close(attn_mask(alibi_slopes(5), L, S, causal, window),
                               flash_rule(alibi_slopes(5), L, S, window, causal))

CASES = [(4, True, None, 50, 50), (6, True, 4, 50, 50), (6, True, 8, 300, 300), (3, True, 8, 20, 70),
         (5, False, None, 50, 50), (6, False, 5, 40, 40), (12, True, 16, 64, 64)]

def _qkv(H, L, S, device='cpu', seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, H, n, 16, generator=g).to(device).requires_grad_() for n in (L, S, S)]

def _check_backend(backend, H, causal, window, L, S, device='cpu', grad=True, atol=1e-4):
    q, k, v = _qkv(H, L, S, device)
    kw = dict(slopes=alibi_slopes(H), window=window, causal=causal)
    ref = attention(q, k, v, backend='naive', **kw)
    with torch.set_grad_enabled(grad): out = attention(q, k, v, backend=backend, **kw)
    torch.testing.assert_close(out.float(), ref.float(), atol=atol, rtol=0)
    if grad:
        g_ref = torch.autograd.grad(ref.square().sum(), (q, k, v))
        g = torch.autograd.grad(out.float().square().sum(), (q, k, v))
        for a, b in zip(g, g_ref): torch.testing.assert_close(a.float(), b.float(), atol=10 * atol, rtol=0)

@pytest.mark.parametrize('H,causal,window,L,S', CASES)
def test_sdpa_matches_reference(H, causal, window, L, S): _check_backend('sdpa', H, causal, window, L, S)

@pytest.mark.parametrize('H,causal,window,L,S', CASES)
def test_flex_matches_reference(H, causal, window, L, S):
    _check_backend('flex', H, causal, window, L, S, grad=flex_backward_ok('cpu'))

def test_flex_backward_on_cpu_says_so():
    if flex_backward_ok('cpu'): pytest.skip('this torch has a FlexAttention backward on CPU')
    q, k, v = _qkv(2, 8, 8)
    with pytest.raises(NotImplementedError, match="no backward on cpu.*backend='sdpa'"):
        attention(q, k, v, backend='flex')
    assert backends()['flex'].startswith('forward only')

@pytest.mark.parametrize('chunk', [1, 5, 16, 33, 128])
@pytest.mark.parametrize('L,S', [(100, 100), (37, 100)])
def test_blocked_window_matches_reference(chunk, L, S):
    q, k, v = _qkv(6, L, S)
    sl = alibi_slopes(6)
    out = windowed_sdpa(q, k, v, sl, 16, 0.25, chunk)
    ref = naive_attention(q, k, v, attn_mask(sl, L, S, True, 16), 0.25)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)
    g = torch.autograd.grad(out.square().sum(), (q, k, v)); g_ref = torch.autograd.grad(ref.square().sum(), (q, k, v))
    for a, b in zip(g, g_ref): torch.testing.assert_close(a, b, atol=1e-4, rtol=0)

def test_explicit_bias_3d():
    pos = torch.arange(3 * 4 * 4)
    bias = alibi3d_bias(alibi_slopes(4), pos, pos, (4, 4), time_weight=2.)
    q = 16 + 4 + 1
    assert raster_coords(torch.tensor([q]), (4, 4)).tolist() == [[1, 1, 1]]
    torch.testing.assert_close(bias[0, :, q, q - 16], -2 * alibi_slopes(4))       # one frame back, same place
    torch.testing.assert_close(bias[0, :, q, q - 4], -alibi_slopes(4))            # one row up
    q_, k_, v_ = _qkv(4, 48, 48)
    torch.testing.assert_close(attention(q_, k_, v_, bias=bias, backend='sdpa'),
                               attention(q_, k_, v_, bias=bias, backend='naive'), atol=1e-5, rtol=0)

@pytest.mark.parametrize('backend', ['sdpa', 'naive', 'flex'])
@pytest.mark.parametrize('window', [None, 1, 5, 16])
@pytest.mark.parametrize('steps', [[1] * 50, [7, 1, 1, 13, 28], [50]])
def test_kv_cache_decode_equals_full(backend, window, steps):
    q, k, v = (x.detach() for x in _qkv(6, 50, 50))
    sl = alibi_slopes(6)
    full = attention(q, k, v, slopes=sl, window=window, backend='naive')
    cache, outs, a = KVCache(1, window), [], 0
    for n in steps:
        kk, vv = cache.update(0, k[:, :, a:a + n], v[:, :, a:a + n])
        with torch.no_grad():
            outs.append(attention(q[:, :, a:a + n], kk, vv, slopes=sl, window=window, backend=backend))
        cache.advance(n); a += n
        if window is not None: assert len(cache) <= window - 1         # rolling: bounded by the window
    assert cache.pos == 50 and cache.start == 50 - len(cache)
    torch.testing.assert_close(torch.cat(outs, 2), full, atol=1e-5, rtol=0)

def test_a_rolling_cache_allocates_once():
    "Once its buffer exists, a rolling cache moves its contents within it: memory stays flat however long it runs."
    cache, k = KVCache(2, window=8), torch.randn(1, 2, 1, 4)
    cache.update(0, k, k); cache.update(1, k, k); cache.advance(1)
    ptrs = [cache.k[0].data_ptr(), cache.v[1].data_ptr()]
    for i in range(100):
        x = torch.full((1, 2, 1, 4), float(i))
        kk, _ = cache.update(0, x, x); cache.update(1, x, x); cache.advance(1)
        assert kk.shape[2] == min(i + 2, 8) and (kk[0, 0, -1] == i).all()   # held + new, the newest last
    assert [cache.k[0].data_ptr(), cache.v[1].data_ptr()] == ptrs and cache.k[0].shape[2] == 14 and len(cache) == 7
    assert (cache.k[0][:, :, cache.lo[0]:cache.hi[0]][0, 0, :, 0] == torch.arange(93., 100.)).all()

def test_flash_matches_reference():
    if (why := flash_status()) is not None: pytest.skip(why)
    for H, causal, window, L, S in CASES:
        for grad in (False, True):
            q, k, v = (x.detach().cuda().bfloat16().requires_grad_() for x in _qkv(H, L, S))
            kw = dict(slopes=alibi_slopes(H), window=window, causal=causal)
            ref = attention(q.float(), k.float(), v.float(), backend='naive', **kw)
            out = attention(q, k, v, backend='flash', **kw)
            torch.testing.assert_close(out.float(), ref, atol=2e-2, rtol=0)
            if grad:
                g = torch.autograd.grad(out.float().square().sum(), (q, k, v))
                qf, kf, vf = (x.detach().float().requires_grad_() for x in (q, k, v))
                g_ref = torch.autograd.grad(attention(qf, kf, vf, backend='naive', **kw).square().sum(), (qf, kf, vf))
                for a, b in zip(g, g_ref): torch.testing.assert_close(a.float(), b, atol=5e-2, rtol=5e-2)

def test_auto_backend():
    q, k, v = _qkv(4, 10, 10)
    expected = 'flash' if torch.cuda.is_available() and flash_status() is None else 'sdpa'
    from willie.layers.attention import pick_backend
    assert pick_backend(q) == 'sdpa'                                  # CPU tensors never go to flash
    if torch.cuda.is_available(): assert pick_backend(q.cuda()) == expected
    assert backends()['flash'].startswith('unavailable') == (flash_status() is not None)

@pytest.mark.parametrize('call,msg', [
    (lambda q, k, v: attention(q[0], k, v), 'must be 4-D'),
    (lambda q, k, v: attention(q, k[:, :2], v), 'k and v must be'),
    (lambda q, k, v: attention(k, q[:, :, :3], v[:, :, :3]), 'queries but only 3 keys'),
    (lambda q, k, v: attention(q, k, v, slopes=alibi_slopes(3)), r'slopes must have shape \(4,\)'),
    (lambda q, k, v: attention(q, k, v, window=0), 'window must be a positive int'),
    (lambda q, k, v: attention(q, k, v, window=2.5), 'window must be a positive int'),
    (lambda q, k, v: attention(q, k, v, backend='xformers'), "unknown backend 'xformers'"),
    (lambda q, k, v: attention(q, k, v, bias=torch.zeros(1, 4, 10)), 'bias must be'),
    (lambda q, k, v: attention(q, k, v, bias=torch.zeros(1, 4, 10, 10), slopes=alibi_slopes(4)), 'not both'),
    (lambda q, k, v: attention(q, k, v, bias=torch.zeros(1, 4, 10, 10), backend='flash'),
     "needs backend 'sdpa' or 'naive'"),
])
def test_errors(call, msg):
    q, k, v = _qkv(4, 10, 10)
    with pytest.raises(ValueError, match=msg): call(q, k, v)

def test_flash_unavailable_error():
    if flash_status() is None: pytest.skip('flash-attn runs here')
    q, k, v = _qkv(4, 10, 10)
    with pytest.raises(RuntimeError, match='cannot run'): attention(q, k, v, backend='flash')
