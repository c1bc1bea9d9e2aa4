"Edge cases of the training loop beyond the notebook's demonstrations: resume with evaluation, crashes mid-save."
import json

import pytest
import torch
from torch import nn

from willie.train import NonFiniteLossError, Trainer, TrainConfig, step_batches

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
    assert all(torch.equal(a, b) for a, b in zip(resumed.model.state_dict().values(), straight.model.state_dict().values()))


def test_state_loads_without_pickle(tmp_path):
    trainer(tmp_path).fit(steps=5)
    tag = json.loads((tmp_path / 'latest.json').read_text())['tag']
    state = torch.load(tmp_path / f'{tag}.state.pt', weights_only=True)
    assert state['step'] == 5 and 'model' in state['opts'] and 'torch' in state['rng']


def test_crash_during_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    t = trainer(tmp_path).fit(steps=5)
    import willie.train as wt
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
