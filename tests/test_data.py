"""Tests of willie.data.film: download, reading, bars, cuts, the clip store, ClipDataset. Synthetic videos; the film
where present."""
import json, os, shutil
from pathlib import Path
import numpy as np, pytest, torch
import willie.data.film as wd
from willie.data.film import (ChecksumError, ClipDataset, ClipStore, DownloadError, StoreError, VideoError,
                              check_video, choose_video_file, detect_bars, download, film_store, prepare, read_gray,
                              sample_frames)


# --- download ---------------------------------------------------------------------------------------------------------
def test_choose_video_file_rule():
    files = [dict(name='low.mp4', height='240', size='900'), dict(name='a.mp4', height='480', size='100'),
             dict(name='b.mp4', height='480', size='200'), dict(name='big.ogv', height='720', size='999'),
             dict(name='n.mp4')]
    assert choose_video_file({'files': files})['name'] == 'b.mp4'
    with pytest.raises(ValueError, match='no .mp4 file'):
        choose_video_file({'files': [dict(name='x.ogv', format='Ogg Video')]})

@pytest.fixture
def served(archive, synth_video):
    "The fake archive serving the synthetic video as the best mp4, next to decoys."
    data = synth_video.read_bytes()
    archive.add('Steamboat Willie.mp4', data, height=480, format='h.264')
    archive.add('small.mp4', b'x' * 10, height=240)
    archive.add('willie.ogv', b'y' * 10, height=480)
    return archive, data

def test_download_normal(served, tmp_path):
    archive, data = served
    got = download(tmp_path/'dl', base_url=archive.base_url, progress=False)
    assert got == tmp_path/'dl'/'Steamboat Willie.mp4' and got.read_bytes() == data
    assert not list((tmp_path/'dl').glob('*.part'))
    n = len(archive.requests)
    assert download(tmp_path/'dl', base_url=archive.base_url, progress=False) == got   # already there: no download
    assert [p for p, _ in archive.requests[n:]] == ['/metadata/steamboat-willie-mickey']

def test_download_interrupted_then_resumed(served, tmp_path):
    archive, data = served
    archive.cut_next = True
    with pytest.raises(DownloadError, match='run again to resume'):
        download(tmp_path, base_url=archive.base_url, retries=0, progress=False)
    part = tmp_path/'Steamboat Willie.mp4.part'
    assert 0 < part.stat().st_size < len(data) and not (tmp_path/'Steamboat Willie.mp4').exists()
    have = part.stat().st_size
    got = download(tmp_path, base_url=archive.base_url, progress=False)
    assert got.read_bytes() == data and not part.exists()
    assert archive.requests[-1][1] == f'bytes={have}-'   # resumed with a Range request

def test_download_retries_within_one_call(served, tmp_path):
    archive, data = served
    archive.cut_next = True
    got = download(tmp_path, base_url=archive.base_url, retries=2, progress=False)
    assert got.read_bytes() == data
    ranges = [r for p, r in archive.requests if p.startswith('/download/')]
    assert ranges[0] is None and ranges[1].startswith('bytes=') and len(ranges) == 2

def test_download_checksum_mismatch(archive, synth_video, tmp_path):
    archive.add('film.mp4', synth_video.read_bytes(), height=480, md5='0' * 32)
    with pytest.raises(ChecksumError, match='md5 is .* the metadata says 0000'):
        download(tmp_path/'dl', base_url=archive.base_url, progress=False)
    assert list((tmp_path/'dl').iterdir()) == []   # neither film.mp4 nor film.mp4.part


# --- reading ----------------------------------------------------------------------------------------------------------
def test_check_and_read(synth_video):
    info = check_video(synth_video)
    assert (info.width, info.height, info.fps, info.n_frames) == (96, 80, 24.0, 48)
    frames = read_gray(synth_video)
    assert frames.shape == (48, 80, 96) and frames.dtype == np.uint8

def test_bars(barred_video, synth_video):
    assert detect_bars(sample_frames(barred_video)) == (8, 0, 88, 80)
    assert detect_bars(sample_frames(synth_video)) == (0, 0, 96, 80)
    letterbox = np.zeros((4, 60, 80), np.uint8); letterbox[:, 10:50] = 120
    assert detect_bars(letterbox) == (0, 10, 80, 50)

def test_resize_is_antialiased():
    stripes = np.tile(np.array([0, 255], np.uint8), (2, 64, 32))
    small = wd.resize_frames(stripes, 16)
    assert small.shape == (2, 16, 16) and abs(small.mean() - 127.5) < 2


# --- bad inputs: a specific error and nothing left behind -------------------------------------------------------------
def _truncated(video, tmp_path):
    data = video.read_bytes()
    (p := tmp_path/'truncated.mp4').write_bytes(data[:min(100_000, len(data)//2)])
    return p

BAD = {
    'missing':   (lambda tp, **f: tp/'missing.mp4', FileNotFoundError, 'video not found'),
    'empty':     (lambda tp, **f: (tp/'empty.mp4').write_bytes(b'') or tp/'empty.mp4', VideoError,
                  r'empty \(0 bytes\)'),
    'text':      (lambda tp, **f: (tp/'notes.mp4').write_text('hello\n' * 50) and tp/'notes.mp4', VideoError,
                  'not a video PyAV can open'),
    'truncated': (lambda tp, synth_video, **f: _truncated(synth_video, tp), VideoError, 'truncated'),
    'audio':     (lambda tp, audio_only, **f: audio_only, VideoError, r'has no video stream \(found: audio\)'),
}

@pytest.mark.parametrize('kind', list(BAD))
def test_bad_input(kind, tmp_path, synth_video, audio_only):
    make, exc, msg = BAD[kind]
    src = make(tmp_path, synth_video=synth_video, audio_only=audio_only)
    out = tmp_path/'stores'/'bad_64'
    with pytest.raises(exc, match=msg): prepare(src, out, progress=False)
    assert not out.exists() and not list(tmp_path.rglob('*tmp-*'))

def test_still_image(still_image, tmp_path):
    out = tmp_path/'st'
    with pytest.raises(VideoError, match=r'still image \((png|jpeg|image2)\w*\)'):
        prepare(still_image, out, progress=False)
    assert not out.exists()

def test_truncated_film(film, tmp_path):
    src = _truncated(film, tmp_path)
    with pytest.raises(VideoError, match='truncated'): prepare(src, tmp_path/'t', progress=False)
    assert not (tmp_path/'t').exists() and [p.name for p in tmp_path.iterdir()] == ['truncated.mp4']

def test_interrupted_prepare_leaves_nothing(synth_video, tmp_path, monkeypatch):
    def boom(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(wd, 'cut_features', boom)
    with pytest.raises(KeyboardInterrupt): prepare(synth_video, tmp_path/'s', size=32, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['synth.mp4']


# --- the store --------------------------------------------------------------------------------------------------------
def test_prepare_store(barred_video, tmp_path):
    s = prepare(barred_video, tmp_path/'s', size=32, progress=False)
    assert isinstance(s.frames, np.memmap) and s.frames.shape == (48, 32, 32) and s.frames.dtype == np.uint8
    m = json.loads((tmp_path/'s'/'manifest.json').read_text())
    assert m['bars'] == [8, 0, 88, 80] and m['crop'] == [8, 0, 88, 80] and m['n_frames'] == 48 and m['fps'] == 24
    assert m['source']['sha256'] == wd.file_hash(barred_video) and m['version'] == wd.STORE_VERSION
    assert s.shots.tolist() == [[0, 16], [16, 32], [32, 48]]
    assert s.frames[:, :, 0].mean() > 40   # the bars are cropped away

def test_prepare_idempotent(synth_video, tmp_path):
    s = prepare(synth_video, tmp_path/'s', size=32, progress=False)
    mtime = (s.path/'frames.npy').stat().st_mtime_ns
    assert prepare(synth_video, tmp_path/'s', size=32, progress=False).frames.shape == (48, 32, 32)
    assert (s.path/'frames.npy').stat().st_mtime_ns == mtime                          # no work
    # other size: rebuilt
    assert prepare(synth_video, tmp_path/'s', size=16, progress=False).frames.shape == (48, 16, 16)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['s', 'synth.mp4']

def test_prepare_refuses_foreign_folder(synth_video, tmp_path):
    (tmp_path/'mine').mkdir(); (tmp_path/'mine'/'thesis.tex').write_text('x')
    with pytest.raises(FileExistsError, match='not a clip store'): prepare(synth_video, tmp_path/'mine', progress=False)

def test_store_mismatch(synth_store, tmp_path):
    bad = shutil.copytree(synth_store.path, tmp_path/'bad')
    np.save(bad/'frames.npy', np.zeros((95, 32, 32), np.uint8))
    with pytest.raises(StoreError,
                       match=r'frames.npy is uint8 \(95, 32, 32\) but the manifest says uint8 \(96, 32, 32\)'):
        ClipStore(bad)
    np.save(bad/'frames.npy', np.zeros((96, 32, 32), np.float32))
    with pytest.raises(StoreError, match='float32'): ClipStore(bad)
    (bad/'frames.npy').write_bytes(b'garbage')
    with pytest.raises(StoreError, match='not a readable .npy'): ClipStore(bad)
    (bad/'manifest.json').unlink()
    with pytest.raises(StoreError, match='not a clip store'): ClipStore(bad)


# --- ClipDataset ------------------------------------------------------------------------------------------------------
def test_dataset_items(synth_store):
    ds = ClipDataset(synth_store, clip_len=8, split='all')
    x = ds[3]
    assert x.shape == (1, 8, 32, 32) and x.dtype == torch.float32 and -1 <= x.min() <= x.max() <= 1
    assert torch.equal(x, ds[3])
    s = int(ds.starts[3])
    assert torch.allclose((x[0] + 1) * 127.5, torch.from_numpy(np.array(synth_store.frames[s:s+8])).float(), atol=1e-3)
    assert len(ds) == 2 * (30 - 8 + 1) + (36 - 8 + 1)     # shots of 30, 30, 36 frames: every start
    assert len(ClipDataset(synth_store, 8, 'all', stride=8)) == 3 + 3 + 4

@pytest.mark.parametrize('shot_aware', [True, False])
def test_dataset_split_no_leak(synth_store, shot_aware):
    kw = dict(clip_len=6, block_len=12, val_every=3, shot_aware=shot_aware)
    tr, va = ClipDataset(synth_store, split='train', **kw), ClipDataset(synth_store, split='val', stride=3, **kw)
    train = {f for i in range(len(tr)) for f in tr.frame_range(i)}
    val = {f for i in range(len(va)) for f in va.frame_range(i)}
    assert train and val and not train & val
    assert all(f // 12 % 3 == 2 for f in val)                       # blocks 2, 5 are val (frames 24-35, 60-71)
    shot = lambda f: int(np.searchsorted(synth_store.shots[:, 1], f, side='right'))
    crosses = [len({shot(f) for f in ds.frame_range(i)}) > 1 for ds in (tr, va) for i in range(len(ds))]
    assert not any(crosses) if shot_aware else any(crosses)

def test_dataset_errors(synth_store):
    with pytest.raises(ValueError, match="split must be"): ClipDataset(synth_store, split='test')
    with pytest.raises(ValueError, match='no 40-frame window'): ClipDataset(synth_store, clip_len=40)

def test_augment(synth_store):
    ds = ClipDataset(synth_store, clip_len=4, split='all', stride=4)
    batch = torch.stack([ds[i] for i in range(8)])
    a = ds.augment(batch, torch.Generator().manual_seed(1))
    assert a.shape == batch.shape and a.abs().max() <= 1
    assert torch.equal(a, ds.augment(batch, torch.Generator().manual_seed(1)))
    assert not torch.equal(a, ds.augment(batch, torch.Generator().manual_seed(2)))
    flip_only = ClipDataset(synth_store, clip_len=4, split='all', scale=(1., 1.), flip=1.)
    assert torch.allclose(flip_only.augment(batch, torch.Generator()), batch.flip(-1), atol=1e-5)

def test_with_step_batches(synth_store):
    train = pytest.importorskip('willie.train.loop')
    if not hasattr(train, 'step_batches'): pytest.skip('willie.train.loop.step_batches not written yet')
    ds = ClipDataset(synth_store, clip_len=4, split='train', block_len=10, val_every=3)
    bf = train.step_batches(ds, 4, seed=0, augment=ds.augment)
    b = bf(3)
    assert b.shape == (4, 1, 4, 32, 32) and torch.equal(b, bf(3))


# --- paths ------------------------------------------------------------------------------------------------------------
def test_film_store_without_film_says_how(tmp_path, monkeypatch):
    monkeypatch.delenv('WILLIE_FILM', raising=False)
    monkeypatch.setenv('WILLIE_HOME', str(tmp_path/'home'))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match='willie prepare --download'): film_store(64)

def test_film_path_env(tmp_path, monkeypatch, synth_video):
    monkeypatch.setenv('WILLIE_FILM', str(synth_video))
    assert wd.film_path() == synth_video
    monkeypatch.setenv('WILLIE_HOME', str(tmp_path/'home'))
    s = film_store(16, progress=False)
    assert s.path == tmp_path/'home'/'stores'/'film_16' and s.frames.shape == (48, 16, 16)
    monkeypatch.setenv('WILLIE_FILM', str(tmp_path/'gone.mp4'))
    with pytest.raises(FileNotFoundError, match='does not exist'): wd.film_path()


# --- the real film (skipped without it) -------------------------------------------------------------------------------
def test_film_info(film):
    info = check_video(film)
    assert (info.width, info.height) == (576, 480) and abs(info.fps - 23.976) < 0.01 and info.n_frames > 9000
    assert detect_bars(sample_frames(film)) == (0, 0, 576, 480)

def test_opening_bars(film):
    opening = film.parent/'opening_7s_640x480.mp4'
    if not opening.exists(): pytest.skip(f'{opening.name} is not next to the film')
    x0, y0, x1, y1 = detect_bars(sample_frames(opening))
    assert x0 > 20 and 640 - x1 > 20 and (y0, y1) == (0, 480)

def test_truncated_faststart(synth_video, tmp_path):
    "An mp4 with its index first (faststart) still opens when cut short: the frame count gives it away."
    import av
    fast = tmp_path/'fast.mp4'
    with av.open(str(synth_video)) as src, av.open(str(fast), 'w', options={'movflags': 'faststart'}) as dst:
        s = dst.add_stream_from_template(src.streams.video[0])
        for pkt in src.demux(src.streams.video[0]):
            if pkt.dts is not None: pkt.stream = s; dst.mux(pkt)
    (cut := tmp_path/'cut.mp4').write_bytes(fast.read_bytes()[:fast.stat().st_size // 2])
    with pytest.raises(VideoError, match='truncated'):
        prepare(cut, tmp_path/'out', size=16, progress=False)
    assert not (tmp_path/'out').exists() and not list(tmp_path.glob('.*tmp-*'))
