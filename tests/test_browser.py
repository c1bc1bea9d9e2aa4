"""The notebooks in a real JupyterLab in headless Chromium, as a learner opens them (harness: `tests/browser.py`).

1. A `ClipScrubber` on a synthetic clip, in a notebook written here: run all cells, move the slider with the keyboard
   and with the mouse, press Play, and check each time that the pictures on screen are exactly the expected frames.
2. The sample gallery of `12a_gallery` on the bundled weights: run it, move its frame slider, press *Next seeds*,
   switch to 256², and check the picture changes each time.
3. Every notebook in nbs/ (a copy), opened without running: JupyterLab must start its kernel, not ask
   'Select Kernel' (notebooks need `metadata.kernelspec`).

Browser tests skip, saying why, where /usr/bin/chromium or the `playwright` package is missing. One JupyterLab server
and one Chromium serve the whole module.
"""
import io, json, urllib.error, urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from browser import Chromium, JupyterLab, Notebook, load_notebook, unavailable

NBS = sorted((Path(__file__).resolve().parents[1] / 'nbs').glob('*.ipynb'))
WHY = unavailable()
browser_test = pytest.mark.skipif(WHY is not None, reason=f'browser tests need Chromium and playwright: {WHY}')

# The synthetic clip, run both here (expected frames) and in the notebook: a white square walking right, T frames.
T, SIZE, SCALE = 12, 32, 4
CLIP_SRC = f'''import numpy as np
clip = np.zeros(({T}, {SIZE}, {SIZE}), np.uint8)
for t in range({T}): clip[t, 8:16, 2 * t:2 * t + 8] = 255
'''
SCRUB = 'browser_scrubber.ipynb'
# The sample gallery of 12a without its film cells (a fresh machine has no film): what every learner can run.
GALLERY = 'browser_gallery.ipynb'
GALLERY_SRC = Path(__file__).resolve().parents[1] / 'nbs' / '12a_gallery.ipynb'


def _cell(id, src): return {'cell_type': 'code', 'execution_count': None, 'id': id,
                        'metadata': {}, 'outputs': [], 'source': src}

def scrubber_notebook() -> dict:
    "A notebook showing a two-panel `ClipScrubber` (the clip and its negative) on the synthetic clip."
    return {'nbformat': 4, 'nbformat_minor': 5, 'cells': [
                _cell('clip', CLIP_SRC),
                _cell('scrubber', f'from willie.base.viz import ClipScrubber\n'
                      f'sc = ClipScrubber({{"square": clip, "negative": 255 - clip}}, fps=20, scale={SCALE})\nsc')],
            'metadata': {'kernelspec': {'name': 'python3', 'display_name': 'Python 3 (ipykernel)',
                                        'language': 'python'},
                         'language_info': {'name': 'python'}}}

def expected_clip() -> np.ndarray:
    ns = {}; exec(CLIP_SRC, ns); return ns['clip']

def has_kernelspec(path: Path) -> bool:
    try: return bool(json.loads(path.read_text()).get('metadata', {}).get('kernelspec'))
    except (OSError, ValueError): return False


@pytest.fixture(scope='module')
def lab():
    """One JupyterLab for the module, serving copies of nbs/*.ipynb and the scrubber notebook; checks it leaves nothing
    behind."""
    pytest.importorskip('jupyterlab')
    gallery = load_notebook(GALLERY_SRC, drop=('nbdev.nbdev_export', '#| film'))
    with JupyterLab({**{p.name: p for p in NBS}, SCRUB: scrubber_notebook(), GALLERY: gallery}) as lab:
        proc, tmp = lab.proc, lab.tmp
        yield lab
    assert proc.poll() is not None, 'the JupyterLab server outlived its context'
    assert not tmp.exists(), f'JupyterLab left {tmp} behind'

@pytest.fixture(scope='module')
def chromium():
    with Chromium() as c: yield c

@pytest.fixture(scope='module')
def lab_page(lab, chromium):
    "One page with JupyterLab loaded, in which test (2) opens and closes each notebook."
    page = chromium.open_lab(lab); yield page; page.close()


def test_lab_server_is_private(lab):
    "The server (no browser needed) serves the copies, on 127.0.0.1, to token holders only."
    assert lab.url.startswith('http://127.0.0.1:')
    with urllib.request.urlopen(f'{lab.url}/api/contents?token={lab.token}', timeout=10) as r:
        assert sorted(c['name'] for c in json.load(r)['content']) == sorted([p.name for p in NBS] + [SCRUB, GALLERY])
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f'{lab.url}/api/contents', timeout=10)  # no token: refused


@browser_test
def test_scrubber_in_jupyterlab(lab, chromium, tmp_path):
    """Run the scrubber notebook in JupyterLab; the slider (keys, mouse) and Play change the pictures to the right
    frames."""
    clip = expected_clip()
    def frame(b): return np.asarray(Image.open(io.BytesIO(b)))
    def shows(t, neg=False):
        return lambda b: np.array_equal(frame(b)[::SCALE, ::SCALE], 255 - clip[t] if neg else clip[t])

    nb = chromium.open_notebook(lab, SCRUB)  # fails here if JupyterLab asks for a kernel
    try:
        nb.run_all(via='menu')                    # Run > Run All Cells
        nb.wait_widgets(n_images=2)
        first = nb.wait_image(0, shows(0), what='frame 0')
        assert frame(first).shape == (SIZE * SCALE, SIZE * SCALE)
        nb.wait_image(1, shows(0, neg=True), what='negative of frame 0')
        assert nb.slider_value(0) == 0

        assert nb.move_slider(0, +3) == 3                      # arrow keys on the slider's handle
        third = nb.wait_image(0, shows(3), what='frame 3 after the slider moved')
        assert third != first
        nb.wait_image(1, shows(3, neg=True), what='negative of frame 3')
        nb.screenshot(tmp_path / 'scrubber_frame3.png')

        nb.click_button('play')                                # Play runs to the last frame and stops there
        nb.wait_image_change(0, third)
        nb.wait_image(0, shows(T - 1), what=f'last frame {T - 1} after Play')
        assert nb.slider_value(0) == T - 1

        v = int(nb.drag_slider(0, 0.3))                        # the mouse: drag the handle back along the track
        assert 0 <= v < T - 1
        nb.wait_image(0, shows(v), what=f'frame {v} after dragging')
        shot = nb.screenshot(tmp_path / 'scrubber.png')
        assert Image.open(shot).size == chromium.viewport
        assert nb.errors() == []
    finally: nb.page.close()


@browser_test
def test_gallery_in_jupyterlab(lab, chromium, tmp_path):
    """Run 12a's sample gallery (film cells dropped) on the bundled weights: the frame slider steps every clip, *Next
    seeds* makes new clips (and says which seeds), and size 256 puts them through the upsampler (a bigger picture: at 64
    every pixel is drawn 2×2, so 128 would be as wide)."""
    def size(b): return Image.open(io.BytesIO(b)).size
    nb = chromium.open_notebook(lab, GALLERY)
    try:
        nb.run_all(timeout=400)
        nb.wait_widgets(n_images=1)
        status = nb.panel.locator('.widget-html').filter(has_text='seeds')
        assert 'seeds 0–3' in status.first.inner_text()
        frame0 = nb.image_bytes(0)
        frame = 1                                            # slider 0 is the temperature, slider 1 the frame
        assert nb.slider_value(frame) == 0
        assert nb.move_slider(frame, +6) == 6
        frame6 = nb.wait_image_change(0, frame0)
        assert size(frame6) == size(frame0)

        nb.click_button('Next seeds')
        nb.wait_js("return [...panel(path).node.querySelectorAll('.widget-html')].some(e => "
                   "e.textContent.includes('seeds 4–7'))", timeout=120, what="'seeds 4–7' in the status")
        new = nb.wait_image_change(0, frame6)
        assert nb.slider_value(frame) == 6                  # the same frame of the new clips

        nb.panel.locator('.widget-dropdown').filter(has_text='size').locator('select').select_option('256')
        big = nb.wait_image(0, lambda b: size(b)[0] > size(new)[0], timeout=60, what='a wider grid at 256²')
        w0, w1 = size(new)[0], size(big)[0]
        assert w1 > w0, (w0, w1)
        nb.screenshot(tmp_path / 'gallery.png')
        assert nb.errors() == []
    finally: nb.page.close()


@browser_test
@pytest.mark.parametrize('name', [
    pytest.param(p.name, marks=[] if has_kernelspec(p) else pytest.mark.xfail(
        strict=False, raises=AssertionError,
        reason=f'{p.name} has no metadata.kernelspec yet: JupyterLab asks "Select Kernel"'))
    for p in NBS])
def test_notebook_opens_without_kernel_dialog(name, lab, lab_page):
    "Opening the notebook (not running it) starts its kernel straight away: no 'Select Kernel' dialog."
    nb = Notebook(lab_page, lab, name).open()
    try: nb.wait_kernel(until='started')  # raises KernelDialog (an AssertionError) on a dialog
    finally: nb.close()
