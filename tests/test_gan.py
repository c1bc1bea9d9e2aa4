"Each GAN loss term on a case whose answer is known, and the discriminators' shapes."
import torch, pytest
from willie.tokenizers.gan import (Discriminators, DiscriminatorConfig, blur_down, hinge_d_loss, g_adv_loss,
                                   lecam_loss, r1_penalty, adaptive_weight, feature_matching, RandomFeatureLoss,
                                   random_shift)

def test_hinge_and_adversarial():
    assert hinge_d_loss(torch.full((3,), 1.5), torch.full((3,), -1.5)) == 0
    assert hinge_d_loss(torch.zeros(3), torch.zeros(3)) == 2
    assert hinge_d_loss(torch.tensor([0.5]), torch.tensor([0.5])) == pytest.approx(2.0)
    assert g_adv_loss(torch.tensor([2., 4.])) == -3

def test_lecam_zero_at_anchors():
    assert lecam_loss(torch.full((2,), -1.), torch.full((2,), 1.), 1., -1.) == 0
    assert lecam_loss(torch.zeros(2), torch.zeros(2), 1., 1.) == pytest.approx(2.0)

def test_r1_of_linear_discriminator_is_weight_norm():
    w = torch.randn(6)
    x = torch.randn(4, 6, requires_grad=True)
    torch.testing.assert_close(r1_penalty((x @ w)[:, None], x), w.pow(2).sum())
    # per-item mean of patch logits
    torch.testing.assert_close(r1_penalty((x @ w)[:, None].expand(4, 336), x), w.pow(2).sum())

def test_adaptive_weight_is_gradient_ratio():
    W = torch.randn(3, 3, requires_grad=True)
    y = torch.randn(5, 3) @ W
    assert adaptive_weight(4 * y.pow(2).mean(), y.pow(2).mean(), W).item() == pytest.approx(4.0, rel=1e-3)

def test_feature_matching_and_random_features():
    f = [torch.randn(2, 4), torch.randn(2, 3)]
    assert feature_matching(f, f) == 0
    assert feature_matching(f, [v + 1 for v in f]) == pytest.approx(1.0)
    rf = RandomFeatureLoss()
    a = torch.rand(1, 1, 2, 32, 32)
    assert rf(a, a) == 0 and rf(a, 1 - a) > 0
    assert not any(p.requires_grad for p in rf.parameters())
    assert torch.equal(RandomFeatureLoss().net[0].weight, rf.net[0].weight)  # a function of its seed alone

def test_blur_down_keeps_flat_fields_and_halves():
    x = torch.full((1, 2, 9, 16, 16), 0.3)
    y = blur_down(x, True)
    assert y.shape == (1, 2, 5, 8, 8)
    torch.testing.assert_close(y, torch.full_like(y, 0.3))

def test_discriminators_shapes_and_features():
    D = Discriminators(DiscriminatorConfig())
    x = torch.rand(3, 1, 17, 64, 64) * 2 - 1
    logits, feats = D(x, torch.tensor([0, 3, 7, 16]), features=True)
    assert logits.shape == (3, 5 * 16 + 4 * 64) and len(feats) == 3
    assert {'ema_real', 'ema_fake'} <= set(D.state_dict())

def test_random_shift_moves_each_clip_and_passes_gradients():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float).reshape(2, 1, 3, 8, 8).requires_grad_()
    y = random_shift(x, 1, torch.tensor([[1, 1], [2, 0]]))
    assert torch.equal(y[0], x[0])                                            # centre crop: no shift
    assert torch.equal(y[1, ..., :7, 1:], x[1, ..., 1:, :7])                  # up 1, right 1
    # the bottom edge is reflected, not wrapped
    assert torch.equal(y[1, ..., 7, 1:], x[1, ..., 6, :7])
    y.sum().backward(); assert x.grad.sum() == y.numel()
    torch.manual_seed(0); a = random_shift(x.detach(), 2)
    assert a.shape == x.shape and not torch.equal(a, x.detach())
