import pytest, torch
from willie.layers.fsq import FSQ, round_ste

LEVELS = [[3], [4], [5, 3], [8, 5, 5, 5], [8, 8, 8, 5, 5, 5], [7, 5, 5, 5, 5]]

@pytest.mark.parametrize('levels', LEVELS)
def test_every_index_round_trips(levels):
    q = FSQ(levels)
    idx = torch.arange(q.codebook_size)
    codes = q.indices_to_codes(idx)
    assert torch.equal(q.codes_to_indices(codes), idx)
    assert torch.unique(codes, dim=0).shape[0] == q.codebook_size
    assert codes.min() >= -1 and codes.max() <= 1

@pytest.mark.parametrize('L', [3, 4, 5, 6, 7, 8])
def test_odd_and_even_levels_reach_every_level(L):
    q = FSQ([L])
    z = torch.linspace(-8, 8, 4001)[None, None]
    zq, _, idx = q(z)
    assert idx.unique().numel() == L
    assert torch.equal(zq[0, 0].unique() * (L // 2), torch.arange(-(L // 2), (L - 1) // 2 + 1).float())
    assert q(torch.zeros(1, 1, 1))[0].item() == 0  # z = 0 maps to level 0 (half-level offset for even L)

def test_gradients_pass():
    q = FSQ([8, 5, 5, 5])
    z = torch.randn(2, 4, 3, 4, 4, requires_grad=True)
    zq, aux, idx = q(z)
    (zq * torch.randn_like(zq)).sum().backward()
    assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    assert aux.item() == 0 and idx.shape == (2, 3, 4, 4) and idx.dtype == torch.long
    x = torch.tensor([0.4, 1.6], requires_grad=True); round_ste(x).sum().backward()
    assert torch.equal(x.grad, torch.ones(2))

def test_fp32_inside_bf16_autocast():
    q = FSQ([8, 5, 5, 5])
    z = (torch.randn(2, 4, 4, 8, 8) * 2).bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        zq, _, idx = q(z)
    assert zq.dtype == torch.float32
    assert torch.equal(idx, q(z.float())[2])

@pytest.mark.parametrize('levels', [[8, 5, 5, 5], [8, 8, 8, 5, 5, 5], [7, 5, 5, 5, 5]])
def test_parity_with_vector_quantize_pytorch(levels):
    vqp = pytest.importorskip('vector_quantize_pytorch')
    ref, ours = vqp.FSQ(levels, channel_first=True), FSQ(levels)
    torch.manual_seed(0)
    z = torch.randn(3, len(levels), 4, 6, 6) * 2
    out_ref, idx_ref = ref(z)
    out, _, idx = ours(z)
    assert torch.allclose(out, out_ref, atol=1e-6)
    assert torch.equal(idx, idx_ref.long())

def test_bad_input_is_explained():
    with pytest.raises(ValueError, match='expects 4 channels'): FSQ([8, 5, 5, 5])(torch.randn(1, 3, 2))
    with pytest.raises(ValueError, match='>= 3'): FSQ([2, 5])
