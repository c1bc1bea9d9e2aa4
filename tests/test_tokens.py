"""willie.tokens.store: streams follow the clip store's train/val split, the manifest pins tokenizer and source, stale
or foreign tokens are refused, builds are deterministic, atomic and resumable, stream lengths follow the 4x time
compression."""
import json, math
import numpy as np, pytest, torch
import willie.tokens.store as wt
from willie.tokenizers.causal import CausalTokenizer, CausalTokenizerConfig
from willie.data.film import ClipDataset
from willie.tokens.store import (DEFAULT_VARIANTS, StaleTokensError, TokenStore, parse_variant, segments,
                                 tokenize_film, variant_frames)
from willie.train.weights import read_registry, save_weights

SPLIT = dict(block_len=16, val_every=3)   # the synthetic store is 4 s long: 20 s blocks would leave no val


def tiny(seed=0):
    torch.manual_seed(seed)
    return CausalTokenizer(CausalTokenizerConfig(ch=(8, 16, 16), enc_res=(0, 0, 1), dec_res=(0, 0, 1)))

@pytest.fixture
def reg(tmp_path):
    "A temporary registry holding a small random causal tokenizer 'tiny'"
    save_weights(tiny(), 'tiny', weights_dir=tmp_path/'weights')
    return tmp_path/'weights'

def build(store, reg, out, **kw):
    return tokenize_film('tiny', store, out=out, weights_dir=reg, progress=False, **(SPLIT | kw))


def test_segments_follow_clipdataset_split(synth_store):
    segs = {sp: segments(synth_store, sp, **SPLIT) for sp in ('train', 'val')}
    is_val = ClipDataset(synth_store, 1, 'val', **SPLIT).is_val
    frames = {sp: {f for a, b in s for f in range(a, b)} for sp, s in segs.items()}
    assert not frames['train'] & frames['val']
    assert all(is_val[f] for f in frames['val']) and not any(is_val[f] for f in frames['train'])
    cuts = set(synth_store.shots[1:, 0].tolist())
    assert all(not any(a < c < b for c in cuts) for s in segs.values() for a, b in s)   # never across a cut


def test_variants():
    assert parse_variant('flip+p3') == dict(phase=3, flip=True, crop=100)
    with pytest.raises(ValueError, match='unknown part'): parse_variant('p1+mirror')
    f = np.arange(5 * 8 * 8, dtype=np.uint8).reshape(5, 8, 8)
    x = variant_frames(f, parse_variant('p2+flip'))
    assert x.shape == (1, 1, 3, 8, 8) and torch.equal(x[0, 0, 0], (torch.from_numpy(f[2]).float() / 127.5 - 1).flip(-1))


def test_store_contents_and_split(synth_store, reg, tmp_path):
    ts = build(synth_store, reg, tmp_path/'tok')
    m = ts.manifest
    assert m['tokenizer']['name'] == 'tiny' and m['tokenizer']['sha256'] == read_registry(reg)['tiny']['sha256']
    assert m['tokenizer']['levels'] == [7, 5, 5, 5, 5] and m['tokenizer']['codebook_size'] == 4375 == ts.vocab_size
    assert m['grid'] == [4, 4] and ts.tokens.dtype == np.int16 and m['shape'] == list(ts.tokens.shape)
    assert m['source']['sha256'] == synth_store.manifest['source']['sha256'] and m['source']['n_frames'] == 96
    assert [v['name'] for v in m['variants']] == list(DEFAULT_VARIANTS) and m['split']['val_every'] == 3
    assert isinstance(ts.tokens, np.memmap)
    val = [r for r in ts.table if r['split'] == 'val']
    assert val and {r['variant'] for r in val} == {'p0'}                         # val is never augmented
    val_frames = {f for r in val for f in range(r['frame_start'], r['frame_end'])}
    train_frames = {f for r in ts.table if r['split'] == 'train' for f in range(r['frame_start'], r['frame_end'])}
    assert not val_frames & train_frames
    for r in ts.table:                                                           # 1 + ceil((T-1)/4) latent frames
        assert r['length'] == 1 + math.ceil((r['frame_end'] - r['frame_start'] - 1) / 4)
    starts = [r['start'] for r in ts.table]
    assert starts == sorted(starts) and starts[-1] + ts.table[-1]['length'] == len(ts)
    assert len(ts.streams('train')) == 8 * len(ts.streams('train', 'p0')) and len(ts.streams('val')) == len(val)
    model, r = tiny(), ts.table[0]
    expect = model.eval().tokenize_stream(variant_frames(synth_store.frames[r['frame_start']:r['frame_end']],
                                                         parse_variant('p0')))
    assert np.array_equal(ts.streams('train', 'p0')[0], expect.numpy())
    s = ts.summary()
    assert s['variants'] == 8 and s['tokens'] == len(ts) * 16 and 0 < s['tokens_per_second'] < 24 / 4 * 16 * 1.5


def test_deterministic_and_idempotent(synth_store, reg, tmp_path):
    a = build(synth_store, reg, tmp_path/'a', variants=('p0', 'p1+flip'))
    b = build(synth_store, reg, tmp_path/'b', variants=('p0', 'flip+p1'))
    for f in ('tokens.npy', 'manifest.json'): assert (a.path/f).read_bytes() == (b.path/f).read_bytes()
    calls = []
    orig = wt.encode_variant
    wt.encode_variant = lambda *a, **k: calls.append(1) or orig(*a, **k)
    try: build(synth_store, reg, tmp_path/'a', variants=('p0', 'p1+flip'))
    finally: wt.encode_variant = orig
    assert calls == []                                                             # already there: no work


def test_refuses_stale_weights_and_other_tokenizers(synth_store, reg, tmp_path):
    ts = build(synth_store, reg, tmp_path/'tok', variants=('p0',))
    save_weights(tiny(seed=1), 'tiny', weights_dir=reg)                            # the tokenizer was retrained
    with pytest.raises(StaleTokensError,
                       match=r"the tokens are stale; rebuild it with `willie tokenize --tokenizer tiny --force`"):
        TokenStore(ts.path, weights_dir=reg)
    with pytest.raises(StaleTokensError, match='older'): build(synth_store, reg, tmp_path/'tok', variants=('p0',))
    fresh = build(synth_store, reg, tmp_path/'tok', variants=('p0',), force=True)   # the offered rebuild
    assert fresh.manifest['tokenizer']['sha256'] == read_registry(reg)['tiny']['sha256']
    save_weights(tiny(seed=2), 'other', weights_dir=reg)
    with pytest.raises(FileExistsError, match='do not mix'):
        tokenize_film('other', synth_store, out=tmp_path/'tok', weights_dir=reg, progress=False, **SPLIT)
    with pytest.raises(StaleTokensError, match='do not mix'):
        TokenStore(tmp_path/'tok', tokenizer='other', weights_dir=reg)
    with pytest.raises(KeyError, match="no tokenizer named 'nope'"):
        tokenize_film('nope', synth_store, out=tmp_path/'x', weights_dir=reg, progress=False)


def test_failed_build_leaves_nothing(synth_store, reg, tmp_path, monkeypatch):
    orig, n = wt.encode_variant, []
    def failing(*a, **k):
        n.append(1)
        if len(n) == 3: raise RuntimeError('boom')
        return orig(*a, **k)
    monkeypatch.setattr(wt, 'encode_variant', failing)
    with pytest.raises(RuntimeError, match='boom'): build(synth_store, reg, tmp_path/'tok', variants=('p0', 'p1', 'p2'))
    assert sorted(p.name for p in tmp_path.iterdir()) == ['weights']               # no store, no leftovers


def test_interrupted_build_resumes(synth_store, reg, tmp_path, monkeypatch):
    """An interruption keeps the finished variants in a hidden folder; the next run codes only the rest, with the same
    bytes"""
    orig, n = wt.encode_variant, []
    def interrupted(*a, **k):
        n.append(1)
        if len(n) == 4: raise KeyboardInterrupt
        return orig(*a, **k)
    monkeypatch.setattr(wt, 'encode_variant', interrupted)
    with pytest.raises(KeyboardInterrupt): build(synth_store, reg, tmp_path/'tok', variants=('p0', 'p1', 'p2'))
    # p0 (train, val) and p1 are done
    assert not (tmp_path/'tok').exists() and len(list(tmp_path.glob('.tok.build-*'))) == 1
    n.clear(); monkeypatch.setattr(wt, 'encode_variant', lambda *a, **k: n.append(1) or orig(*a, **k))
    ts = build(synth_store, reg, tmp_path/'tok', variants=('p0', 'p1', 'p2'))
    assert len(n) == 1 and not list(tmp_path.glob('.tok.*'))                       # only p2 was coded
    clean = build(synth_store, reg, tmp_path/'clean', variants=('p0', 'p1', 'p2'))
    for f in ('tokens.npy', 'manifest.json'): assert (ts.path/f).read_bytes() == (clean.path/f).read_bytes()


def test_bad_arguments_fail_before_work(synth_store, reg, tmp_path):
    with pytest.raises(ValueError, match='phase must be below'): build(synth_store, reg, tmp_path/'t', variants=('p4',))
    with pytest.raises(ValueError, match='unknown part'): build(synth_store, reg, tmp_path/'t', variants=('zoom',))
    assert not (tmp_path/'t').exists()
    (tmp_path/'busy').mkdir(); (tmp_path/'busy'/'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='is not a token store'): build(synth_store, reg, tmp_path/'busy')


def test_open_token_store_opens_current_and_refuses_stale(synth_store, reg, tmp_path, monkeypatch):
    monkeypatch.setenv('WILLIE_HOME', str(tmp_path/'home'))
    from willie.tokens.store import MissingTokensError, TokenStoreError, open_token_store, token_store_path
    missing = r"make it with `willie tokenize --tokenizer tiny`.*prepare --download"
    with pytest.raises(MissingTokensError, match=missing):
        open_token_store('tiny', weights_dir=reg)                       # missing: an error, and nothing built
    assert not (tmp_path/'home').exists()
    built = build(synth_store, reg, token_store_path('tiny'), variants=('p0', 'p2'))
    assert built.path == tmp_path/'home'/'tokens'/'film_64_tiny'
    # there and current: opened, not rebuilt
    got = open_token_store('tiny', weights_dir=reg)
    assert (got.variants == ['p0', 'p2']
            and (got.path/'tokens.npy').read_bytes() == (built.path/'tokens.npy').read_bytes())
    assert open_token_store('tiny', variants=('p2',), weights_dir=reg).variants == ['p0', 'p2']
    with pytest.raises(TokenStoreError, match=r"lacks the variants \['p1'\]: rebuild it .*--variants p0,p2,p1 --force"):
        open_token_store('tiny', variants=('p1',), weights_dir=reg)              # opening never rebuilds
    assert (got.path/'tokens.npy').read_bytes() == (built.path/'tokens.npy').read_bytes()
    save_weights(tiny(seed=3), 'tiny', weights_dir=reg)
    with pytest.raises(StaleTokensError, match='--force'): open_token_store('tiny', weights_dir=reg)
