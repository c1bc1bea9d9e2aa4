import torch, pytest
from willie.tokenizers.tubelets import (patchify, unpatchify, sincos_3d, n_tubelet_tokens, TubeletFSQVAE,
                                        TubeletFSQVAEConfig)

def test_patchify_round_trip_any_shape():
    x = torch.randn(2, 1, 10, 72, 40)
    p = patchify(x, (4, 8, 8))
    assert p.shape == (2, 3, 9, 5, 256)
    assert torch.equal(unpatchify(p, (4, 8, 8), x.shape[-3:]), x)

def test_token_counts():
    assert n_tubelet_tokens((16, 64, 64), (4, 8, 8)) == 256
    assert n_tubelet_tokens((16, 128, 128), (2, 8, 8), 4) == 8192
    assert n_tubelet_tokens((10, 72, 40), (4, 8, 8)) == 3 * 9 * 5

def test_sincos_3d():
    pe = sincos_3d(2, 3, 4, 12)
    assert pe.shape == (2, 3, 4, 12) and pe.abs().max() <= 1
    with pytest.raises(ValueError): sincos_3d(2, 2, 2, 10)

def test_tubelet_tokenizer_interface_and_shapes():
    torch.manual_seed(0)
    m = TubeletFSQVAE(TubeletFSQVAEConfig(dim=48, depth=1, heads=2))
    x = torch.rand(2, 1, 16, 64, 64) * 2 - 1
    x_hat, aux, idx = m(x)
    assert x_hat.shape == x.shape and aux.item() == 0 and idx.shape == (2, 4, 8, 8)
    (x_hat - x).pow(2).mean().backward()
    assert m.embed.weight.grad.abs().sum() > 0
    m.eval()
    assert torch.allclose(m.detokenize(m.tokenize(x)), m(x)[0], atol=1e-4)
    y = torch.rand(1, 1, 10, 72, 40) * 2 - 1   # not a multiple of the tubelet: padded then cropped
    assert m(y)[0].shape == y.shape and m.tokenize(y).shape == (1, 3, 9, 5)
    assert m.detokenize(m.tokenize(y), y.shape[-3:]).shape == y.shape

def test_several_tokens_per_tubelet():
    m = TubeletFSQVAE(TubeletFSQVAEConfig(dim=48, depth=1, heads=2, tokens_per_tubelet=4))
    x = torch.rand(1, 1, 8, 16, 16) * 2 - 1
    idx = m.tokenize(x)
    assert idx.shape == (1, 2, 2, 2, 4) and m.detokenize(idx).shape == x.shape
