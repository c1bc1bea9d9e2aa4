"""Data parallel training under `torchrun`: 2 CPU processes (gloo) against 1 process at the same global batch.

The test launches this very file under `python -m torch.distributed.run --standalone --nproc_per_node=2`; each process
runs `runs()` (a regression net through `loss_fn`, a toy GAN with two networks and two optimizers through `step_fn` and
`optimizer_step`, a net with dropout stopped and resumed from its checkpoint, and `willie train` itself on a tiny
tokenizer recipe) and writes what it saw. The same `runs()` in the test's own process is the one-process reference.

The GPU recipes cannot be trained here (no GPU): the last test builds each at full size and trains its tiny version one
step on the CPU, through the same `train_recipe` and with the same bf16 autocast a GPU run would use."""
import json, os, socket, subprocess, sys
from pathlib import Path
import numpy as np, pytest, torch
from torch import nn
import torch.nn.functional as F

try: import willie  # noqa: F401
except ImportError: sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from willie.train.loop import Trainer, TrainConfig, rank_world, step_batches

# float32 sums in another order (two half batches, then the mean of two gradients): far below any real change
TOL = 1e-5
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
    # the noise comes with the batch: no RNG in the step
    real, noise = 2 + 0.5 * torch.randn(256, 1), torch.randn(256, 4)
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


def train_command(out:Path, data:Path):
    "`willie train` on a tiny tokenizer recipe (a .json file) and a synthetic clip store: the real entry point"
    from willie.apps.cli import main
    rc = main(['train', str(data/'tiny_fsq.json'), '--store', str(data/'store'), '--name', 'tiny_fsq', '--ckpt-dir',
               str(out/'train'), '--weights-dir', str(out/'w'), '--quiet'])
    assert rc == 0
    return torch.load(sorted((out/'train').glob('step*.state.pt'))[-1], weights_only=True)['history']


def runs(out:Path, data:Path)->dict:
    reg, g = regression(), gan()
    straight, resumed = dropout_resume(out/'ckpt')
    hist = train_command(out, data)
    rank, world = rank_world()
    res = {'world': world, 'rank': rank,
           'regression': [h['loss'] for h in reg.history], 'gan_d': [h['d_loss'] for h in g.history],
           'gan_g': [h['g_loss'] for h in g.history], 'willie_train': [h['loss'] for h in hist],
           'weights': {n: [p.detach().flatten().tolist() for p in m.parameters()] for n, m in
                       [('regression', reg.model), ('generator', g.models['generator']),
                        ('discriminator', g.models['discriminator'])]},
           'dropout_straight': [h['loss'] for h in straight.history],
           'dropout_resumed': [h['loss'] for h in resumed.history]}
    (out/f'rank{rank}.json').write_text(json.dumps(res))
    return res


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    "A synthetic 64x64 clip store and a tiny tokenizer recipe as a .json file (batch 4: 2 clips per process)"
    from willie.data.film import prepare, synthetic_video
    from willie.apps.recipes import tiny_recipe
    from willie.tokenizers.video_vae import VideoFSQVAEConfig, tokenizer_recipe
    d = tmp_path_factory.mktemp('ddp_data')
    prepare(synthetic_video(d/'synth96.mp4', n_frames=96, cuts=(30, 60)), d/'store', size=64, progress=False)
    from dataclasses import replace
    r = tiny_recipe(tokenizer_recipe('VideoFSQVAE', VideoFSQVAEConfig(), steps=6), steps=6)
    r = replace(r, train=replace(r.train, bs=4, eval_every=3))
    (d/'tiny_fsq.json').write_text(json.dumps(r.to_dict()))
    return d


def _flat(params): return [x for p in params for x in p]


@pytest.fixture(scope='module')
def two_procs(tmp_path_factory, data):
    out = tmp_path_factory.mktemp('ddp')
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    p = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', __file__,
                        str(out), str(data)],
                       env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    return out, [json.loads((out/f'rank{r}.json').read_text()) for r in (0, 1)]


@pytest.fixture(scope='module')
def one_proc(tmp_path_factory, data):
    return runs(tmp_path_factory.mktemp('one'), data)


def test_two_processes_match_one_at_the_same_global_batch(two_procs, one_proc):
    out, ranks = two_procs
    assert [r['world'] for r in ranks] == [2, 2] and one_proc['world'] == 1
    diffs = {}
    for k in ('regression', 'gan_d', 'gan_g', 'willie_train'):
        a, b = ranks[0][k], one_proc[k]
        assert len(a) == len(b) > 1
        diffs[k] = max(abs(x - y) for x, y in zip(a, b))
        assert ranks[1][k] == a, f"{k}: the ranks logged different histories"   # logs are averaged over the processes
    print("max |loss(2 processes) - loss(1 process)|: "
          + ', '.join(f'{k} {v:.2e} over {len(ranks[0][k])} steps' for k, v in diffs.items()))
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
    assert sorted(p.name for p in (out/'ckpt').iterdir()) == ['latest.json',
                                                              'step0000006.safetensors', 'step0000006.state.pt',
                                                              'step0000012.safetensors', 'step0000012.state.pt']


def test_a_checkpoint_of_two_processes_is_refused_by_one(two_procs):
    from willie.train.loop import CheckpointError
    out, _ = two_procs
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, 32), nn.GELU(), nn.Dropout(0.3), nn.Linear(32, 1))
    t = Trainer(net, lambda m, b: (m(b).mean(), {}), lambda s: torch.zeros(BS, 1),
                TrainConfig(steps=STEPS, lr=1e-2, warmup=2, log_every=1, ckpt_every=6, seed=3), ckpt_dir=out/'ckpt')
    with pytest.raises(CheckpointError, match=r'written by a run of 2 process\(es\), this one has 1'):
        t.load_checkpoint()


def test_willie_train_under_torchrun_saves_once(two_procs):
    "Rank 0 alone saves the weights and writes the checkpoints of `willie train`"
    out, _ = two_procs
    from willie.train.weights import load_weights, read_registry
    assert list(read_registry(out/'w')) == ['tiny_fsq'] and load_weights('tiny_fsq', out/'w') is not None
    state = torch.load(sorted((out/'train').glob('step*.state.pt'))[-1], weights_only=True)
    assert state['world'] == 2 and state['step'] == 6


GPU_NAMES = ['magvit_gan_128_gpu', 'magvit_gan_256_gpu', 'prior_128_gpu']
CPU_TWIN = {'magvit_gan_128_gpu': 'magvit_gan_64', 'magvit_gan_256_gpu': 'magvit_gan_64', 'prior_128_gpu': 'prior_64'}


@pytest.mark.parametrize('name', GPU_NAMES)
def test_gpu_recipe_builds_at_full_size(name):
    "Each GPU recipe builds (on the meta device: shapes only) and is bigger than the CPU recipe it scales up"
    from willie.apps.recipes import GPU_RECIPES, all_recipes, build
    assert set(GPU_NAMES) <= set(GPU_RECIPES)   # the space-x4 chain's GPU recipes are checked in 98_recipes
    params = lambda r: sum(p.numel() for p in build(r).parameters())
    r = GPU_RECIPES[name]
    assert params(r) > params(all_recipes()[CPU_TWIN[name]]) and r.to_dict()['gpu'] == {'bf16': True}


@pytest.fixture(scope='module')
def synth(tmp_path_factory): 
    from willie.data.film import synthetic_video
    return synthetic_video(tmp_path_factory.mktemp('gpu')/'synth96.mp4', n_frames=96, cuts=(30, 60))


def _tiny_tokenizer_run(name, synth, tmp_path, gan_steps):
    from willie.data.film import prepare
    from willie.apps.recipes import GPU_RECIPES, tiny_recipe, train_recipe
    from dataclasses import replace
    r = tiny_recipe(GPU_RECIPES[name]); r = replace(r, gan=replace(r.gan, steps=gan_steps))
    size = r.data.size
    store = prepare(synth, tmp_path/f's{size}', size=size, progress=False)
    return train_recipe(r, store, name=name, save_to=tmp_path/'w', ckpt_dir=tmp_path/name, device='cpu',
                        log=lambda s: None, progress=False)


@pytest.mark.parametrize('name', ['magvit_gan_128_gpu', 'magvit_gan_256_gpu'])
def test_gpu_tokenizer_recipe_trains_a_step_on_cpu(name, synth, tmp_path):
    "The tiny version (same levels, same time halvings, same frame size; 8 channels) takes a step under bf16 autocast"
    model, metrics = _tiny_tokenizer_run(name, synth, tmp_path, gan_steps=0)
    size = int(name.split('_')[2])
    assert metrics['steps'] == 1 and model.token_shape((9, size, size)) == (3, 16, 16)
    state = torch.load(sorted((tmp_path/name/'recon').glob('step*.state.pt'))[-1], weights_only=True)
    assert state['cfg']['bf16'] and np.isfinite(state['history'][-1]['loss'])


def test_gpu_gan_phase_takes_a_step_under_bf16(synth, tmp_path):
    "The GAN phase of the tiny 128² recipe takes a step under bf16 autocast (the LeCam logit EMAs stay fp32)"
    _tiny_tokenizer_run('magvit_gan_128_gpu', synth, tmp_path, gan_steps=1)


def test_gpu_prior_recipe_trains_a_step_on_cpu(synth, tmp_path):
    """The tiny prior (one narrow layer; the 16x16 grid and 4,375 codes kept) trains on tokens of a tokenizer of the
    128x128 geometry"""
    from willie.tokenizers.causal import CausalTokenizer
    from willie.data.film import prepare
    from willie.apps.recipes import GPU_RECIPES, tiny_recipe, train_recipe
    from willie.tokens.store import tokenize_film
    from willie.train.weights import save_weights
    tok = tiny_recipe(GPU_RECIPES['magvit_gan_128_gpu'])
    torch.manual_seed(0)
    save_weights(CausalTokenizer(tok.model), 'magvit_gan_128_gpu',
                 weights_dir=tmp_path/'w', recipe=tok)
    store = prepare(synth, tmp_path/'s128', size=128, progress=False)
    tokens = tokenize_film('magvit_gan_128_gpu', store, ('p0',), out=tmp_path/'tokens', block_len=16, val_every=3,
                           weights_dir=tmp_path/'w', progress=False)
    tr = train_recipe(tiny_recipe(GPU_RECIPES['prior_128_gpu']), tokens, name='prior_128_gpu', save_to=tmp_path/'w',
                      ckpt_dir=tmp_path/'prior', device='cpu', log=lambda s: None, progress=False)
    model, metrics = tr
    assert tr.trainer.step == 1 and tr.trainer.cfg.bf16 and np.isfinite(tr.trainer.history[-1]['loss'])
    assert (model.cfg.grid, model.cfg.vocab_size) == ((16, 16), 4375) and metrics['steps'] == 1


if __name__ == '__main__':   # a worker under torchrun
    runs(Path(sys.argv[1]), Path(sys.argv[2]))
