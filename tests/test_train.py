"Edge cases of the training loop beyond the notebook's demonstrations: resume with evaluation, crashes mid-save."
import json

import pytest
import torch
from torch import nn

from willie.train.loop import NonFiniteLossError, Trainer, TrainConfig, step_batches

xs = torch.linspace(-1, 1, 128)[:, None]
ys = torch.sin(3 * xs)


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(1, 16), nn.GELU(), nn.Dropout(0.1), nn.Linear(16, 1))


def loss_fn(model, batch):
    x, y = batch
    return nn.functional.mse_loss(model(x), y), {'extra': 1.0}


def eval_fn(model):
    return {'mse': nn.functional.mse_loss(model(xs), ys), 'noise': torch.rand(())}  # eval draws random numbers too


CFG = TrainConfig(steps=20, lr=1e-2, warmup=3, ema=0.9, eval_every=7, ckpt_every=5, log_every=1, seed=5)


def trainer(ckpt_dir=None, cfg=CFG):
    return Trainer(net(), loss_fn, step_batches((xs, ys), bs=8, seed=5), cfg, eval_fn=eval_fn, ckpt_dir=ckpt_dir)


def test_resume_with_evals_is_exact(tmp_path):
    straight = trainer().fit()
    trainer(tmp_path).fit(steps=12)          # stops between a checkpoint (10) and an eval (14): resumes from 12
    torch.manual_seed(999)
    resumed = trainer(tmp_path).fit()
    assert [h['loss'] for h in resumed.history] == [h['loss'] for h in straight.history]
    assert [e['mse'] for e in resumed.evals][-2:] == [e['mse'] for e in straight.evals][-2:]
    assert all(torch.equal(a, b) for a, b in zip(resumed.model.state_dict().values(),
                                                 straight.model.state_dict().values()))


def test_state_loads_without_pickle(tmp_path):
    trainer(tmp_path).fit(steps=5)
    tag = json.loads((tmp_path / 'latest.json').read_text())['tag']
    state = torch.load(tmp_path / f'{tag}.state.pt', weights_only=True)
    assert state['step'] == 5 and 'model' in state['opts'] and 'torch' in state['rng']


def test_crash_during_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    t = trainer(tmp_path).fit(steps=5)
    import willie.train.loop as wt
    def boom(*a, **k): raise OSError('disk full')
    monkeypatch.setattr(wt.torch, 'save', boom)
    t.step = 7
    with pytest.raises(OSError): t.save_checkpoint()
    monkeypatch.undo()
    assert json.loads((tmp_path / 'latest.json').read_text())['step'] == 5
    assert not [p for p in tmp_path.iterdir() if p.name.endswith('.tmp')]
    assert trainer(tmp_path).load_checkpoint() and True


def test_non_finite_gradient_stops_before_update():
    t = trainer()
    before = [p.clone() for p in t.model.parameters()]
    with pytest.raises(NonFiniteLossError, match='not finite'):
        t.train_step((xs[:4], torch.full((4, 1), float('inf'))))
    assert all(torch.equal(a, b) for a, b in zip(before, t.model.parameters()))


def test_step_batches_dataset_and_augment():
    class DS(torch.utils.data.Dataset):
        def __len__(self): return 10
        def __getitem__(self, i): return torch.full((2,), float(i))
    bf = step_batches(DS(), bs=4, seed=0, augment=lambda b, g: b + torch.rand(b.shape, generator=g))
    a, b = bf(3), bf(3)
    assert a.shape == (4, 2) and torch.equal(a, b)
    with pytest.raises(ValueError, match='empty'): step_batches(torch.zeros(0, 2), bs=2)


# Two networks, two optimizers: the API a GAN trains with.
real = 2 + 0.5 * torch.randn(256, 1, generator=torch.Generator().manual_seed(0))


def two_nets():
    torch.manual_seed(0)
    return {'generator': nn.Sequential(nn.Linear(4, 16), nn.GELU(), nn.Dropout(0.1), nn.Linear(16, 1)),
            'discriminator': nn.Sequential(nn.Linear(1, 16), nn.GELU(), nn.Linear(16, 1))}


def gan_step(t, x):
    G, D = t.models['generator'], t.models['discriminator']
    fake = G(torch.randn(len(x), 4))
    d_loss = nn.functional.softplus(-D(x)).mean() + nn.functional.softplus(D(fake.detach())).mean()
    d_norm = t.optimizer_step('discriminator', d_loss)
    g_loss = nn.functional.softplus(-D(fake)).mean()
    t.optimizer_step('generator', g_loss)
    return {'d_loss': d_loss, 'g_loss': g_loss, 'd_norm': d_norm}


def gap(G):
    return {'gap': (G(torch.randn(500, 4)).mean() - 2).abs()}


GCFG = TrainConfig(steps=24, lr=3e-3, warmup=3, ema=0.9, eval_every=5, ckpt_every=4, log_every=1, seed=2)
DCFG = TrainConfig(steps=24, lr=1e-3, warmup=0, betas=(0.5, 0.99), grad_clip=0.5)


def gan_trainer(ckpt_dir=None, crash_at=None, **kw):
    bf = step_batches(real, bs=16, seed=2)
    def batch_fn(step):
        if step == crash_at: raise KeyboardInterrupt(f'killed at step {step}')
        return bf(step)
    return Trainer(two_nets(), None, batch_fn, GCFG, gap, ckpt_dir,
                   opt_cfgs={'discriminator': DCFG}, step_fn=gan_step, best=('gap', 'min'), log=lambda s: None, **kw)


def test_two_networks_resume_is_exact(tmp_path):
    straight = gan_trainer().fit()
    # dies after checkpoint 12, before eval 15
    with pytest.raises(KeyboardInterrupt): gan_trainer(tmp_path, crash_at=14).fit()
    torch.manual_seed(999)
    resumed = gan_trainer(tmp_path).fit()
    assert resumed.history == straight.history and resumed.evals == straight.evals and resumed.best == straight.best
    for n in ('generator', 'discriminator'):
        assert all(torch.equal(a, b) for a, b in zip(resumed.models[n].state_dict().values(),
                                                    straight.models[n].state_dict().values()))
    assert all(torch.equal(a, b) for a, b in zip(resumed.ema.state_dict().values(), straight.ema.state_dict().values()))
    assert all(torch.equal(resumed.best_state[k], straight.best_state[k]) for k in straight.best_state)
    for n in ('generator', 'discriminator'):
        sa, sb = resumed.opts[n].state_dict()['state'], straight.opts[n].state_dict()['state']
        assert all(torch.equal(sa[i]['exp_avg'], sb[i]['exp_avg']) for i in sa)


def test_per_network_settings():
    t = gan_trainer()
    assert list(t.models) == list(t.opts) == ['generator', 'discriminator'] and t.model is t.models['generator']
    assert t.opts['discriminator'].param_groups[0]['betas'] == (0.5, 0.99)
    t.fit(steps=3)
    assert t.opts['discriminator'].param_groups[0]['lr'] == pytest.approx(
        1e-3 * (0.1 + 0.9 * 0.5 * (1 + __import__('math').cos(__import__('math').pi * 2 / 24))))
    assert t.opts['generator'].param_groups[0]['lr'] == pytest.approx(3e-3)   # last warm-up step (2 of 3)
    with pytest.raises(ValueError, match='not among'): Trainer(two_nets(), None, lambda s: real, GCFG, step_fn=gan_step,
                                                             opt_cfgs={'critic': DCFG})
    with pytest.raises(ValueError, match='loss_fn or a step_fn'): Trainer(net(), None, lambda s: real, GCFG)


def test_optimizer_step_names_the_network():
    t = gan_trainer()
    D = t.models['discriminator']
    before = [p.clone() for p in D.parameters()]
    with pytest.raises(NonFiniteLossError, match='discriminator, step 0'):
        t.optimizer_step('discriminator', D(torch.full((2, 1), float('inf'))).sum())
    assert all(torch.equal(a, b) for a, b in zip(before, D.parameters()))


def test_best_and_log(tmp_path):
    lines = []
    t = Trainer(net(), loss_fn, step_batches((xs, ys), bs=8, seed=5), CFG, eval_fn, tmp_path,
                best=('mse', 'min'), log=lines.append).fit()
    assert len(lines) == len(t.evals) == 3 and lines[0].startswith('step 7: mse')
    assert t.best['mse'] == min(e['mse'] for e in t.evals)
    t2 = Trainer(net(), loss_fn, step_batches((xs, ys), bs=8, seed=5), CFG, eval_fn, tmp_path, best=('mse', 'min'))
    assert t2.load_checkpoint() and t2.best == t.best
    assert all(torch.equal(t2.best_state[k], v) for k, v in t.best_state.items())
    with pytest.raises(KeyError, match='no .psnr.'):
        Trainer(net(), loss_fn, step_batches((xs, ys), bs=8), CFG, eval_fn, best=('psnr', 'max')).fit(steps=7)


def test_fit_in_chunks_draws_one_plot(monkeypatch):
    import willie.train.loop as wt
    from matplotlib.figure import Figure
    shown = []
    class Handle:
        def update(self, fig): shown.append(fig)
    # pretend to be in a notebook (text bars, notebook plot)
    monkeypatch.setattr(wt, 'NBMasterBar', wt.master_bar)
    figs = []
    def display(o, **k):
        if isinstance(o, Figure): figs.append(o)
        return Handle()
    monkeypatch.setattr('IPython.display.display', display)
    t = trainer()
    for s in (7, 14, 20): t.fit(steps=s)
    assert len(figs) == 1 and sum(isinstance(o, Figure) for o in shown) == 3


def test_time_budget_fits_the_schedule_and_resumes_with_its_plan(tmp_path):
    "`minutes`: train until the budget is spent, the cosine schedule ending with it; a resumed run keeps its plan"
    import time
    from dataclasses import replace
    batches = step_batches((xs, ys), 8, seed=1)
    def slow(step): time.sleep(0.005); return batches(step)       # ~200 steps a second at most
    cfg = replace(CFG, steps=10**6, minutes=0.02, eval_every=0, ckpt_every=0)   # 1.2 s
    t0 = time.monotonic()
    tr = Trainer(net(), loss_fn, slow, cfg, eval_fn=eval_fn, ckpt_dir=tmp_path)
    tr.fit()
    took = time.monotonic() - t0
    assert 0.9 < took < 5 and 20 < tr.planned == tr.cfg.steps < 10**6
    assert 0.8 * tr.planned <= tr.step <= tr.planned                   # the deadline stops it, the plan or not
    assert tr.evals and tr.evals[-1]['step'] == tr.step                # evaluated once, at the end
    again = Trainer(net(), loss_fn, slow, cfg, eval_fn=eval_fn, ckpt_dir=tmp_path).fit()
    assert again.planned == again.cfg.steps == tr.planned              # the same plan and schedule, not a new one
    assert tr.step <= again.step <= tr.planned                         # at most the steps the plan had left


def test_time_budget_plans_steps_slower_than_its_probe():
    "A step longer than the probe's share of the budget (a CPU's 20 s steps): the plan still comes from timed steps"
    import time
    from dataclasses import replace
    batches = step_batches((xs, ys), 8, seed=1)
    def slow(step): time.sleep(0.25); return batches(step)         # 4 steps a second; the probe alone lasts 0.36 s
    cfg = replace(CFG, steps=10**6, minutes=0.06, eval_every=0, ckpt_every=0)   # 3.6 s
    tr = Trainer(net(), loss_fn, slow, cfg, eval_fn=eval_fn).fit()
    assert 8 <= tr.planned <= 15 and tr.planned == tr.cfg.steps       # ~0.95 x 4 steps/s x the 2.4 s left after the probe
    assert tr.step >= 8
