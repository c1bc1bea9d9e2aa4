"""The package's shape: no import circles, no `willie` imports hidden in functions, notebooks that import only from
earlier notebooks, a light `willie.eval.metrics`, no test fixtures in the package."""
import ast, json, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG, NBS = ROOT/'willie', ROOT/'nbs'


def module_name(p:Path)->str:
    "A file's module under willie, dotted: willie/priors/maskgit.py -> 'priors.maskgit'; a package's __init__: 'priors'"
    parts = p.relative_to(PKG).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


MODULES = {module_name(p) for p in PKG.rglob('*.py') if p.name != '_modidx.py'} - {''}


def willie_imports(tree:ast.AST, module:str|None=None)->list[tuple[str, ast.AST]]:
    "(imported willie module, dotted under willie, node) for every import of a willie module in `tree`"
    package = module.split('.')[:-1] if module else []
    if module and (PKG/module.replace('.', '/')/'__init__.py').exists(): package = module.split('.')
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # from .x import y, from ..base.core import y, from . import x
                base = package[:len(package) - node.level + 1] if node.level > 1 else package
                target = base + (node.module.split('.') if node.module else [])
            elif node.module and (node.module == 'willie' or node.module.startswith('willie.')):
                target = node.module.split('.')[1:]
            else: continue
            for a in node.names:
                sub = '.'.join(target + [a.name])
                out.append((sub if sub in MODULES else '.'.join(target), node))
        elif isinstance(node, ast.Import):
            out += [(a.name.split('.', 1)[1], node) for a in node.names if a.name.startswith('willie.')]
    return [(m, n) for m, n in out if m in MODULES and m != module]


def module_graph()->dict:
    return {module_name(p): {m for m, _ in willie_imports(ast.parse(p.read_text()), module_name(p))}
            for p in PKG.rglob('*.py') if p.name not in ('_modidx.py',) and module_name(p)}


def package_graph()->dict:
    "Which stage (subpackage) imports which: willie.tokenizers -> {base, eval, layers, ...}"
    out = {}
    for m, deps in module_graph().items():
        stage = m.split('.')[0]
        out.setdefault(stage, set()).update(d.split('.')[0] for d in deps if d.split('.')[0] != stage)
    return out


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


# the pipeline, bottom to top: a stage imports only from the stages before it
STAGES = ['base', 'layers', 'train', 'data', 'eval', 'cifar', 'tokenizers', 'tokens', 'priors', 'generate', 'apps']


def test_stages_import_only_earlier_stages():
    assert set(package_graph()) == set(STAGES), f"not in STAGES, or gone: {set(package_graph()) ^ set(STAGES)}"
    late = [f'willie.{p} imports willie.{d}' for p, deps in package_graph().items() for d in deps
            if STAGES.index(d) > STAGES.index(p)]
    assert not late, late
    assert not [p for p in PKG.glob('*.py') if p.stem not in ('__init__', '_modidx')], "a module outside the stages"


def test_no_willie_imports_inside_functions():
    hidden = []
    for p in sorted(PKG.rglob('*.py')):
        tree = ast.parse(p.read_text())
        top = {id(n) for n in tree.body}
        hidden += [f'{p.relative_to(PKG)}:{n.lineno}' for _, n in willie_imports(tree, module_name(p))
                   if id(n) not in top]
    assert not hidden, f"willie imports inside functions (move them to the top; a circle is not a reason): {hidden}"


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
    code = ("import sys, willie.eval.metrics; "
            "print(sorted(m for m in sys.modules if m == 'av' or m.startswith('av.') or m == 'willie.cifar.data'))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '[]', f"import willie.eval.metrics loads {out.stdout.strip()}"


def test_no_test_fixtures_in_the_package():
    import willie.train.weights as w
    assert not hasattr(w, 'Tiny') and not hasattr(w, 'TinyConfig')


def test_fixed_notebook_names():
    assert (NBS/'00_vae_cifar.ipynb').exists() and (NBS/'05_fsq_tubelets.ipynb').exists()
