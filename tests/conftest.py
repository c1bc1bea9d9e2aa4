"""Shared pytest fixtures: small synthetic videos (PyAV), bad inputs, a prepared synthetic clip store, the real film
(skipped when absent), and a fake archive.org served from 127.0.0.1. Generic on purpose: use them in any test."""
import hashlib, json, re, socket, sys, threading, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import numpy as np, pytest

try: import willie  # noqa: F401
except ImportError: sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a checkout that is not pip-installed

from willie.data.film import FILM_NAME, film_path, prepare, synthetic_video


@pytest.fixture
def make_video(tmp_path):
    """Factory: `make_video(name='synth.mp4', **kw)` writes `willie.data.film.synthetic_video` (48 frames 96x80, cuts at
    16 and 32) to tmp_path."""
    def make(name='synth.mp4', **kw): return synthetic_video(tmp_path/name, **kw)
    return make

@pytest.fixture
def synth_video(make_video):
    "48 frames, 96x80, 24 fps, hard cuts at frames 16 and 32, no bars."
    return make_video()

@pytest.fixture
def barred_video(make_video):
    "Like synth_video with 8-pixel black bars on both sides (content box x 8..88)."
    return make_video('barred.mp4', bars=8)

@pytest.fixture(scope='session')
def synth_store(tmp_path_factory):
    "A prepared 32x32 store of a 96-frame synthetic video (cuts at 30 and 60), shared by the session: do not modify it."
    d = tmp_path_factory.mktemp('synth_store')
    vid = synthetic_video(d/'synth96.mp4', n_frames=96, cuts=(30, 60))
    return prepare(vid, d/'store_32', size=32, progress=False)

@pytest.fixture
def audio_only(tmp_path):
    "An .mp4 with one AAC audio stream and no video."
    import av
    path = tmp_path/'audio_only.mp4'
    with av.open(str(path), 'w') as c:
        s = c.add_stream('aac', rate=16000, layout='mono')
        t = np.arange(16000 // 2) / 16000
        frame = av.AudioFrame.from_ndarray((0.1 * np.sin(2*np.pi*440*t)).astype(np.float32)[None],
                                           format='fltp', layout='mono')
        frame.sample_rate = 16000
        for p in s.encode(frame): c.mux(p)
        for p in s.encode(): c.mux(p)
    return path

@pytest.fixture(params=['png', 'jpg'])
def still_image(request, tmp_path):
    "A 64x48 still image, PNG or JPEG."
    import matplotlib.pyplot as plt
    path = tmp_path/f'still.{request.param}'
    plt.imsave(path, np.random.default_rng(0).integers(0, 255, (48, 64)).astype(np.uint8), cmap='gray')
    return path

@pytest.fixture
def film():
    "The real film (`willie.data.film.film_path()`); skips the test when it is not on this machine."
    try: return film_path()
    except FileNotFoundError:
        pytest.skip(f"the film {FILM_NAME} is not on this machine (set $WILLIE_FILM or put it in "
                    "../shared/data/willie/)")


# --- a fake archive.org ----------------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def _send(self, code, body=b'', headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header('Content-Length', str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        srv = self.server
        srv.requests.append((self.path, self.headers.get('Range')))
        if self.path == f'/metadata/{srv.item}':
            return self._send(200, json.dumps(srv.meta).encode(), [('Content-Type', 'application/json')])
        prefix = f'/download/{srv.item}/'
        name = urllib.parse.unquote(self.path[len(prefix):]) if self.path.startswith(prefix) else None
        if name not in srv.files: return self._send(404, b'not found')
        data, start = srv.files[name], 0
        if rng := self.headers.get('Range'):
            start = int(re.fullmatch(r'bytes=(\d+)-', rng)[1])
            if start >= len(data): return self._send(416, headers=[('Content-Range', f'bytes */{len(data)}')])
        body = data[start:]
        self.send_response(206 if rng else 200)
        if rng: self.send_header('Content-Range', f'bytes {start}-{len(data)-1}/{len(data)}')
        self.send_header('Accept-Ranges', 'bytes'); self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if srv.cut_next:  # announce the whole body, send half, drop the connection
            srv.cut_next = False
            self.wfile.write(body[:len(body)//2]); self.wfile.flush()
            try: self.connection.shutdown(socket.SHUT_RDWR)
            except OSError: pass
            self.close_connection = True
            return
        self.wfile.write(body)

class FakeArchive:
    """A local archive.org: `add(name, data, **fields)`, `.base_url`, `.requests` [(path, Range)], `.cut_next = True` to
    drop one download halfway."""
    def __init__(self, item='steamboat-willie-mickey'):
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        self.httpd.item, self.httpd.files, self.httpd.requests, self.httpd.cut_next = item, {}, [], False
        self.httpd.meta = {'metadata': {'identifier': item}, 'files': []}
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True); self.thread.start()
        self.base_url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
    def add(self, name, data:bytes, **fields):
        """Serve `data` as file `name`; metadata gets size/md5/sha1 (override with fields, e.g. md5='0'*32) and any
        extras."""
        self.httpd.files[name] = data
        entry = dict(name=name, source='original', size=str(len(data)), md5=hashlib.md5(data).hexdigest(),
                     sha1=hashlib.sha1(data).hexdigest())
        self.httpd.meta['files'].append({**entry, **{k: str(v) for k, v in fields.items()}})
    requests = property(lambda self: self.httpd.requests)
    cut_next = property(lambda self: self.httpd.cut_next, lambda self, v: setattr(self.httpd, 'cut_next', v))
    def close(self): self.httpd.shutdown(); self.httpd.server_close()

@pytest.fixture
def archive():
    "A `FakeArchive` on 127.0.0.1 (no internet needed); add files with `archive.add(name, bytes, height=480)`."
    a = FakeArchive(); yield a; a.close()
