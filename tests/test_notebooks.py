"""Notebooks as a learner opens them: a kernel (no "Select Kernel" dialog), no leftover jupytext headers, committed
outputs that name no machine's folders, every notebook reachable from the landing page."""
import json, re
from pathlib import Path
import pytest

NBS = Path(__file__).resolve().parents[1]/'nbs'
NOTEBOOKS = sorted(NBS.glob('*.ipynb'))
MACHINE_PATH = re.compile(r'(?<![\w.])/(?:work|root|tmp|home|Users)/')


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_cleanly(nb):
    d = json.loads(nb.read_text())
    assert d['metadata'].get('kernelspec', {}).get('name') == 'python3', f"{nb.name}: no python3 kernelspec"
    assert 'jupytext' not in d['metadata'], f"{nb.name}: leftover jupytext metadata"
    first = ''.join(d['cells'][0]['source']) if d['cells'] else ''
    assert not first.startswith('---\njupyter:'), f"{nb.name}: leftover jupytext YAML header cell"


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_name_no_machine_paths(nb):
    "Committed outputs are read on other machines: no /work, /root, /tmp, /home paths in their text"
    bad = []
    for i, c in enumerate(json.loads(nb.read_text())['cells']):
        for o in c.get('outputs', []):
            texts = [o.get('text', '')] + [v for k, v in o.get('data', {}).items() if k.startswith('text/')]
            for t in texts:
                t = ''.join(t) if isinstance(t, list) else t
                if m := MACHINE_PATH.search(t): bad.append(f'cell {i}: ...{t[max(0, m.start()-30):m.end()+30]}...')
    assert not bad, f"{nb.name}: " + '\n'.join(bad)


def test_index_lists_every_course_notebook():
    index = ''.join(''.join(c['source']) for c in json.loads((NBS/'index.ipynb').read_text())['cells'])
    mine = [p.stem for p in NOTEBOOKS if p.stem != 'index']
    assert not [n for n in mine if f'`{n}`' not in index], "notebooks missing from index.ipynb's table"


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.stem)
def test_no_pictures_of_the_data_are_committed(nb):
    """Cells that read the film or CIFAR-10 (flagged `film`/`cifar`) keep text outputs only: nothing derived from the
    data is committed"""
    bad = [i for i, c in enumerate(json.loads(nb.read_text())['cells'])
           if re.search(r'^#\|\s*(film|cifar)\b', ''.join(c['source']), re.M)
           and any(k.startswith('image/') for o in c.get('outputs', []) for k in o.get('data', {}))]
    assert not bad, f"{nb.name}: cells {bad} commit pictures made from the film or CIFAR-10"
