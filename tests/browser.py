"""Open notebooks in a real JupyterLab in headless Chromium, as a learner would, and drive their widgets.

A small harness on Playwright's sync API (no pytest in here; `tests/test_browser.py` shows it in use):

    from browser import unavailable, load_notebook, JupyterLab, Chromium

    if why := unavailable(): ...                                 # skip: no /usr/bin/chromium, playwright or jupyterlab
    with JupyterLab({'03a_viz.ipynb': load_notebook('nbs/03a_viz.ipynb')}) as lab, Chromium() as browser:
        nb = browser.open_notebook(lab, '03a_viz.ipynb')          # a `Notebook`; raises KernelDialog on 'Select Kernel'
        nb.run_all()                                              # raises CellError if a cell fails
        before = nb.image_bytes(0)
        nb.move_slider(0, +3)                                     # keyboard arrows on the first IntSlider
        nb.wait_image_change(0, before)
        nb.click_button('play'); nb.screenshot('shot.png')
        # several notebooks in one page: page = browser.open_lab(lab); Notebook(page, lab, name).open() ... .close()

`JupyterLab` serves *copies* of the notebooks from a temporary folder (paths, or name -> nbformat dict) on a free
127.0.0.1 port with a random token, with fresh Jupyter config/data/runtime folders (no user settings, no saved
workspace, no news fetched); `Chromium` is Debian's `/usr/bin/chromium` with a fresh profile (Playwright's own
browser download is not needed). Both always tear down (server and kernels killed, browser closed, folders removed),
and every wait is bounded (WILLIE_BROWSER_SLOW=3 triples every timeout, for a machine starved by training runs).
`python tests/browser.py NOTEBOOK.ipynb OUT.png [--steps 3]` runs a notebook and screenshots its first slider
widget's cell (how docs/assets/jupyterlab_scrubber.png was made).
"""
from __future__ import annotations

import atexit, base64, functools, importlib.util, json, os, secrets, shutil, signal, socket, subprocess, sys, tempfile
import time, urllib.request
from pathlib import Path

CHROMIUM = os.environ.get('WILLIE_CHROMIUM', '/usr/bin/chromium')
# every timeout is multiplied by this (e.g. WILLIE_BROWSER_SLOW=3 on a machine busy with training runs)
SLOW = float(os.environ.get('WILLIE_BROWSER_SLOW', '1'))
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync']


def unavailable() -> str | None:
    "Why browser tests cannot run on this machine (no Chromium, no `playwright` module), or None when they can."
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f'no Chromium at {CHROMIUM} (apt-get install chromium, or set WILLIE_CHROMIUM)'
    try: import playwright.sync_api  # noqa: F401
    except ImportError: return "the 'playwright' Python package is not installed (pip install playwright)"
    if importlib.util.find_spec('jupyterlab') is None: return "the 'jupyterlab' package is not installed"
    return None


def load_notebook(path, drop=('nbdev.nbdev_export',)) -> dict:
    """A notebook's JSON without the cells whose source contains any of `drop` (by default nbdev's closing
    `nbdev_export()` cell, which fails in a temporary copy: no settings.ini there). Pass the dict to `JupyterLab`."""
    nb = json.loads(Path(path).read_text())
    nb['cells'] = [c for c in nb['cells'] if not any(d in ''.join(c['source']) for d in drop)]
    return nb


class KernelDialog(AssertionError):
    "JupyterLab asked the learner to pick a kernel (the notebook has no usable `metadata.kernelspec`)."

class CellError(AssertionError):
    "A cell raised while running the notebook in the browser."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _kill_group(proc: subprocess.Popen, grace: float = 5.0):
    "SIGTERM the process group we started (server and its kernels), SIGKILL it after `grace` seconds."
    if proc.poll() is not None: return
    try: os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError: return
    try: proc.wait(grace)
    except subprocess.TimeoutExpired: pass
    try: os.killpg(proc.pid, signal.SIGKILL)  # kernels left behind, if any
    except ProcessLookupError: pass
    try: proc.wait(grace)
    except subprocess.TimeoutExpired: pass


class JupyterLab:
    "A JupyterLab server on 127.0.0.1 serving copies of `notebooks`; use as a context manager."
    def __init__(self, notebooks, # paths, or a dict name -> path | nbformat dict (JSON-able)
                 timeout: float = 120, # seconds to wait for the server to answer (times SLOW)
                 env: dict | None = None, # extra environment for the server and its kernels
                ):
        self.notebooks = notebooks if isinstance(notebooks, dict) else {Path(p).name: Path(p) for p in notebooks}
        self.timeout, self.extra_env = timeout, env or {}
        self.proc = self.tmp = None

    def __enter__(self): self.start(); return self
    def __exit__(self, *exc): self.stop()

    def start(self):
        self.tmp = Path(tempfile.mkdtemp(prefix='willie-lab-'))
        try: self._start()
        except BaseException: self.stop(); raise
        return self

    def _start(self):
        self.root = self.tmp / 'nbs'; self.root.mkdir()
        for name, nb in self.notebooks.items():
            dest = self.root / name; dest.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(nb, dict): dest.write_text(json.dumps(nb, indent=1))
            else: shutil.copyfile(nb, dest)
        jdirs = {k: self.tmp / k.lower() for k in ('JUPYTER_CONFIG_DIR', 'JUPYTER_DATA_DIR',
                                                   'JUPYTER_RUNTIME_DIR', 'IPYTHONDIR')}
        for d in jdirs.values(): d.mkdir()
        settings = jdirs['JUPYTER_CONFIG_DIR'] / 'lab' / 'user-settings' / '@jupyterlab' / 'apputils-extension'
        settings.mkdir(parents=True)  # no news / update checks: no toast in screenshots, no request off the machine
        (settings / 'notification.jupyterlab-settings').write_text(json.dumps({'fetchNews': 'false',
                                                                               'checkForUpdates': False}))
        env = {**os.environ, **{k: str(v) for k, v in jdirs.items()}, 'JUPYTER_PLATFORM_DIRS': '1',
               'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1'), 'PYTHONUNBUFFERED': '1', **self.extra_env}
        env.pop('JUPYTER_PATH', None); env.pop('JUPYTER_TOKEN', None)
        self.token, self.port = secrets.token_hex(16), _free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ServerApp.ip=127.0.0.1',
               f'--ServerApp.port={self.port}', '--ServerApp.port_retries=0',
               f'--IdentityProvider.token={self.token}', f'--ServerApp.root_dir={self.root}',
               '--LabApp.expose_app_in_browser=True',  # window.jupyterapp: run commands, read kernel state
               '--LabApp.news_url=', '--ServerApp.log_level=WARN']
        if hasattr(os, 'geteuid') and os.geteuid() == 0: cmd.append('--ServerApp.allow_root=True')  # containers, CI
        self.log_path = self.tmp / 'server.log'
        with open(self.log_path, 'wb') as log:
            self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self._atexit = functools.partial(_kill_group, self.proc)  # if the caller never stops us
        atexit.register(self._atexit)
        deadline = time.monotonic() + self.timeout * SLOW
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f'jupyter lab exited with code {self.proc.returncode}:\n{self.log()}')
            try:
                with urllib.request.urlopen(f'{self.url}/api/status?token={self.token}', timeout=2) as r:
                    if r.status == 200: return
            except OSError: pass
            if time.monotonic() > deadline:
                raise TimeoutError(f'jupyter lab did not answer on {self.url} '
                                   f'within {self.timeout * SLOW:.0f} s:\n{self.log()}')
            time.sleep(0.2)

    def notebook_url(self, name: str) -> str:
        "The URL that opens notebook `name` (relative to the served folder) in JupyterLab."
        return f'{self.url}/lab/tree/{urllib.request.pathname2url(name).lstrip("/")}?token={self.token}'

    def log(self, n: int = 3000) -> str:
        "The last `n` characters of the server's log."
        try: return self.log_path.read_text(errors='replace')[-n:]
        except (OSError, AttributeError): return ''

    def stop(self):
        if self.proc is not None:
            _kill_group(self.proc); atexit.unregister(self._atexit); self.proc = None
        if self.tmp is not None: shutil.rmtree(self.tmp, ignore_errors=True); self.tmp = None


class Chromium:
    "Headless Debian Chromium driven by Playwright, with a fresh profile; use as a context manager."
    def __init__(self, viewport=(1280, 900), # page size in CSS pixels
                 timeout: float = 60, # default seconds for every Playwright action and wait (times SLOW)
                ):
        self.viewport, self.timeout = viewport, timeout
        self._pw = self.context = self.profile = None

    def __enter__(self): self.start(); return self
    def __exit__(self, *exc): self.close()

    def start(self):
        from playwright.sync_api import sync_playwright
        self.profile = tempfile.mkdtemp(prefix='willie-chromium-')
        try:
            self._pw = sync_playwright().start()
            self.context = self._pw.chromium.launch_persistent_context(
                self.profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                timeout=self.timeout * SLOW * 1000, viewport={'width': self.viewport[0], 'height': self.viewport[1]})
            self.context.set_default_timeout(self.timeout * SLOW * 1000)
        except BaseException: self.close(); raise
        return self

    def new_page(self):
        "A new Playwright `Page`."
        return self.context.new_page()

    def open_lab(self, lab: JupyterLab, timeout: float = 120):
        """A new page with JupyterLab loaded (no document open); pass it as `page` to `open_notebook` to open several
        quickly."""
        page, timeout = self.new_page(), timeout * SLOW
        page.goto(f'{lab.url}/lab?token={lab.token}', timeout=timeout * 1000)
        page.wait_for_function('() => window.jupyterapp && window.jupyterapp.shell', polling=100,
                               timeout=timeout * 1000)
        page.evaluate('async (ms) => { await Promise.race([window.jupyterapp.restored, '
                      'new Promise(r => setTimeout(r, ms))]); }', timeout * 1000)
        return page

    def open_notebook(self, lab: JupyterLab, name: str, kernel: bool = True, page=None) -> 'Notebook':
        """Open notebook `name` of `lab` in a new page; with `kernel`, wait for its kernel (raising `KernelDialog` if
        asked to pick one)."""
        nb = Notebook(page or self.new_page(), lab, name)
        nb.open()
        if kernel: nb.wait_kernel()
        return nb

    def close(self):
        for f in (lambda: self.context and self.context.close(), lambda: self._pw and self._pw.stop()):
            try: f()
            except Exception: pass
        self.context = self._pw = None
        if self.profile: shutil.rmtree(self.profile, ignore_errors=True); self.profile = None


# JavaScript run in the page: find the notebook panel for a path through window.jupyterapp
# (LabApp.expose_app_in_browser)
_PANEL = """const panel = (path) => { if (!window.jupyterapp) return null;
  for (const w of window.jupyterapp.shell.widgets('main'))
    if (w.context && w.context.path === path && w.content && w.sessionContext) return w;
  return null; };"""


class Notebook:
    "One notebook open in JupyterLab in a Playwright `page`: run it, wait for it, find and drive its widgets."
    def __init__(self, page, lab: JupyterLab, name: str):
        self.page, self.lab, self.name = page, lab, name

    def js(self, body: str, arg=None):
        "Evaluate `body` (statements using `panel(path)`, `path`, `arg`; `return` a JSON-able value) in the page."
        return self.page.evaluate(f'async ([path, arg]) => {{ {_PANEL} {body} }}', [self.name, arg])

    def wait_js(self, body: str, arg=None, timeout: float = 30, what: str = 'condition'):
        "Poll `body` (as in `js`) until it returns something truthy; return that. TimeoutError after `timeout` s."
        from playwright.sync_api import TimeoutError as PWTimeout
        try:
            h = self.page.wait_for_function(f'([path, arg]) => {{ {_PANEL} {body} }}', arg=[self.name, arg],
                                            polling=100, timeout=timeout * SLOW * 1000)
            return h.json_value()
        except PWTimeout: raise TimeoutError(f'{self.name}: no {what} within {timeout * SLOW:.0f} s') from None

    def open(self, timeout: float = 120):
        "Open this notebook: in the JupyterLab already loaded in the page (command 'docmanager:open'), else by its URL."
        if self.page.url.startswith(self.lab.url) and self.page.evaluate('() => !!window.jupyterapp'):
            self.page.evaluate('(path) => { window.jupyterapp.commands.execute("docmanager:open", {path}); }',
                               self.name)
        else:
            self.page.goto(self.lab.notebook_url(self.name), timeout=timeout * SLOW * 1000)
        self.wait_js('return !!panel(path);', timeout=timeout, what='notebook panel')
        self.panel = self.page.locator('#' + self.js('return panel(path).id;'))
        return self

    def close(self):
        "Close the notebook's tab (any dialog dismissed, its kernel shut down, unsaved changes dropped)."
        self.dismiss_dialog()
        self.js("""const p = panel(path); if (!p) return true;
          try { await Promise.race([p.sessionContext.shutdown(), new Promise(r => setTimeout(r, 5000))]); } catch (e) {}
          p.dispose(); return true;""")

    def kernel_state(self, until: str = 'idle', timeout: float = 120) -> dict:
        """Wait until a dialog shows ({'dialog': title}) or the kernel is `until`: 'idle' (ready to run), or 'started'
        (JupyterLab chose a kernel and asked for it; it may still be starting) -> {'kernel': name, 'status': status}."""
        return self.wait_js("""
          const d = document.querySelector('.jp-Dialog');
          if (d) return {dialog: (d.querySelector('.jp-Dialog-header') || d).textContent.trim()};
          const p = panel(path), k = p && p.sessionContext.session && p.sessionContext.session.kernel;
          if (!k) return null;
          if (arg === 'started' || (p.sessionContext.isReady && k.status === 'idle'))
            return {kernel: k.name, status: k.status};
          return null;""", until, timeout=timeout, what=f'kernel {until} or dialog')

    def dialog(self) -> str | None:
        "The title of the JupyterLab dialog on show, or None."
        return self.page.evaluate("""() => { const d = document.querySelector('.jp-Dialog');
          return d ? (d.querySelector('.jp-Dialog-header') || d).textContent.trim() : null; }""")

    def dismiss_dialog(self):
        "Close any dialog on show with Escape (for 'Select Kernel': no kernel)."
        for _ in range(3):
            if self.dialog() is None: return
            self.page.keyboard.press('Escape'); self.page.wait_for_timeout(200)

    def wait_kernel(self, until: str = 'idle', timeout: float = 120) -> str:
        """Wait for the notebook's kernel to be `until` (see `kernel_state`); raise `KernelDialog` if JupyterLab asks
        which kernel to use."""
        st = self.kernel_state(until, timeout)
        if 'dialog' in st:
            raise KernelDialog(f'{self.name}: JupyterLab opened a {st["dialog"]!r} dialog instead of starting a kernel '
                               "(add metadata.kernelspec, e.g. {'name': 'python3', 'display_name': 'Python 3', "
                               "'language': 'python'})")
        return st['kernel']

    def kernel_status(self) -> str | None:
        "The kernel's status now ('idle', 'busy', 'starting', ...), or None without a kernel."
        return self.js('const p = panel(path), s = p && p.sessionContext.session; '
                       'return s && s.kernel ? s.kernel.status : null;')

    def command(self, name: str, args: dict | None = None):
        "Run a JupyterLab command (e.g. 'notebook:run-all-cells') on this notebook, without waiting for its result."
        self.js('const p = panel(path); window.jupyterapp.shell.activateById(p.id);'
                'window.__willie_cmd = window.jupyterapp.commands.execute(arg[0], arg[1] || {}); return true;',
                [name, args])

    def run_all(self, timeout: float = 180, check: bool = True, via: str = 'command'):
        """Run all cells and wait until they ran and the kernel is idle; raise `CellError` on a failed cell (`check`).
        `via`: 'command' (the lab command 'notebook:run-all-cells') or 'menu' (click Run > Run All Cells, as a
        learner)."""
        self.wait_kernel()
        self.js("""const p = panel(path); window.jupyterapp.shell.activateById(p.id); window.__willie_run = null;
          window.__willie_before = p.content.widgets.map(c => c.model.type === 'code' ? c.model.executionCount : null);
          return true;""")
        if via == 'menu':
            self.page.locator('.lm-MenuBar-item').filter(has_text='Run').first.click()
            self.page.locator('.lm-Menu-item').filter(has_text='Run All Cells').first.click()
        elif via == 'command':
            self.js("""window.jupyterapp.commands.execute('notebook:run-all-cells').then(
              ok => { window.__willie_run = {ok: ok}; },
              e => { window.__willie_run = {ok: false, error: String(e)}; });""")
        else: raise ValueError(f"via must be 'command' or 'menu'; got {via!r}")
        # done: every non-empty code cell has a new execution count (or one failed and the rest were skipped),
        # kernel idle
        st = self.wait_js("""const p = panel(path), s = p && p.sessionContext.session;
          if (!s || !s.kernel || s.kernel.status !== 'idle') return null;
          if ([...p.node.querySelectorAll('.jp-InputPrompt')].some(e => e.textContent.includes('*'))) return null;
          const cells = p.content.widgets.map((c, i) => [c, window.__willie_before[i]])
            .filter(([c]) => c.model.type === 'code' && c.model.sharedModel.getSource().trim());
          if (cells.some(([c]) => c.model.outputs.toJSON().some(o => o.output_type === 'error'))) return {error: true};
          if (window.__willie_run && window.__willie_run.error) return window.__willie_run;
          return cells.every(([c, b]) => c.model.executionCount !== null && c.model.executionCount !== b)
            ? {ok: true} : null;""",
                         timeout=timeout, what='end of run-all')
        if check and (errs := self.errors()): raise CellError(f'{self.name}: {errs[0]}')
        if check and isinstance(st.get('error'), str): raise CellError(f'{self.name}: run-all failed: {st["error"]}')

    def wait_idle(self, timeout: float = 120):
        "Wait until the kernel is idle and no cell is queued or running ([*])."
        self.wait_js("""const p = panel(path), s = p && p.sessionContext.session;
          if (!s || !s.kernel || s.kernel.status !== 'idle') return false;
          return ![...p.node.querySelectorAll('.jp-InputPrompt')].some(e => e.textContent.includes('*'));""",
                     timeout=timeout, what='idle kernel')

    def errors(self) -> list[str]:
        "'Ename: evalue' of every error output in the notebook."
        return self.js("""const p = panel(path); const out = [];
          for (const c of p.content.widgets) if (c.model.type === 'code')
            for (const o of c.model.outputs.toJSON())
              if (o.output_type === 'error') out.push(`${o.ename}: ${o.evalue}`);
          return out;""")

    # --- widgets (ipywidgets 8 DOM) -----------------------------------------------------------------------------------
    def sliders(self):
        "Locator of the notebook's slider widgets (IntSlider, FloatSlider, ...), in page order."
        return self.panel.locator('.widget-slider')

    def images(self):
        "Locator of the notebook's `ipywidgets.Image` views."
        return self.panel.locator('img.widget-image')

    def buttons(self):
        "Locator of widget buttons (Button, and the buttons of Play widgets)."
        return self.panel.locator('.jp-OutputArea-output button')

    def wait_widgets(self, n_images: int = 1, timeout: float = 60):
        "Wait until at least `n_images` widget images are rendered and hold a picture."
        self.wait_js("""const imgs = [...panel(path).node.querySelectorAll('img.widget-image')];
          return imgs.length >= arg && imgs.every(i => i.src && i.complete && i.naturalWidth > 0);""",
                     n_images, timeout=timeout, what=f'{n_images} rendered widget image(s)')

    def slider_value(self, i: int = 0) -> float:
        "The value on show in slider `i`'s readout."
        h = self.sliders().nth(i).locator('[role=slider]')
        v = h.get_attribute('aria-valuenow') or self.sliders().nth(i).locator('.widget-readout').inner_text()
        return float(v)

    def move_slider(self, i: int = 0, steps: int = 1, timeout: float = 15) -> float:
        "Move slider `i` by `steps` (negative: left) with the arrow keys, as a learner would; return its new value."
        handle = self.sliders().nth(i).locator('[role=slider]')
        handle.scroll_into_view_if_needed(); handle.focus()
        start = self.slider_value(i)
        for _ in range(abs(steps)): handle.press('ArrowRight' if steps > 0 else 'ArrowLeft')
        deadline = time.monotonic() + timeout * SLOW
        while (v := self.slider_value(i)) == start and steps and time.monotonic() < deadline: time.sleep(0.05)
        return v

    def drag_slider(self, i: int = 0, fraction: float = 0.5) -> float:
        "Drag slider `i`'s handle with the mouse to `fraction` (0..1) of its track; return its new value."
        s = self.sliders().nth(i)
        track, handle = s.locator('.noUi-target, .slider').first, s.locator('[role=slider]')
        s.scroll_into_view_if_needed()
        tb, hb = track.bounding_box(), handle.bounding_box()
        m = self.page.mouse
        m.move(hb['x'] + hb['width'] / 2, hb['y'] + hb['height'] / 2); m.down()
        m.move(tb['x'] + fraction * tb['width'], hb['y'] + hb['height'] / 2, steps=8); m.up()
        self.page.wait_for_timeout(100)
        return self.slider_value(i)

    def click_button(self, which: str | int = 0):
        "Click a widget button: by index, by its text, or by icon name for Play's ('play', 'pause', 'stop', 'repeat')."
        if isinstance(which, int): b = self.buttons().nth(which)
        else:
            icons = {'play': 'fa-play', 'pause': 'fa-pause', 'stop': 'fa-stop', 'repeat': 'fa-retweet'}
            b = (self.panel.locator(f'.widget-play button:has(i.{icons[which]})') if which in icons
                 else self.buttons().filter(has_text=which)).first
        b.scroll_into_view_if_needed(); b.click()

    def image_src(self, i: int = 0) -> str:
        "The `src` of widget image `i` (a blob: URL in ipywidgets 8, new on every update; or a data: URL)."
        return self.images().nth(i).get_attribute('src') or ''

    def image_bytes(self, i: int = 0) -> bytes:
        "The encoded bytes (PNG, JPEG, ...) of the picture widget image `i` shows."
        b64 = self.images().nth(i).evaluate("""async img => {
          const buf = new Uint8Array(await (await fetch(img.src)).arrayBuffer()); let s = '';
          for (let j = 0; j < buf.length; j += 32768) s += String.fromCharCode(...buf.subarray(j, j + 32768));
          return btoa(s); }""")
        return base64.b64decode(b64)

    def image_array(self, i: int = 0):
        "Widget image `i` decoded to a numpy array (needs Pillow)."
        import io, numpy as np
        from PIL import Image
        return np.asarray(Image.open(io.BytesIO(self.image_bytes(i))))

    def wait_image_change(self, i: int = 0, before: bytes = b'', timeout: float = 30) -> bytes:
        "Wait until widget image `i` shows bytes other than `before`; return them."
        deadline = time.monotonic() + timeout * SLOW
        while (now := self.image_bytes(i)) == before:
            if time.monotonic() > deadline:
                raise TimeoutError(f'{self.name}: widget image {i} did not change within {timeout * SLOW:.0f} s')
            time.sleep(0.1)
        return now

    def wait_image(self, i: int = 0, check=bool, timeout: float = 30, what: str = 'expected picture') -> bytes:
        "Wait until `check(bytes)` holds for widget image `i` (e.g. it decodes to an expected frame); return the bytes."
        deadline = time.monotonic() + timeout * SLOW
        while not check(now := self.image_bytes(i)):
            if time.monotonic() > deadline:
                raise TimeoutError(f'{self.name}: widget image {i} showed no {what} within {timeout * SLOW:.0f} s')
            time.sleep(0.1)
        return now

    def bring_to_top(self, locator, tries: int = 10):
        "Scroll the notebook so that `locator` (e.g. `nb.widget_cell(0)`) starts at the top of the view."
        # cells off screen have estimated heights (windowed notebook), so scroll until the element stays put
        for _ in range(tries):
            top = locator.evaluate("""e => { e.scrollIntoView({block: 'start'}); let s = e.parentElement;
              while (s && s.scrollHeight <= s.clientHeight + 1) s = s.parentElement;
              return s ? e.getBoundingClientRect().top - s.getBoundingClientRect().top : 0; }""")
            self.page.wait_for_timeout(250)
            if abs(top) < 4: break

    def widget_cell(self, i: int = 0):
        "Locator of the cell (code and output) holding slider `i`."
        return self.panel.locator('.jp-Cell').filter(has=self.page.locator('.widget-slider')).nth(i)

    def screenshot(self, path, locator=None, full_page: bool = False) -> Path:
        "Save a PNG of the page (or of `locator`, e.g. `nb.sliders().first`) to `path`."
        path = Path(path); path.parent.mkdir(parents=True, exist_ok=True)
        (locator or self.page).screenshot(path=str(path), **({} if locator else {'full_page': full_page}))
        return path


if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser(description='Run a notebook in JupyterLab in headless Chromium; '
                                             'screenshot its first widget.')
    ap.add_argument('notebook'); ap.add_argument('png')
    ap.add_argument('--drop', action='append', default=['nbdev.nbdev_export'],
                    help="also drop cells whose source contains this text "
                         "(repeatable; nbdev's export cell always goes)")
    ap.add_argument('--widget', type=int, default=0, help='screenshot the cell of this slider (0: the first)')
    ap.add_argument('--steps', type=int, default=0, help='then move that slider by this many steps')
    ap.add_argument('--width', type=int, default=1280); ap.add_argument('--height', type=int, default=900)
    a = ap.parse_args()
    if why := unavailable(): sys.exit(why)
    nbj = load_notebook(a.notebook, a.drop)
    t, name = time.monotonic(), Path(a.notebook).name
    with JupyterLab({name: nbj}) as lab, Chromium((a.width, a.height)) as br:
        nb = br.open_notebook(lab, name)
        nb.run_all(timeout=300)
        nb.wait_widgets()
        if a.steps:
            img = nb.widget_cell(a.widget).locator('img.widget-image').first
            before = img.evaluate('i => i.src')
            nb.move_slider(a.widget, a.steps)
            nb.page.wait_for_function('([i, b]) => i.src !== b && i.complete',
                                      arg=[img.element_handle(), before], timeout=15000)
        nb.bring_to_top(nb.widget_cell(a.widget))
        nb.page.mouse.move(0, a.height - 1)  # no hover highlight in the picture
        print(nb.screenshot(a.png), f'{time.monotonic() - t:.1f} s')
