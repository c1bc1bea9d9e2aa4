"The causal tokenizer's promises: causality, images as one-frame videos, exact chunked streams, the tokenizer contract."
import torch, pytest
from willie.tokenizers.causal import (CausalTokenizer, CausalTokenizerConfig, encode_stream, decode_stream,
                                      stream_context)

@pytest.fixture(scope='module')
def tok():
    torch.manual_seed(0)
    return CausalTokenizer(CausalTokenizerConfig(ch=(8, 16, 16), enc_res=(0, 1, 1), dec_res=(0, 1, 1))).eval()

def test_no_latent_sees_the_future(tok):
    x = torch.rand(1, 1, 17, 64, 64) * 2 - 1
    for t in (1, 5, 9, 16):
        x2 = x.clone(); x2[:, :, t] += 0.5
        with torch.no_grad(): moved = (tok.encode(x2) - tok.encode(x)).abs().amax((0, 1, 3, 4)) > 0
        first = (t + 3) // 4  # the latent frame of frame t
        assert not moved[:first].any(), f"changing frame {t} changed a latent before {first}"
        assert moved[first], f"changing frame {t} must change latent {first}"

def test_decoder_is_causal_too(tok):
    idx = torch.randint(tok.codebook_size, (1, 5, 8, 8))
    idx2 = idx.clone(); idx2[:, 3] = (idx2[:, 3] + 1) % tok.codebook_size
    moved = (tok.detokenize(idx2) - tok.detokenize(idx)).abs().amax((0, 1, 3, 4)) > 0
    assert not moved[:9].any()  # latent 3 decodes to frames 9..12

@pytest.mark.parametrize('T', [1, 5, 17, 33])
def test_shapes_follow_one_plus_4k(tok, T):
    x = torch.rand(2, 1, T, 64, 64) * 2 - 1
    idx = tok.tokenize(x)
    assert tuple(idx.shape[1:]) == tok.token_shape((T, 64, 64)) == (1 + (T - 1) // 4, 8, 8)
    assert tok.detokenize(idx).shape == x.shape
    assert idx.min() >= 0 and idx.max() < tok.codebook_size

@pytest.mark.parametrize('T,chunk', [(150, 8), (61, 5), (3, 4)])
def test_chunked_stream_equals_one_pass(tok, T, chunk):
    x = torch.rand(1, 1, T, 64, 64) * 2 - 1
    n = tok.token_shape((T, 64, 64))[0]
    padded = torch.cat([x, x[:, :, -1:].expand(-1, -1, 1 + 4 * (n - 1) - T, -1, -1)], 2)
    whole = tok.tokenize(padded)[0]
    got = encode_stream(tok, x, chunk=chunk)
    assert torch.equal(got, whole)
    y = decode_stream(tok, got, n_frames=T, chunk=chunk)
    assert y.shape == x.shape
    torch.testing.assert_close(y, tok.detokenize(whole[None])[:, :, :T], atol=1e-4, rtol=0)

def test_stream_context_is_measured_and_cached(tok):
    c = stream_context(tok)
    assert 1 <= c < 40 and stream_context(tok) == c

def test_stream_rejects_batches(tok):
    with pytest.raises(ValueError, match=r'expected \(1, 1, T, H, W\)'):
        encode_stream(tok, torch.zeros(2, 1, 5, 64, 64))
