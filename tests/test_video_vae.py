import torch, torch.nn.functional as F, pytest
from willie.tokenizers.video_vae import (VideoFSQVAE, VideoFSQVAEConfig, VideoVQVAE, VideoVQVAEConfig,
                                         tokenizer_augment, recon_loss)

SMALL = dict(ch=(16, 32, 64), n_res=(0, 1, 1))

@pytest.mark.parametrize('make', [lambda: VideoFSQVAE(VideoFSQVAEConfig(**SMALL)),
                                  lambda: VideoVQVAE(VideoVQVAEConfig(**SMALL))])
def test_tokenizer_interface(make):
    torch.manual_seed(0)
    m = make()
    x = torch.rand(2, 1, 16, 64, 64) * 2 - 1
    x_hat, aux, idx = m(x)   # training mode (VQ: data init + EMA update)
    assert x_hat.shape == x.shape and aux.dim() == 0 and idx.shape == (2, 4, 8, 8)
    assert idx.min() >= 0 and idx.max() < m.codebook_size
    m.eval()
    tok = m.tokenize(x)
    assert tok.dtype == torch.long and tok.shape == (2, 4, 8, 8)
    assert torch.allclose(m.detokenize(tok), m(x)[0], atol=1e-4)

def test_gradients_reach_encoder_and_loss_logs():
    m = VideoFSQVAE(VideoFSQVAEConfig(**SMALL))
    loss, logs = recon_loss(m, torch.rand(2, 1, 8, 32, 32) * 2 - 1)
    loss.backward()
    assert m.encoder.net[0].weight.grad.abs().sum() > 0 and set(logs) >= {'mse', 'psnr'}

def test_codebook_sizes_match_rate():
    assert VideoFSQVAE(VideoFSQVAEConfig(**SMALL)).codebook_size == 1000
    assert VideoVQVAE(VideoVQVAEConfig(**SMALL)).codebook_size == 1024

def test_config_round_trip_through_json_lists():
    from dataclasses import asdict
    import json
    cfg = VideoFSQVAEConfig(**SMALL)
    cfg2 = VideoFSQVAEConfig(**json.loads(json.dumps(asdict(cfg))))  # tuples come back as lists
    m, m2 = VideoFSQVAE(cfg), VideoFSQVAE(cfg2)
    m2.load_state_dict(m.state_dict())

def test_augment_is_pure_function_of_generator():
    class DS:
        def augment(self, b, g): return b
    aug = tokenizer_augment(DS())
    x = torch.rand(3, 1, 4, 8, 8) * 2 - 1
    a, b = aug(x.clone(), torch.Generator().manual_seed(3)), aug(x.clone(), torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == x.shape and a.min() >= -1 and a.max() <= 1
