"""The course as a website (`scripts/site.py`): every notebook of nbs/ gets a page, the pages of notebooks with figures
show them, nothing is executed, and the hand-written README.md is never rewritten.

The nbconvert engine always runs here (about 10 s); the Quarto one (`nbdev_docs`) only where `quarto` is installed,
which an offline machine cannot do (PyPI's quarto-cli downloads its binary from GitHub at install time)."""
import hashlib, html, importlib.util, json, re, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.')))


def figures(nb:Path) -> int:
    "Image outputs of the notebook's shown cells (nbdev drops `#| hide` cells from the site)."
    n = 0
    for c in json.loads(nb.read_text())['cells']:
        if c['cell_type'] != 'code' or re.search(r'^#\|\s*hide\s*$', ''.join(c['source']), re.M): continue
        n += sum(any(k.startswith('image/') for k in o.get('data', {})) for o in c.get('outputs', []))
    return n


def readme(): return hashlib.sha256((ROOT/'README.md').read_bytes()).hexdigest()


def build(engine, out):
    before = readme()
    r = subprocess.run([sys.executable, 'scripts/site.py', '--engine', engine, '--out', str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert readme() == before, 'building the site changed README.md'
    return out


def check_pages(site:Path, images:str):
    "One page per notebook, titled by its `# Title`, with at least as many images as it has figures."
    assert NBS and (site/'index.html').exists()
    with_figures = 0
    for nb in NBS:
        page = site/f'{nb.stem}.html'
        assert page.exists(), f'no page for {nb.name}'
        text = page.read_text(encoding='utf-8')
        title = next(''.join(c['source']).splitlines()[0][2:] for c in json.loads(nb.read_text())['cells']
                     if c['cell_type'] == 'markdown')
        assert html.escape(title.split('`')[0].strip()[:20]) in text, f'{page.name}: no title {title!r}'
        n = figures(nb)
        found = len(re.findall(images, text))
        assert found >= n, f'{page.name}: {found} images for {n} figures'
        with_figures += n > 0
    assert with_figures >= 5   # the course has figures: a site without them would pass the loop above


@pytest.mark.skipif(importlib.util.find_spec('nbconvert') is None, reason='nbconvert is not installed (dev extras)')
def test_site_nbconvert(tmp_path):
    site = build('nbconvert', tmp_path/'site')
    check_pages(site, r'<img[^>]+src="data:image/')
    index = (site/'index.html').read_text(encoding='utf-8')
    assert all(f'href="{nb.stem}.html"' in index for nb in NBS), 'the sidebar does not list every notebook'
    assert '#| ' not in index and 'willie.github.io' not in index
    for page in site.glob('*.html'):   # everything a page loads is in the site: it reads offline, formulas included
        assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', page.read_text(encoding='utf-8')), page
    assert (site/'mathjax'/'MathJax.js').exists() or importlib.util.find_spec('jupyter_server_mathjax') is None


@pytest.mark.skipif(shutil.which('quarto') is None,
                    reason='quarto is not installed: PyPI\'s quarto-cli downloads its binary from GitHub, offline it '
                           'cannot install (the nbconvert engine is tested instead)')
def test_site_quarto(tmp_path):
    site = build('quarto', tmp_path/'site')
    check_pages(site, r'<img[^>]+src="')


def test_readme_is_never_generated():
    "settings.ini's readme_nb names no notebook, so nbdev's README step (run by nbdev_docs, nbdev_prepare) skips."
    before = readme()
    code = 'from nbdev.quarto import nbdev_readme; nbdev_readme.__wrapped__(chk_time=True)'
    r = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert 'Could not find' in r.stdout and readme() == before
    assert not (ROOT/'nbs'/'none').exists()
