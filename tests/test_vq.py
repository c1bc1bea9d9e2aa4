"Tests of willie.cifar.vq.VectorQuantizer and CodeUsage (fast, CPU)."
import math, pytest, torch
from einops import rearrange
from willie.cifar.vq import VectorQuantizer, CodeUsage, nearest_code


def test_nearest_code_matches_cdist():
    g = torch.Generator().manual_seed(0)
    z, cb = torch.randn(500, 8, generator=g), torch.randn(32, 8, generator=g)
    assert torch.equal(nearest_code(z, cb), torch.cdist(z, cb).argmin(1))


@pytest.mark.parametrize('shape', [(2, 4, 8, 8), (2, 4, 3, 8, 8), (3, 4, 7)])
@pytest.mark.parametrize('ema', [True, False])
def test_shapes(shape, ema):
    vq = VectorQuantizer(16, 4, ema=ema)
    zq, loss, idx = vq(torch.randn(shape))           # training step (data init + update)
    assert zq.shape == shape and idx.shape == (shape[0],) + shape[2:] and idx.dtype == torch.long
    assert loss.ndim == 0 and loss.dtype == torch.float32
    zq, _, idx = vq.eval()(torch.randn(shape))
    assert torch.allclose(zq, vq.embed(idx), atol=1e-6)


@pytest.mark.parametrize('ema', [True, False])
def test_straight_through_gradient(ema):
    vq = VectorQuantizer(8, 4, beta=0.0, ema=ema, restart=False)
    z = torch.randn(2, 4, 3, 3, requires_grad=True)
    zq, _, _ = vq(z)
    w = torch.randn_like(zq)
    (zq*w).sum().backward()
    assert torch.allclose(z.grad, w)          # identity gradient through the lookup


def test_commitment_and_codebook_losses():
    torch.manual_seed(0)
    z = torch.randn(2, 4, 3, 3, requires_grad=True)
    plain = VectorQuantizer(8, 4, beta=0.25, ema=False, data_init=False)
    plain.eval()
    _, loss, idx = plain(z)
    d = (rearrange(z, 'b d h w -> b h w d') - plain.codebook[idx]).pow(2).mean()
    assert torch.allclose(loss, 1.25*d)
    loss.backward()
    assert plain.codebook.grad is not None and plain.codebook.grad.abs().sum() > 0
    ema = VectorQuantizer(8, 4, beta=0.25, ema=True, data_init=False).eval()
    _, loss, idx = ema(z.detach())
    d = (rearrange(z.detach(), 'b d h w -> b h w d') - ema.codebook[idx]).pow(2).mean()
    assert torch.allclose(loss, 0.25*d)        # EMA: no codebook term, the update does that job


def test_ema_moves_codes_toward_assigned_inputs():
    torch.manual_seed(0)
    vq = VectorQuantizer(4, 2, ema=True, decay=0.9, restart=False, data_init=False)
    with torch.no_grad():
        vq.codebook.copy_(torch.tensor([[0., 0.], [10., 10.], [-10., 10.], [10., -10.]]))
        vq.embed_sum.copy_(vq.codebook)
    target = torch.tensor([1., 2.])
    data = target + 0.01*torch.randn(64, 2)        # all nearest to code 0
    before = (vq.codebook[0] - target).norm()
    for _ in range(50): vq(rearrange(data, '(b n) d -> b d n', b=4))
    after = (vq.codebook[0] - target).norm()
    assert after < 0.05*before
    # unused codes stay put (up to the slow pull of Laplace smoothing on codes that are never used)
    assert torch.allclose(vq.codebook[1:], torch.tensor([[10., 10.], [-10., 10.], [10., -10.]]), atol=0.05)


def test_eval_mode_does_not_update():
    vq = VectorQuantizer(8, 2).eval()
    state = {k: v.clone() for k, v in vq.state_dict().items()}
    vq(torch.randn(4, 2, 5))
    assert all(torch.equal(state[k], v) for k, v in vq.state_dict().items())


@pytest.mark.parametrize('ema', [True, False])
def test_dead_codes_restarted_from_encoder_outputs(ema):
    torch.manual_seed(0)
    vq = VectorQuantizer(32, 2, ema=ema, data_init=False, restart=True, restart_after=3)
    data = torch.randn(256, 2)*0.1 + 5          # far from all initial codes: nearly all codes are dead
    z = rearrange(data, '(b n) d -> b d n', b=4)
    for _ in range(3): vq(z)
    assert vq.last_restarts > 20
    # restarted codes sit exactly on encoder outputs of the batch
    d = (vq.codebook.detach()[:, None] - data[None]).abs().amax(-1).min(1).values
    assert (d < 1e-6).sum() >= vq.last_restarts
    _, _, idx = vq(z)
    assert len(idx.unique()) > 20


def test_restart_uses_global_rng():
    def run(seed):
        torch.manual_seed(seed)
        vq = VectorQuantizer(16, 2, data_init=False, restart_after=1)
        vq(torch.randn(2, 2, 50) + 5); vq(torch.randn(2, 2, 50) + 5)
        return vq.codebook.clone()
    assert torch.equal(run(1), run(1)) and not torch.equal(run(1), run(2))


def test_data_init_from_first_batch():
    torch.manual_seed(0)
    vq = VectorQuantizer(16, 3, data_init=True, restart=False)
    assert vq.initted == 0
    data = torch.randn(100, 3)*0.1 + 7
    vq.eval(); vq(rearrange(data, 'n d -> 1 d n')); assert vq.initted == 0   # eval never initialises
    vq.train(); vq(rearrange(data, 'n d -> 1 d n'))
    assert vq.initted == 1
    # every code is one of the inputs (before the first EMA step moved it by at most (1-decay))
    assert torch.cdist(vq.codebook, data).min(1).values.max() < 0.1
    # fewer vectors than codes: sampling with replacement
    vq2 = VectorQuantizer(64, 3, restart=False)
    vq2(rearrange(data[:10], 'n d -> 1 d n'))
    assert torch.cdist(vq2.codebook, data[:10]).min(1).values.max() < 0.1
    # the flag survives a state_dict round trip, so a loaded model is not re-initialised
    vq3 = VectorQuantizer(16, 3); vq3.load_state_dict(vq.state_dict()); assert vq3.initted == 1


def test_fp32_under_bf16_autocast():
    torch.manual_seed(0)
    vq = VectorQuantizer(256, 8).eval()
    vq.train(); vq(torch.randn(4, 8, 16, 16)); vq.eval()
    z = torch.randn(4, 8, 16, 16)
    ref_q, ref_loss, ref_idx = vq(z)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        zq, loss, idx = vq(z)
        zq16, _, idx16 = vq(z.bfloat16())
    assert torch.equal(idx, ref_idx) and loss.dtype == torch.float32 and zq.dtype == torch.float32
    assert torch.allclose(loss, ref_loss)
    assert zq16.dtype == torch.bfloat16 and torch.equal(idx16, vq(z.bfloat16().float())[2])


def test_code_usage_over_split():
    u = CodeUsage(8)
    for b in [torch.tensor([0, 1]), torch.tensor([[2, 3]]), torch.tensor([0, 1, 2, 3])]: u.update(b)
    assert u.counts.tolist() == [2, 2, 2, 2, 0, 0, 0, 0]
    assert u.used == 0.5 and math.isclose(u.perplexity, 4.0) and math.isclose(u.entropy_bits, 2.0)
    u.reset(); u.update(torch.zeros(10, dtype=torch.long))
    assert u.used == 1/8 and math.isclose(u.perplexity, 1.0)
