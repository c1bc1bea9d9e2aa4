"""Build the course as a website in `_docs/`: every notebook of nbs/ as a page, with its committed outputs (figures,
tables) and nothing executed again.

    python scripts/site.py [--engine auto|quarto|nbconvert] [--out _docs]     # then open _docs/index.html
    python scripts/site.py --shots docs/assets      # and screenshot two pages in headless Chromium (network off)

Both engines start from nbdev's processed notebooks (`_proc/`: hidden cells dropped, `#| export` lines removed; no
generated API docs, see skip_procs in settings.ini), so what they show is the same:
- `quarto`: nbdev's own site, `nbdev_docs` (Quarto renders `_proc/` without executing it). It needs the `quarto`
  program on PATH, which cannot be installed offline: PyPI's `quarto-cli` downloads its binary from GitHub while it
  installs, and neither Debian nor npm has it.
- `nbconvert` (the fallback; `auto` picks it when there is no `quarto`): Jupyter's nbconvert, installed with the dev
  extras, renders each processed notebook to one HTML page (figures embedded), with a sidebar of the course in
  order, and copies MathJax beside the pages (from `jupyter-server-mathjax`, a dev extra), so that the site shows its
  formulas offline. It reads and writes local files only. (Quarto's pages load MathJax from a CDN.)
README.md is hand-written and never rewritten: settings.ini names no readme notebook that exists, so `nbdev_docs`
skips `nbdev_readme`, and this script checks that README.md is byte-identical afterwards.
"""
from __future__ import annotations
import argparse, hashlib, html, os, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_digest() -> str: return hashlib.sha256((ROOT/'README.md').read_bytes()).hexdigest()


def page_name(nb:Path) -> str: return nb.stem + '.html'


def notebooks() -> list[Path]:
    "The course's notebooks in sidebar order: index first, then by name (as nbdev's sidebar orders them)."
    nbs = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.')))
    return sorted(nbs, key=lambda p: (p.stem != 'index', p.name))


def processed(n_workers:int) -> Path:
    "nbdev's processing of every notebook into `_proc/` (cached: only notebooks changed since the last build)."
    os.chdir(ROOT)
    from nbdev.serve import proc_nbs
    return proc_nbs(path=str(ROOT/'nbs'), n_workers=n_workers)


def build_quarto(out:Path, n_workers:int):
    "nbdev's site: `nbdev_docs` renders `_proc/` with Quarto into settings.ini's doc_path (_docs)."
    subprocess.run(['nbdev_docs', '--n_workers', str(n_workers)], cwd=ROOT, check=True)
    if out.resolve() != (ROOT/'_docs').resolve():
        shutil.rmtree(out, ignore_errors=True); shutil.copytree(ROOT/'_docs', out)


# ---- the nbconvert engine -------------------------------------------------------------------------------------------
STYLE = """<style>
body { margin: 0 0 0 17rem !important; }
nav.course { position: fixed; top: 0; left: 0; bottom: 0; width: 16rem; overflow-y: auto; padding: 1rem 0.75rem;
  box-sizing: border-box; background: #f7f7f7; border-right: 1px solid #ddd; font: 14px/1.4 system-ui, sans-serif; }
nav.course a { display: block; padding: 0.2rem 0.4rem; color: #333; text-decoration: none; border-radius: 4px; }
nav.course a:hover { background: #e8e8e8; } nav.course a.here { background: #dde6f5; font-weight: 600; }
nav.course .site { font-size: 1.2rem; font-weight: 700; padding: 0 0.4rem 0.6rem; }
nav.course .file { font-size: 11px; color: #888; }
.course-title { padding: 1.5rem 0 0.2rem 10px; font-family: system-ui, sans-serif; }
.course-title h1 { margin: 0; } .course-title p { color: #555; font-size: 1.1rem; }
.course-pager { display: flex; justify-content: space-between; padding: 2rem 0; font: 15px system-ui, sans-serif; }
</style>"""


# jupyter-server-mathjax ships the STIX-Web web fonts only: say so, or MathJax asks for its TeX fonts first
MATHJAX_FONTS = """<script type="text/x-mathjax-config">
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}});
</script>"""


def _directives(src:str) -> dict:
    "Quarto cell options left in a processed cell (`#| echo: false`, ...), as {name: value}."
    opts = {}
    for line in src.splitlines():
        if m := re.match(r'#\|\s*([\w-]+)\s*:\s*(.*)$', line): opts[m[1]] = m[2].strip().lower()
    return opts


def _strip_directives(src:str) -> str:
    return '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip('\n')


def _frontmatter(nb) -> dict:
    "Title and description from the YAML raw cell nbdev's FrontmatterProc makes of `# Title` + `> description`."
    import yaml
    for c in nb.cells:
        if c.cell_type == 'raw' and c.source.lstrip().startswith('---'):
            body = c.source.strip().strip('-')
            try: return yaml.safe_load(body) or {}
            except yaml.YAMLError: return {}
    return {}


def _prepare(nb, site_url:str):
    "Apply Quarto's cell options as nbconvert tags, drop option lines and front matter, make links local."
    cells = []
    for c in nb.cells:
        if c.cell_type == 'raw': continue                                   # front matter: shown as the page title
        if c.cell_type == 'code':
            o = _directives(c.source)
            if o.get('include') == 'false': continue
            tags = set(c.metadata.get('tags', []))
            if o.get('echo') == 'false': tags.add('remove_input')
            if o.get('output') == 'false': tags.add('remove_output')
            c.metadata['tags'] = sorted(tags)
            c.source = _strip_directives(c.source)
            c.setdefault('execution_count', None)                           # nbdev_clean leaves none: nbformat
            for out in c.get('outputs', []):
                if out.get('output_type') == 'execute_result': out.setdefault('execution_count', None)
                data = out.get('data', {})
                for k in ('text/markdown', 'text/html'):
                    if k in data: data[k] = _local_links(data[k], site_url)
        else: c.source = _local_links(c.source, site_url)
        cells.append(c)
    nb.cells = cells
    if not nb.metadata.get('widgets', {}).get('application/vnd.jupyter.widget-state+json', {}).get('state'):
        nb.metadata.pop('widgets', None)                                    # no widget state: no widget scripts


def _local_links(text, site_url:str):
    "Links to the published site's pages (nbdev's doc links) and to notebooks become links to these pages."
    if isinstance(text, list): text = ''.join(text)
    if site_url: text = text.replace(site_url.rstrip('/') + '/', '')
    return re.sub(r'(\]\(|href=")((?!https?:)[\w./-]*?)\.ipynb(#[^)"]*)?(?=[)"])',
                  lambda m: f"{m[1]}{Path(m[2]).name}.html{m[3] or ''}", text)


def _nav(pages:list[tuple[str, str]], here:str, site_title:str) -> str:
    links = '\n'.join(f'<a href="{html.escape(f)}" class="{"here" if f == here else ""}">{html.escape(t)}'
                      f'<div class="file">{html.escape(Path(f).stem)}</div></a>' for f, t in pages)
    return (f'<nav class="course"><div class="site"><a href="index.html">{html.escape(site_title)}</a></div>\n'
            f'{links}</nav>\n<script>document.querySelector("nav.course a.here")'
            f'?.scrollIntoView({{block: "center"}});</script>')


def _local_mathjax(out:Path) -> str|None:
    "Copy MathJax 2.7 (the `jupyter-server-mathjax` package's) into `out/mathjax`; its URL for the pages, or None."
    try: import jupyter_server_mathjax
    except ImportError: return None
    src = Path(jupyter_server_mathjax.__file__).parent/'static'
    if not (src/'MathJax.js').exists(): return None
    shutil.copytree(src, out/'mathjax', ignore=shutil.ignore_patterns('localization'))
    return 'mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe'


def build_nbconvert(out:Path, n_workers:int):
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from nbdev.config import get_config
    cfg = get_config()
    site_url = cfg.get('doc_host', '') + cfg.get('doc_baseurl', '')
    cache = processed(n_workers)
    nbs = notebooks()
    loaded, pages = {}, []
    for p in nbs:
        nb = nbformat.read(cache/p.name, as_version=4)
        fm = _frontmatter(nb)
        title = fm.get('title') or p.stem
        loaded[p] = (nb, fm, title); pages.append((page_name(p), title))
    ex = HTMLExporter(template_name='lab', embed_images=True, exclude_input_prompt=True, exclude_output_prompt=True)
    shutil.rmtree(out, ignore_errors=True); out.mkdir(parents=True)
    if mathjax := _local_mathjax(out): ex.mathjax_url = mathjax
    else: print('no jupyter-server-mathjax: the pages load MathJax from its CDN (formulas show as TeX offline)')
    ex.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'remove_input'},
                                                   remove_all_outputs_tags={'remove_output'}, enabled=True), True)
    for i, p in enumerate(nbs):
        nb, fm, title = loaded[p]
        _prepare(nb, site_url)
        nb.metadata['title'] = f'{title} – {cfg.title}'
        body, _ = ex.from_notebook_node(nb, resources={'metadata': {'name': p.stem, 'path': str(ROOT/'nbs')}})
        head = f'<div class="course-title"><h1>{html.escape(title)}</h1>' + \
               (f'<p>{html.escape(str(fm["description"]))}</p>' if fm.get('description') else '') + '</div>'
        prev_ = f'<a href="{pages[i-1][0]}">&larr; {html.escape(pages[i-1][1])}</a>' if i else '<span></span>'
        next_ = f'<a href="{pages[i+1][0]}">{html.escape(pages[i+1][1])} &rarr;</a>' if i+1 < len(pages) else ''
        body = re.sub(r'<script src="https://[^"]*require[^"]*"></script>', '', body)   # only widgets need it
        body = body.replace('</head>', STYLE + (MATHJAX_FONTS if mathjax else '') + '\n</head>', 1)
        body = re.sub(r'(<body[^>]*>)', lambda m: m[1] + '\n' + _nav(pages, page_name(p), cfg.title), body, count=1)
        body = re.sub(r'(<main[^>]*>)', lambda m: m[1] + head, body, count=1)
        body = body.replace('</main>', f'<div class="course-pager">{prev_}{next_}</div></main>', 1)
        (out/page_name(p)).write_text(body, encoding='utf-8')


def build(engine:str='auto', out:Path|str=ROOT/'_docs', n_workers:int=min(2, os.cpu_count() or 1)) -> str:
    "Build the site into `out` with `engine`; returns the engine used. Raises if README.md changed."
    if engine == 'auto': engine = 'quarto' if shutil.which('quarto') else 'nbconvert'
    if engine == 'quarto' and not shutil.which('quarto'):
        raise SystemExit('no quarto on PATH (pip install quarto-cli needs GitHub); use --engine nbconvert')
    out, before = Path(out), readme_digest()
    (build_quarto if engine == 'quarto' else build_nbconvert)(out, n_workers)
    if readme_digest() != before: raise SystemExit('README.md changed while building the site: it must not')
    return engine


def screenshots(site:Path, dest:Path, pages=(('index', None), ('00_2_viz', 1))) -> list[Path]:
    """PNGs of `pages` in headless Chromium (tests/browser.py), network off: (name, figure to scroll to or None for
    the top). By default the index and the second figure of 00_2_viz. 256 colours, to stay small in git."""
    sys.path.insert(0, str(ROOT/'tests'))
    from browser import Chromium
    from PIL import Image
    shots = []
    with Chromium(viewport=(1280, 800)) as b:
        b.context.route('**/*', lambda r: r.continue_() if r.request.url.startswith(('file:', 'data:')) else r.abort())
        for name, fig in pages:
            pg = b.new_page()
            pg.goto((site/f'{name}.html').resolve().as_uri(), wait_until='load')
            pg.wait_for_function('!window.MathJax || !MathJax.Hub || MathJax.Hub.queue.pending === 0')
            if fig is not None:
                pg.evaluate("i => { const ims = [...document.querySelectorAll('main img')], im = ims.at(i); "
                            "if (im) window.scrollTo(0, im.getBoundingClientRect().top + scrollY - 200); }", fig)
            out = dest/f'site_{name}.png'
            pg.screenshot(path=str(out))
            Image.open(out).convert('RGB').quantize(256).save(out, optimize=True)
            shots.append(out)
    return shots


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--engine', choices=['auto', 'quarto', 'nbconvert'], default='auto')
    p.add_argument('--out', type=Path, default=ROOT/'_docs', help='the folder to write (default: _docs)')
    p.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1), help="nbdev's processing workers")
    p.add_argument('--shots', type=Path, metavar='DIR', help='then screenshot two pages into DIR (docs/assets)')
    a = p.parse_args()
    t0 = time.perf_counter()
    engine = build(a.engine, a.out, a.workers)
    print(f'{engine}: {len(notebooks())} pages in {a.out} ({time.perf_counter() - t0:.0f} s); '
          f'open {a.out/"index.html"}')
    if a.shots: print('screenshots:', *screenshots(a.out, a.shots))


if __name__ == '__main__': main()
