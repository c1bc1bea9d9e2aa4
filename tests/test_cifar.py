"Tests of willie.cifar.data: archive errors, both layouts, caching, download checksum, the real archive where present."
import hashlib, http.server, io, os, pickle, tarfile, threading
from functools import partial
from pathlib import Path
import numpy as np, pytest, torch
from willie.cifar import data as cifar
from willie.cifar.data import load_cifar, read_cifar_archive, cifar_tensors, cifar_path, download_cifar, CIFAR_CLASSES


def make_tar(path, files:dict):
    with tarfile.open(path, 'w:gz') as tf:
        for name, data in files.items():
            ti = tarfile.TarInfo(name); ti.size = len(data); tf.addfile(ti, io.BytesIO(data))
    return path

def jpeg(value):
    from PIL import Image
    b = io.BytesIO(); Image.fromarray(np.full((32, 32, 3), value, np.uint8)).save(b, 'JPEG', quality=95)
    return b.getvalue()

@pytest.fixture
def small_jpeg_tar(tmp_path):
    files = {f'{s}/{c}/{i:04d}.jpg': jpeg(20*k + i)
             for s in ('train', 'test') for k, c in enumerate(['cat', 'airplane']) for i in range(3)}
    return make_tar(tmp_path/'small.tar.gz', files)

def python_release_tar(path, n=4):
    rng = np.random.default_rng(0)
    files = {}
    for name in [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']:
        d = {b'data': rng.integers(0, 256, (n, 3072), dtype=np.uint8), b'labels': list(rng.integers(0, 10, n))}
        files[f'cifar-10-batches-py/{name}'] = pickle.dumps(d)
    files['cifar-10-batches-py/batches.meta'] = pickle.dumps({b'label_names': [c.encode() for c in CIFAR_CLASSES]})
    return make_tar(path, files), files


def test_garbage_file(tmp_path):
    p = tmp_path/'garbage.tar.gz'; p.write_bytes(os.urandom(2000))
    with pytest.raises(ValueError, match='not a readable CIFAR-10 archive'): load_cifar('train', p, tmp_path/'cache')
    assert not (tmp_path/'cache').exists() or not any((tmp_path/'cache').iterdir())

def test_truncated_archive(tmp_path, small_jpeg_tar):
    p = tmp_path/'trunc.tar.gz'; p.write_bytes(small_jpeg_tar.read_bytes()[:400])
    with pytest.raises(ValueError, match='truncated or damaged'): load_cifar('test', p, tmp_path/'cache', expected=None)

def test_wrong_layout(tmp_path):
    p = make_tar(tmp_path/'other.tar.gz', {'readme.txt': b'hello', 'images/a.png': b'x'})
    with pytest.raises(ValueError, match='unrecognised layout.*images/a.png'): load_cifar('train', p, tmp_path/'cache')

def test_missing_split_and_unknown_class(tmp_path):
    p = make_tar(tmp_path/'trainonly.tar.gz', {'train/cat/0000.jpg': jpeg(0)})
    with pytest.raises(ValueError, match='no test/<class>'): read_cifar_archive(p, expected=None)
    p = make_tar(tmp_path/'unknown.tar.gz', {'train/cow/0000.jpg': jpeg(0), 'test/cat/0000.jpg': jpeg(0)})
    with pytest.raises(ValueError, match="unknown class folder 'cow'"): read_cifar_archive(p, expected=None)

def test_incomplete_archive(small_jpeg_tar, tmp_path):
    with pytest.raises(ValueError, match='train has 6 images, expected 50000'):
        load_cifar('train', small_jpeg_tar, tmp_path/'cache')

def test_bad_split(small_jpeg_tar, tmp_path):
    with pytest.raises(ValueError, match="split must be"): load_cifar('val', small_jpeg_tar, tmp_path/'cache')

def test_jpeg_layout_and_cache(small_jpeg_tar, tmp_path, monkeypatch):
    x, y = load_cifar('train', small_jpeg_tar, tmp_path/'cache', expected=None)
    assert x.shape == (6, 32, 32, 3) and x.dtype == np.uint8 and y.dtype == np.int64
    assert y.tolist() == [0, 0, 0, 3, 3, 3]            # sorted by class index, then number
    assert np.abs(x.reshape(6, -1).mean(1) - [20, 21, 22, 0, 1, 2]).max() < 2
    dirs = list((tmp_path/'cache').iterdir())
    assert len(dirs) == 1 and (dirs[0]/'done').exists() and (dirs[0]/'test_x.npy').exists()
    # the second call reads the cache and never decodes
    monkeypatch.setattr(cifar, 'read_cifar_archive', lambda *a, **k: pytest.fail('decoded twice'))
    x2, y2 = load_cifar('train', small_jpeg_tar, tmp_path/'cache', expected=None)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    xt, yt = cifar_tensors('test', path=small_jpeg_tar, cache_dir=tmp_path/'cache', expected=None)
    assert xt.shape == (6, 3, 32, 32) and xt.dtype == torch.float32 and -1 <= xt.min() and xt.max() <= 1
    xu, _ = cifar_tensors('test', as_float=False, path=small_jpeg_tar, cache_dir=tmp_path/'cache', expected=None)
    assert xu.dtype == torch.uint8 and torch.allclose(xu.float()/127.5 - 1, xt)

def test_interrupted_decode_leaves_no_cache(small_jpeg_tar, tmp_path, monkeypatch):
    def boom(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(np, 'save', boom)
    with pytest.raises(KeyboardInterrupt): load_cifar('train', small_jpeg_tar, tmp_path/'cache', expected=None)
    assert list((tmp_path/'cache').iterdir()) == []

def test_python_release_layout(tmp_path):
    p, files = python_release_tar(tmp_path/'cifar-10-python.tar.gz')
    out = read_cifar_archive(p, expected={'train': 20, 'test': 4})
    d = pickle.loads(files['cifar-10-batches-py/data_batch_1'])
    assert out['train'][0].shape == (20, 32, 32, 3)
    assert np.array_equal(out['train'][0][0], d[b'data'][0].reshape(3, 32, 32).transpose(1, 2, 0))
    assert out['train'][1][:4].tolist() == [int(v) for v in d[b'labels']]

def test_python_release_missing_batch(tmp_path):
    _, files = python_release_tar(tmp_path/'full.tar.gz')
    del files['cifar-10-batches-py/data_batch_3']
    p = make_tar(tmp_path/'broken.tar.gz', files)
    with pytest.raises(ValueError, match='data_batch_3 is missing'): read_cifar_archive(p, expected=None)

def test_cifar_path_env(tmp_path, monkeypatch):
    monkeypatch.setenv('WILLIE_CIFAR', str(tmp_path/'nope.tar.gz'))
    with pytest.raises(FileNotFoundError, match='WILLIE_CIFAR'): cifar_path()
    (tmp_path/'here.tar.gz').write_bytes(b'x')
    monkeypatch.setenv('WILLIE_CIFAR', str(tmp_path/'here.tar.gz'))
    assert cifar_path() == tmp_path/'here.tar.gz'

def test_cifar_path_found_upward(tmp_path, monkeypatch):
    monkeypatch.delenv('WILLIE_CIFAR', raising=False)
    shared = tmp_path/'shared/data/cifar10'; shared.mkdir(parents=True)
    (shared/'cifar10_jpeg_q75.tar.gz').write_bytes(b'x')
    deep = tmp_path/'main/nbs'; deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert cifar_path() == shared/'cifar10_jpeg_q75.tar.gz'

def test_download_checksum(tmp_path):
    payload = os.urandom(5000)
    (tmp_path/'srv').mkdir(); (tmp_path/'srv/c.tar.gz').write_bytes(payload)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path/'srv'))
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f'http://127.0.0.1:{srv.server_address[1]}/c.tar.gz'
        with pytest.raises(ValueError, match='MD5'): download_cifar(tmp_path/'dl/bad.tar.gz', url=url, md5='0'*32)
        assert list((tmp_path/'dl').iterdir()) == []       # nothing half-written left behind
        p = download_cifar(tmp_path/'dl/good.tar.gz', url=url, md5=hashlib.md5(payload).hexdigest())
        assert p.read_bytes() == payload
    finally: srv.shutdown()

def _real_archive():
    try: return cifar_path(download=False)
    except FileNotFoundError: return None

@pytest.mark.skipif(_real_archive() is None,
                    reason='no local CIFAR-10 archive ($WILLIE_CIFAR or ../shared/data/cifar10)')
def test_real_archive():
    x, y = load_cifar('test')
    assert x.shape == (10000, 32, 32, 3) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [1000]*10
    assert 80 < x.mean() < 160
