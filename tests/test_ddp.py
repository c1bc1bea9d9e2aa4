"""Data parallel training under `torchrun`: 2 CPU processes (gloo) against 1 process at the same global batch.

The test launches this very file under `python -m torch.distributed.run --standalone --nproc_per_node=2`; each process
runs `runs()` (a regression net through `loss_fn`, a toy GAN with two networks and two optimizers through `step_fn` and
`optimizer_step`, and a net with dropout stopped and resumed from its checkpoint) and writes what it saw. The same
`runs()` in the test's own process is the one-process reference."""
import json, os, socket, subprocess, sys
from pathlib import Path
import pytest, torch
from torch import nn
import torch.nn.functional as F

try: import willie  # noqa: F401
except ImportError: sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from willie.train import Trainer, TrainConfig, rank_world, step_batches

TOL = 1e-5   # float32 sums in another order (two half batches, then the mean of two gradients): far below any real change
STEPS, BS = 12, 8


def regression():
    "A small MLP on y = sin(3x), trained through `loss_fn`: the default `train_step`."
    torch.manual_seed(0)
    xs = torch.linspace(-1, 1, 64)[:, None]; ys = torch.sin(3 * xs)
    net = nn.Sequential(nn.Linear(1, 32), nn.GELU(), nn.Linear(32, 1))
    loss = lambda m, b: (F.mse_loss(m(b[0]), b[1]), {})
    cfg = TrainConfig(steps=STEPS, lr=1e-2, warmup=2, ema=0.9, log_every=1, seed=1)
    return Trainer(net, loss, step_batches((xs, ys), BS, seed=1), cfg, log=lambda s: None).fit()


def gan():
    "Two named networks, two optimizers with their own settings, a `step_fn`: the shape of the film GAN's step."
    torch.manual_seed(0)
    nets = {'generator': nn.Sequential(nn.Linear(4, 16), nn.GELU(), nn.Linear(16, 1)),
            'discriminator': nn.Sequential(nn.Linear(1, 16), nn.GELU(), nn.Linear(16, 1))}
    real, noise = 2 + 0.5 * torch.randn(256, 1), torch.randn(256, 4)   # the noise comes with the batch: no RNG in the step
    def step_fn(t, batch):
        x, z = batch
        G, D = t.models['generator'], t.models['discriminator']
        fake = G(z)
        d_loss = F.softplus(-D(x)).mean() + F.softplus(D(fake.detach())).mean()
        t.optimizer_step('discriminator', d_loss)
        g_loss = F.softplus(-D(fake)).mean()
        t.optimizer_step('generator', g_loss)
        return {'d_loss': d_loss, 'g_loss': g_loss}
    gcfg = TrainConfig(steps=STEPS, lr=3e-3, warmup=2, ema=0.9, log_every=1, seed=2)
    dcfg = TrainConfig(steps=STEPS, lr=3e-3, warmup=2, betas=(0.5, 0.99), seed=2)
    return Trainer(nets, None, step_batches((real, noise), BS, seed=2), gcfg, opt_cfgs={'discriminator': dcfg},
                   step_fn=step_fn, log=lambda s: None).fit()


def dropout_resume(ckpt):
    "A net with dropout: 12 steps straight, and 6 steps + a resume from the checkpoint by a new Trainer."
    def make():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(1, 32), nn.GELU(), nn.Dropout(0.3), nn.Linear(32, 1))
    xs = torch.linspace(-1, 1, 64)[:, None]; ys = torch.sin(3 * xs)
    loss = lambda m, b: (F.mse_loss(m(b[0]), b[1]), {})
    cfg = TrainConfig(steps=STEPS, lr=1e-2, warmup=2, log_every=1, ckpt_every=6, seed=3)
    bf = step_batches((xs, ys), BS, seed=3)
    straight = Trainer(make(), loss, bf, cfg, log=lambda s: None).fit()
    Trainer(make(), loss, bf, cfg, ckpt_dir=ckpt, log=lambda s: None).fit(steps=6)
    torch.manual_seed(99)
    resumed = Trainer(make(), loss, bf, cfg, ckpt_dir=ckpt, log=lambda s: None).fit()
    return straight, resumed


def runs(out:Path)->dict:
    reg, g = regression(), gan()
    straight, resumed = dropout_resume(out/'ckpt')
    rank, world = rank_world()
    res = {'world': world, 'rank': rank,
           'regression': [h['loss'] for h in reg.history], 'gan_d': [h['d_loss'] for h in g.history],
           'gan_g': [h['g_loss'] for h in g.history],
           'weights': {n: [p.detach().flatten().tolist() for p in m.parameters()] for n, m in
                       [('regression', reg.model), ('generator', g.models['generator']), ('discriminator', g.models['discriminator'])]},
           'dropout_straight': [h['loss'] for h in straight.history], 'dropout_resumed': [h['loss'] for h in resumed.history]}
    (out/f'rank{rank}.json').write_text(json.dumps(res))
    return res


def _flat(params): return [x for p in params for x in p]


@pytest.fixture(scope='module')
def two_procs(tmp_path_factory):
    out = tmp_path_factory.mktemp('ddp')
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    p = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', __file__, str(out)],
                       env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    return out, [json.loads((out/f'rank{r}.json').read_text()) for r in (0, 1)]


@pytest.fixture(scope='module')
def one_proc(tmp_path_factory):
    return runs(tmp_path_factory.mktemp('one'))


def test_two_processes_match_one_at_the_same_global_batch(two_procs, one_proc):
    out, ranks = two_procs
    assert [r['world'] for r in ranks] == [2, 2] and one_proc['world'] == 1
    diffs = {}
    for k in ('regression', 'gan_d', 'gan_g'):
        a, b = ranks[0][k], one_proc[k]
        assert len(a) == len(b) == STEPS
        diffs[k] = max(abs(x - y) for x, y in zip(a, b))
        assert ranks[1][k] == a, f"{k}: the ranks logged different histories"   # logs are averaged over the processes
    print(f"max |loss(2 processes) - loss(1 process)| over {STEPS} steps: " + ', '.join(f'{k} {v:.2e}' for k, v in diffs.items()))
    assert max(diffs.values()) < TOL, diffs
    assert any(a != b for a, b in zip(ranks[0]['regression'], ranks[0]['regression'][1:]))   # it did train


def test_every_process_ends_with_the_same_weights(two_procs, one_proc):
    out, ranks = two_procs
    for n in ranks[0]['weights']:
        w0, w1, w = (_flat(r['weights'][n]) for r in (*ranks, one_proc))
        assert w0 == w1, f"{n}: the processes' weights differ"
        assert max(abs(a - b) for a, b in zip(w0, w)) < TOL, n


def test_resume_under_torchrun_is_exact_and_rank0_writes(two_procs):
    "Dropout draws different masks on each process; each one's RNG is in the checkpoint, so the resume is bit-identical"
    out, ranks = two_procs
    for r in ranks: assert r['dropout_resumed'] == r['dropout_straight']
    state = torch.load(out/'ckpt'/'step0000012.state.pt', weights_only=True)
    assert state['world'] == 2 and len(state['rng_ranks']) == 1
    assert not torch.equal(state['rng']['torch'], state['rng_ranks'][0]['torch'])   # two processes, two random streams
    assert sorted(p.name for p in (out/'ckpt').iterdir()) == ['latest.json', 'step0000006.safetensors', 'step0000006.state.pt',
                                                            'step0000012.safetensors', 'step0000012.state.pt']


def test_a_checkpoint_of_two_processes_is_refused_by_one(two_procs):
    from willie.train import CheckpointError
    out, _ = two_procs
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, 32), nn.GELU(), nn.Dropout(0.3), nn.Linear(32, 1))
    t = Trainer(net, lambda m, b: (m(b).mean(), {}), lambda s: torch.zeros(BS, 1),
                TrainConfig(steps=STEPS, lr=1e-2, warmup=2, log_every=1, ckpt_every=6, seed=3), ckpt_dir=out/'ckpt')
    with pytest.raises(CheckpointError, match=r'written by a run of 2 process\(es\), this one has 1'): t.load_checkpoint()


if __name__ == '__main__':   # a worker under torchrun
    runs(Path(sys.argv[1]))
