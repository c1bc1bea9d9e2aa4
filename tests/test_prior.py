"""willie.priors.transformer: config, shapes, KV-cache decoding equal to the full forward, token windows, learning a
synthetic token stream below its unigram entropy, and running at 4x the training context with the sliding window."""
import json, math
from dataclasses import asdict
import numpy as np, pytest, torch
from willie.priors.transformer import (PriorConfig, Prior, POSITIONS, RECIPES, TokenWindows, as_streams,
                                       evaluate_prior, nll_by_position, prior_data, prior_loss, prior_recipe,
                                       train_prior, unigram_entropy)
from willie.train.weights import Recipe

def frame_shift(n_clips, n_frames, grid=(2, 2), vocab=16, seed=0):
    "A random first latent frame, then +1 mod vocab at every place, frame after frame."
    first = np.random.default_rng(seed).integers(0, vocab, (n_clips, 1, *grid))
    return (first + np.arange(n_frames)[None, :, None, None]) % vocab

def tiny(**kw):
    return PriorConfig(**{**dict(vocab_size=16, n_layer=2, n_head=6, n_embd=48, context=32, grid=(2, 4)), **kw})

@pytest.mark.parametrize('position', POSITIONS)
@pytest.mark.parametrize('window', [None, 1, 12])
def test_cache_decoding_equals_full_forward(position, window):
    torch.manual_seed(0)
    model = Prior(tiny(position=position, window=window)).eval()
    idx = torch.randint(16, (2, 40))
    full = model(idx)[0]
    for steps in ([1] * 40, [8, 8, 3, 21], [40]):
        cache, outs, a = model.new_cache(), [], 0
        for n in steps: outs.append(model(idx[:, a:a + n], cache=cache)[0]); a += n
        torch.testing.assert_close(torch.cat(outs, 1), full, atol=1e-5, rtol=0)
        assert cache.pos == 40 and (window is None or len(cache) <= window - 1)

@pytest.mark.parametrize('window', [None, 12])
def test_a_bfloat16_cache_stays_close_to_the_full_forward(window):
    torch.manual_seed(0)
    model = Prior(tiny(window=window)).eval()
    idx = torch.randint(16, (2, 40))
    full = model(idx)[0]
    cache = model.new_cache(torch.bfloat16)
    with torch.no_grad(): out = torch.cat([model(idx[:, a:a + 1], cache=cache)[0] for a in range(40)], 1)
    assert cache.k[0].dtype == torch.bfloat16 and out.dtype == full.dtype
    err = (out - full).abs().max().item()
    assert 1e-6 < err < 0.05 * full.abs().max().item()   # rounded, not exact, and not far

def test_shapes_loss_and_grids():
    torch.manual_seed(0)
    m = Prior(PriorConfig(vocab_size=1000, n_layer=1, n_head=4, n_embd=32, grid=(8, 8)))
    grid = torch.randint(1000, (2, 2, 8, 8))
    logits, loss = m(grid, grid)
    assert logits.shape == (2, 128, 1000) and abs(loss.item() - math.log(1000)) < 0.05
    torch.testing.assert_close(m(grid)[0], m(grid.flatten(1))[0])
    with pytest.raises(ValueError, match="does not match the config's grid"):
        m(torch.zeros(1, 2, 4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r'must be \(B, t, h, w\) or \(B, L\)'): m(torch.zeros(5, dtype=torch.long))

def test_config():
    cfg = PriorConfig.from_token_shape((4, 8, 8), 1000, latent_frames=16, window=512, position='alibi+hw')
    assert (cfg.context, cfg.grid, cfg.frame_tokens) == (1024, (8, 8), 64)
    assert PriorConfig(**json.loads(json.dumps(asdict(cfg)))) == cfg          # survives a JSON round trip
    with pytest.raises(ValueError, match='position must be one of'): PriorConfig(position='rope')
    with pytest.raises(ValueError, match='not divisible'): PriorConfig(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match='window must be'): PriorConfig(window=0)

def test_alibi3d_needs_sdpa_and_mask_token():
    m = Prior(tiny(position='alibi3d'))
    assert m.backend == 'sdpa'
    m.backend = 'flash'
    with pytest.raises(ValueError, match="needs backend 'sdpa' or 'naive'"): m(torch.zeros(1, 8, dtype=torch.long))
    mm = Prior(tiny(mask_token=True))
    assert mm.tok.num_embeddings == 17 and mm.head.out_features == 16
    logits, _ = mm(torch.full((1, 8), 16), causal=False)                     # [MASK] ids, bidirectional
    assert logits.shape == (1, 8, 16)

def test_token_windows():
    shots = [np.arange(20).reshape(5, 2, 2), np.arange(100, 112).reshape(3, 2, 2)]
    ds = TokenWindows(shots, 8, (2, 2))
    assert len(ds) == 6 and torch.equal(ds[4], torch.arange(100, 108))
    assert all(o % 4 == 0 for _, o in ds.index)                              # windows start on frame boundaries
    assert len(TokenWindows(shots, 8, (2, 2), stride=2)) == 3
    assert len(as_streams(torch.zeros(3, 4, 2, 2, dtype=torch.long), (2, 2))) == 3
    with pytest.raises(ValueError, match='no stream holds 40 tokens'): TokenWindows(shots, 40, (2, 2))
    with pytest.raises(ValueError, match=r'\(h, w\) = \(4, 4\)'): as_streams(np.zeros((3, 2, 2)), (4, 4))
    assert unigram_entropy(np.arange(16), 16) == pytest.approx(4.)

@pytest.fixture(scope='module')
def trained():
    "A tiny windowed prior trained for 150 steps on the synthetic frame-shift stream."
    cfg = PriorConfig(vocab_size=16, n_layer=2, n_head=4, n_embd=32, context=32, window=8,
                      position='alibi+hw', grid=(2, 2))
    recipe = prior_recipe(cfg, tokenizer=None, steps=150, lr=3e-3, warmup=15, weight_decay=0., ema=0., eval_every=50)
    return train_prior(recipe, frame_shift(64, 16, seed=0), frame_shift(16, 16, seed=1), log=lambda line: None).trainer

def test_learns_below_unigram_entropy(trained):
    h0 = unigram_entropy(frame_shift(16, 16, seed=1), 16)
    bpt = [e['val_bpt'] for e in trained.evals]
    assert bpt[-1] < 0.6 * h0, bpt
    assert trained.history[-1]['loss'] < trained.history[0]['loss']
    assert trained.best['val_loss'] == min(e['val_loss'] for e in trained.evals)

def test_runs_at_4x_context_with_window(trained):
    model = trained.model.eval()
    ctx = model.cfg.context
    seq = torch.from_numpy(frame_shift(8, 33, seed=2).reshape(8, -1)[:, :4 * ctx + 1]).long()
    nll = nll_by_position(model, seq) / math.log(2)
    assert nll.shape == (4 * ctx,) and torch.isfinite(nll).all()
    q = nll.reshape(4, -1).mean(1)
    assert q[3] <= 1.1 * q[1] + 0.05, q                                       # flat past the training context
    # the same through the KV cache, one latent frame at a time: the rolling cache stays within the window
    cache, outs = model.new_cache(), []
    for a in range(0, 4 * ctx, 4): outs.append(model(seq[:, a:a + 4], cache=cache)[0])
    torch.testing.assert_close(torch.cat(outs, 1), model(seq[:, :-1])[0], atol=1e-4, rtol=0)
    assert len(cache) == model.cfg.window - 1

def test_evaluate_prior_matches_loss():
    torch.manual_seed(0)
    m = Prior(tiny()).eval()
    ds = TokenWindows(frame_shift(4, 8, grid=(2, 4)), 32, (2, 4), stride=4)
    batch = torch.stack([ds[i] for i in range(len(ds))])
    with torch.no_grad(): loss, logs = prior_loss(m, batch)
    assert evaluate_prior(m, ds)['val_loss'] == pytest.approx(loss.item(), rel=1e-5)
    assert logs['bpt'] == pytest.approx(loss.item() / math.log(2))

def test_recipe_is_json_and_sized_for_magvit():
    r = RECIPES['prior_64']
    assert Recipe.from_dict(json.loads(json.dumps(r.to_dict()))) == r
    assert r.arch == 'Prior' and r.data.tokenizer == 'magvit_gan_64' and r.data.val_variant == 'p0'
    assert (r.model.vocab_size, r.model.grid, r.model.context) == (4375, (8, 8), 512)

def test_smoke_run_on_a_synthetic_token_store(synth_store, tmp_path):
    "The film's path end to end on a tiny store: tokenize_film -> prior_data -> train_prior -> registry -> load_weights"
    from willie.tokenizers.causal import CausalTokenizer, CausalTokenizerConfig
    from willie.tokens.store import tokenize_film
    from willie.train.weights import load_weights, read_registry, save_weights
    torch.manual_seed(0)
    reg = tmp_path/'weights'
    save_weights(CausalTokenizer(CausalTokenizerConfig(ch=(8, 16, 16), enc_res=(0, 0, 1), dec_res=(0, 0, 1))), 'tiny',
                 weights_dir=reg)
    store = tokenize_film('tiny', synth_store, variants=('p0', 'p1+flip'), out=tmp_path/'tok', weights_dir=reg,
                          progress=False, block_len=16, val_every=3)
    cfg = PriorConfig.from_token_shape((2, 4, 4), 4375, latent_frames=2, n_layer=1, n_head=2, n_embd=16)
    recipe = prior_recipe(cfg, tokenizer='tiny', variants=('p0', 'p1+flip'), steps=6, bs=4, warmup=2,
                          eval_every=3, val_windows=4)
    train, val = prior_data(recipe, store)
    assert len(train) == len(store.streams('train')) and len(val) == len(store.streams('val'))
    lines = []
    tr = train_prior(recipe, train, val, name='prior_smoke', save_to=reg, log=lines.append).trainer
    e = read_registry(reg)['prior_smoke']
    assert (e['recipe'] == recipe.ran({'train': 6}).to_dict() and e['arch'] == 'Prior'
            and e['depends'] == {'tiny': read_registry(reg)['tiny']['sha256']})
    assert e['metrics']['steps'] == 6 and len(tr.evals) == 2 and any('prior_smoke saved' in l for l in lines)
    m = load_weights('prior_smoke', weights_dir=reg)
    assert isinstance(m, Prior) and \
        m(torch.from_numpy(np.asarray(val[0][:2], dtype=np.int64))[None])[0].shape == (1, 32, 4375)
    with pytest.raises(ValueError, match='do not mix'): prior_data(prior_recipe(cfg, tokenizer='magvit_gan_64'), store)
    with pytest.raises(ValueError, match='lacks the variants'): prior_data(prior_recipe(cfg, tokenizer='tiny'), store)
    more = prior_recipe(cfg, tokenizer='tiny', variants=('p0', 'p1+flip', 'p2'))   # scoring needs only val's variant
    no_train, val_only = prior_data(more, store, train=False)
    assert no_train == [] and len(val_only) == len(val) and all(np.array_equal(a, b) for a, b in zip(val_only, val))
