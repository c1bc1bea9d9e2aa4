"""The package's shape: no import circles, no `willie` imports hidden in functions, notebooks that import only from
earlier notebooks, a light `willie.metrics`, no test fixtures in the package."""
import ast, json, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG, NBS = ROOT/'willie', ROOT/'nbs'


def willie_imports(tree:ast.AST, module:str|None=None)->list[tuple[str, ast.AST]]:
    "(imported willie module, node) for every import of a willie module in `tree`"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:  # from .x import y / from . import x
                mods = [node.module] if node.module else [a.name for a in node.names]
            elif node.module and (node.module == 'willie' or node.module.startswith('willie.')):
                sub = node.module.split('.', 1)[1] if '.' in node.module else None
                mods = [sub] if sub else [a.name for a in node.names]
            else: continue
            out += [(m.split('.')[0], node) for m in mods]
        elif isinstance(node, ast.Import):
            out += [(a.name.split('.')[1], node) for a in node.names if a.name.startswith('willie.')]
    modules = {p.stem for p in PKG.glob('*.py')}
    return [(m, n) for m, n in out if m in modules and m != module]


def module_graph()->dict:
    return {p.stem: {m for m, _ in willie_imports(ast.parse(p.read_text()), p.stem)} for p in PKG.glob('*.py')}


def find_circle(graph:dict)->list|None:
    "A circle in a dependency graph {node: {deps}}, as a path [a, b, ..., a], or None"
    state, path = {}, []
    def visit(m):
        state[m] = 'active'; path.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 'active': return path[path.index(d):] + [d]
            if d not in state and (c := visit(d)): return c
        state[m] = 'done'; path.pop()
    for m in sorted(graph):
        if m not in state and (c := visit(m)): return c
    return None


def test_circle_finder():
    assert find_circle({'metrics': {'vq'}, 'vq': {'vae'}, 'vae': {'metrics'}}) == ['metrics', 'vq', 'vae', 'metrics']
    assert find_circle({'a': {'b'}, 'b': set(), 'c': {'a', 'b'}}) is None


def test_no_import_circles():
    assert (c := find_circle(module_graph())) is None, 'import circle: ' + ' -> '.join(c)


def test_no_willie_imports_inside_functions():
    hidden = []
    for p in sorted(PKG.glob('*.py')):
        tree = ast.parse(p.read_text())
        top = {id(n) for n in tree.body}
        hidden += [f'{p.name}:{n.lineno}' for _, n in willie_imports(tree, p.stem) if id(n) not in top]
    assert not hidden, f"willie imports inside functions (move them to the top; an import circle is not a reason): {hidden}"


def notebook_cells(nb:Path)->list[str]:
    return [''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']


def exported_module(nb:Path)->str|None:
    for src in notebook_cells(nb):
        for line in src.splitlines():
            if line.startswith('#| default_exp'): return line.split()[-1]
    return None


def test_notebooks_import_only_from_earlier_notebooks():
    nbs = sorted(NBS.glob('*.ipynb'))
    home = {m: nb.name for nb in nbs if (m := exported_module(nb))}
    late = []
    for nb in nbs:
        for src in notebook_cells(nb):
            code = '\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!')))
            try: tree = ast.parse(code)
            except SyntaxError: continue
            for m, node in willie_imports(tree):
                if m in home and home[m] >= nb.name and home[m] != nb.name:
                    late.append(f'{nb.name} imports willie.{m}, made by the later {home[m]}')
    assert not late, late


def test_metrics_is_light():
    code = "import sys, willie.metrics; print(sorted(m for m in sys.modules if m == 'av' or m.startswith('av.') or m == 'willie.cifar'))"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '[]', f"import willie.metrics loads {out.stdout.strip()}"


def test_no_test_fixtures_in_the_package():
    import willie.weights as w
    assert not hasattr(w, 'Tiny') and not hasattr(w, 'TinyConfig')


def test_fixed_notebook_names():
    assert (NBS/'00_vae_cifar.ipynb').exists() and (NBS/'05_fsq_tubelets.ipynb').exists()
