"""Recipes are data: every shipped weight records the recipe and commit that made it, the notebook's `slow` cell trains
exactly that recipe, training runs on any dataset (a synthetic store here) and writes into the package only when
asked."""
import ast, importlib, json, re, subprocess, sys
from dataclasses import replace
from pathlib import Path
import pytest, torch

from willie.tokenizers import magvit

from willie.priors import maskgit

from willie.priors import transformer as prior

from willie.tokenizers import tubelets

from willie.generate import upsample

from willie.cifar import vae

from willie.cifar import vq

from willie.cifar import vqvae2

from willie.tokenizers import video_vae
from willie.apps.recipes import GPU_RECIPES, all_recipes, load_recipe
from willie.train.loop import train_requested
from willie.train.weights import (WEIGHTS_DIR, Recipe, RecipeError, load_weights, read_registry, save_dir,
                                  save_weights)

ROOT = Path(__file__).resolve().parents[1]
MODULES = {'vae': vae, 'vq': vq, 'vqvae2': vqvae2, 'video_vae': video_vae, 'tubelets': tubelets, 'magvit': magvit,
           'prior': prior, 'maskgit': maskgit, 'upsample': upsample}
ALLOWED_KW = {'name', 'ckpt_dir', 'save_to', 'log', 'log_every', 'data'}   # where and how loudly, never what


def recipes()->dict:
    "The model notebooks' recipes as JSON holds them: name -> dict"
    return {n: r.to_dict() for m in MODULES.values() for n, r in m.RECIPES.items()}


def gpu_trained()->dict:
    """The shipped weights a GPU recipe made (`causal_s4_64` from `causal_s4_64_gpu`, ...), or a CPU fine-tune carried
    on from them (a `CPU_TUNES` recipe whose `init` names them, when the entry says it started there; of several such
    sittings, the one whose recipe the entry records): name -> recipe"""
    from willie.apps.recipes import CPU_TUNES
    out = {}
    for n, e in read_registry().items():
        train = {k: v for k, v in e['recipe'].get('train', {}).items() if k != 'steps_taken'}
        tunes = [r.to_dict() for r in CPU_TUNES.values() if r.train.init == n]
        if train.get('init') == n and tunes: out[n] = next((t for t in tunes if t['train'] == train), tunes[0])
        elif f'{n}_gpu' in GPU_RECIPES: out[n] = GPU_RECIPES[f'{n}_gpu'].to_dict()
    return out


def test_every_recipe_round_trips_through_json():
    "Every recipe of the code and every recipe in the registry reads back as the same JSON, so nothing saved changes"
    for name, r in all_recipes().items():
        d = json.loads(json.dumps(r.to_dict()))
        assert Recipe.from_dict(d) == r and Recipe.from_dict(d).to_dict() == d, name
    for name, e in read_registry().items():
        assert Recipe.from_dict(e['recipe']).to_dict() == e['recipe'], name
        assert type(Recipe.from_dict(e['recipe'])) is type(all_recipes()[name if name in recipes() else f'{name}_gpu'])


def test_a_bad_field_is_named(tmp_path):
    "A recipe file with a misspelt, mistyped or missing field: one line that names the file and the field"
    d = all_recipes()['magvit_gan_64'].to_dict()
    cases = {'lrr': (lambda r: r['recon'].update(lrr=1e-3), "lrr.json: recon has no field 'lrr'"),
             'ramp': (lambda r: r['gan'].update(ramp='slow'), "ramp.json: gan.ramp: expected an integer, got 'slow'"),
             'disc': (lambda r: r.pop('disc'), "disc.json: the recipe needs 'disc'"),
             'ch': (lambda r: r['model'].update(ch=32), "ch.json: model.ch: expected a list, got 32"),
             'clip': (lambda r: r['data'].update(clip_len=None), "clip.json: data.clip_len: expected an integer")}
    for name, (edit, msg) in cases.items():
        r = json.loads(json.dumps(d)); edit(r)
        (tmp_path/f'{name}.json').write_text(json.dumps(r))
        with pytest.raises(RecipeError) as e: load_recipe(str(tmp_path/f'{name}.json'))
        assert str(e.value).startswith(msg) and '\n' not in str(e.value), str(e.value)


def test_tasks_are_found_without_a_list():
    "A fresh Python finds every task by importing the model stages' modules; `willie.apps.recipes` names none of them"
    code = ("import sys; from willie.apps.recipes import import_tasks; before = 'willie.cifar.vae' in sys.modules; "
            "print(before, sorted(import_tasks()))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ("False ['CausalTokenizer', 'MaskGIT', 'Prior', 'TubeletFSQVAE', 'Upsampler', 'VAE', "
                           "'VQVAE', 'VQVAE2', 'VideoFSQVAE', 'VideoVQVAE']"), out


def test_every_entry_records_its_recipe_and_commit():
    reg, rec = read_registry(), recipes() | gpu_trained()
    assert set(reg) <= set(rec), f"registry entries without a recipe in the code: {set(reg) - set(rec)}"
    for name, e in reg.items():
        phases = [e['recipe'][k] for k in ('train', 'recon', 'gan') if k in e['recipe']]  # one phase, or magvit's two
        taken = [p.get('steps_taken', p['steps']) for p in phases]   # a time-budgeted phase records the steps it took
        as_written = {k: ({a: b for a, b in v.items() if a != 'steps_taken'} if isinstance(v, dict) else v)
                      for k, v in e['recipe'].items()}
        assert as_written == rec[name], f"{name}: the registry's recipe differs from the code's"
        assert e['recipe']['model'] == e['config'], f"{name}: recipe's model config is not the shipped config"
        assert e['metrics']['steps'] == sum(taken), f"{name}: trained {e['metrics']['steps']} steps"
        assert re.fullmatch(r'[0-9a-f]{40}(\+dirty)?', e['commit']), f"{name}: commit {e['commit']!r}"
        assert isinstance(e['depends'], dict) and all(d in reg and reg[d]['sha256'] == s
                                                      for d, s in e['depends'].items())
        assert ':' not in e['arch'], f"{name}: arch {e['arch']!r} names a module path; store the class name"


def slow_cells():
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        cells = [''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']
        yield nb, cells, [c for c in cells if c.startswith('#| slow')]


def trained_names(cell:str, notebook_recipes:dict)->set:
    """Registry names a slow cell trains; fails on a training call whose recipe is not a registered one, or that changes
    it"""
    tree, names = ast.parse(cell), set()
    loop_vars = {n.target.id for n in ast.walk(tree) if isinstance(n, ast.For) and isinstance(n.target, ast.Name)
                 and isinstance(n.iter, ast.Name) and n.iter.id == 'RECIPES'}
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id.startswith('train_')):
            continue
        if call.func.id == 'train_requested': continue
        arg = call.args[0]
        if isinstance(arg, ast.Constant): got = {arg.value}
        elif isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name) and arg.value.id == 'RECIPES':
            got = {arg.slice.value}
            saved = [k.value for k in call.keywords if k.arg == 'name']
            assert len(saved) == 1 and isinstance(saved[0], ast.Constant) and saved[0].value == arg.slice.value, \
                f"{call.func.id}(RECIPES[{arg.slice.value!r}], ..., name=...) must save under the same name"
        elif isinstance(arg, ast.Name) and arg.id in loop_vars: got = set(notebook_recipes)
        else: continue   # not a registered recipe (a model that ships no weights yet); shipped ones are checked below
        bad = {k.arg for k in call.keywords} - ALLOWED_KW
        assert not bad, f"{call.func.id}: {bad} would change the recipe"
        names |= got
    return names


def test_slow_cells_train_the_registered_recipes():
    reg, trained = read_registry(), set()
    for nb, cells, slow in slow_cells():
        if not slow: continue
        mod = next(c.split()[-1] for c in cells if c.startswith('#| default_exp'))
        nb_recipes = getattr(importlib.import_module(f'willie.{mod}'), 'RECIPES', {})
        for cell in slow:
            names = trained_names(cell, nb_recipes)
            if names:
                assert 'train_requested(TRAIN)' in cell, (f"{nb.name}: a slow training cell must wait for the TRAIN "
                                                          "switch")
                assert any(re.match(r'^TRAIN = False', c, re.M) for c in cells), f"{nb.name}: no `TRAIN = False` switch"
            assert names <= set(nb_recipes), f"{nb.name} trains {names - set(nb_recipes)}, not recipes of its module"
            trained |= names
    assert set(reg) - set(gpu_trained()) <= trained, ("shipped weights no slow cell reproduces: "
                                                      f"{set(reg) - set(gpu_trained()) - trained}")


def test_train_requested(monkeypatch, capsys):
    monkeypatch.delenv('IN_TEST', raising=False)
    assert not train_requested(False) and 'TRAIN = True' in capsys.readouterr().out
    assert train_requested(True)
    monkeypatch.setenv('IN_TEST', '1')   # nbdev_test runs `slow` cells only with --flags slow
    assert train_requested(False)


def test_runs_save_into_the_package_only_when_asked(monkeypatch, tmp_path):
    monkeypatch.setenv('WILLIE_HOME', str(tmp_path))
    monkeypatch.delenv('WILLIE_SAVE_WEIGHTS', raising=False)
    assert save_dir() == tmp_path/'weights'
    monkeypatch.setenv('WILLIE_SAVE_WEIGHTS', '1')
    assert save_dir() == WEIGHTS_DIR


def test_weights_that_no_longer_ship(monkeypatch, tmp_path):
    """Recipes whose weights left the package: `load_weights` says in one line how to make them, then finds them in the
    cache"""
    from willie.train.weights import NOT_BUNDLED, UnknownWeightsError, cache_dir, known_weights
    from willie.tokenizers.video_vae import VideoFSQVAE, VideoFSQVAEConfig
    monkeypatch.setenv('WILLIE_HOME', str(tmp_path)); monkeypatch.delenv('WILLIE_SAVE_WEIGHTS', raising=False)
    reg = read_registry()
    assert NOT_BUNDLED and set(NOT_BUNDLED) <= set(recipes()), "NOT_BUNDLED names a model notebook's recipe"
    assert not set(NOT_BUNDLED) & set(reg) and not [f.name for n in NOT_BUNDLED for f in WEIGHTS_DIR.glob(f'{n}.*')]
    for name, minutes in NOT_BUNDLED.items():
        with pytest.raises(UnknownWeightsError) as e: load_weights(name)
        assert (f'`willie train {name}`' in str(e.value) and f'about {minutes} min' in str(e.value)
                and '\n' not in str(e.value))
    with pytest.raises(UnknownWeightsError,
                       match="^no bundled weights named 'nope'; known: \\['causal_s4_64', 'fsq_vae_64'"):
        load_weights('nope')
    small = VideoFSQVAE(VideoFSQVAEConfig(ch=(8, 8, 8), n_res=(0, 0, 1)))
    # as `willie train` saves
    for name in ('vq_vae_64', 'fsq_vae_64'): save_weights(small, name, weights_dir=save_dir())
    assert save_dir() == cache_dir() == tmp_path/'weights'
    assert list(load_weights('vq_vae_64').cfg.ch) == [8, 8, 8]                                    # found in the cache
    # the package first
    assert sum(p.numel() for p in load_weights('fsq_vae_64').parameters()) == reg['fsq_vae_64']['params']
    assert known_weights()['vq_vae_64']['params'] == sum(p.numel() for p in small.parameters())
    assert known_weights()['fsq_vae_64'] == reg['fsq_vae_64']
    with pytest.raises(UnknownWeightsError, match="no bundled weights named 'vq_vae_64'"):
        load_weights('vq_vae_64', WEIGHTS_DIR)


def test_tokenizer_smoke_run_on_synthetic_store(synth_store, tmp_path):
    """A few steps of the tokenizer recipe on a small synthetic store: the loss falls, the recipe is saved with the
    weights"""
    from willie.tokenizers.video_vae import VideoFSQVAEConfig, tokenizer_data, tokenizer_recipe, train_tokenizer
    recipe = tokenizer_recipe('VideoFSQVAE', VideoFSQVAEConfig(ch=(8, 8, 8), n_res=(0, 0, 1)), steps=12, lr=3e-3)
    recipe = replace(recipe, data=replace(recipe.data, clip_len=8, n_eval=2, block_len=16, val_every=3),
                     train=replace(recipe.train, eval_every=6))
    train_ds, val_ds = tokenizer_data(recipe, synth_store)
    lines = []
    model, metrics = train_tokenizer(recipe, train_ds, val_ds, name='smoke', save_to=tmp_path, log=lines.append)
    assert metrics['steps'] == 12 and len(lines) >= 3
    e = read_registry(tmp_path)['smoke']
    assert e['recipe'] == recipe.to_dict() and e['arch'] == 'VideoFSQVAE'
    m2 = load_weights('smoke', weights_dir=tmp_path)
    assert m2.token_shape((8, 32, 32)) == (2, 4, 4)


def test_loss_falls_on_synthetic_store(synth_store):
    from willie.train.loop import Trainer, TrainConfig, step_batches
    from willie.tokenizers.video_vae import (VideoFSQVAE, VideoFSQVAEConfig, recon_loss, tokenizer_augment,
                                             tokenizer_data, tokenizer_recipe)
    recipe = tokenizer_recipe('VideoFSQVAE', VideoFSQVAEConfig(ch=(8, 16, 16), n_res=(0, 0, 1)), steps=40)
    recipe = replace(recipe, data=replace(recipe.data, clip_len=8, block_len=16, val_every=3))
    train_ds, _ = tokenizer_data(recipe, synth_store)
    torch.manual_seed(0)
    t = Trainer(VideoFSQVAE(VideoFSQVAEConfig(ch=(8, 16, 16), n_res=(0, 0, 1))), recon_loss, step_batches(train_ds, 4), 
                TrainConfig(steps=40, lr=3e-3, warmup=4, log_every=1), log=lambda s: None).fit()
    first, last = [sum(h['loss'] for h in hs) / len(hs) for hs in (t.history[:5], t.history[-5:])]
    assert last < 0.7 * first, (first, last)


def test_old_arch_names_still_load(tmp_path):
    from willie.tokenizers.video_vae import VideoFSQVAE, VideoFSQVAEConfig
    save_weights(VideoFSQVAE(VideoFSQVAEConfig(ch=(8, 16, 16))), 'old', weights_dir=tmp_path)
    reg = read_registry(tmp_path)
    reg['old'] |= {'arch': 'willie.tokenizers.video_vae:VideoFSQVAE',
                   'config_cls': 'willie.tokenizers.video_vae:VideoFSQVAEConfig'}
    del reg['old']['recipe'], reg['old']['commit'], reg['old']['depends']   # an entry as the first release wrote them
    (tmp_path/'registry.json').write_text(json.dumps(reg))
    assert isinstance(load_weights('old', weights_dir=tmp_path), VideoFSQVAE)


def test_registry_writes_are_locked(tmp_path):
    "Processes saving at once keep every entry (threads here; `locked` is a POSIX flock per open file)"
    import threading
    from willie.tokenizers.video_vae import VideoFSQVAE, VideoFSQVAEConfig
    m = VideoFSQVAE(VideoFSQVAEConfig(ch=(8, 16, 16)))
    ts = [threading.Thread(target=save_weights, args=(m, f'run{i}'),
                           kwargs=dict(weights_dir=tmp_path)) for i in range(6)]
    for t in ts: t.start()
    for t in ts: t.join()
    assert sorted(read_registry(tmp_path)) == [f'run{i}' for i in range(6)]


def test_a_recipe_file_needs_its_parts(tmp_path):
    "A recipe file with an arch but no model, data or seed is a `RecipeError` (a user's mistake), not a KeyError later"
    (tmp_path/'half.json').write_text(json.dumps({'arch': 'Prior', 'model': {}}))
    with pytest.raises(RecipeError, match="half.json: the recipe needs 'seed', 'data', 'train'"):
        load_recipe(str(tmp_path/'half.json'))


def test_a_fresh_python_loads_any_entry(tmp_path):
    "`load_weights` alone imports the module an entry names; an entry saved before entries named it still loads"
    import subprocess, sys
    reg, legacy = read_registry(), ('fsq_vae_64', 'upsample_64_256')
    old = {n: {k: v for k, v in reg[n].items() if k not in ('module', 'config_module')} for n in legacy}
    (tmp_path/'registry.json').write_text(json.dumps(old))
    for n in old: (tmp_path/reg[n]['file']).symlink_to(WEIGHTS_DIR/reg[n]['file'])
    code = ("import sys; from willie.train.weights import load_weights as lw; "
            f"print([type(lw(n)).__name__ for n in ('prior_s4_64', 'causal_s4_64', 'upsample_64_256', 'vae_cifar')], "
            f"[type(lw(n, {str(tmp_path)!r})).__name__ for n in {legacy!r}], 'willie.apps.recipes' in sys.modules)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['Prior', 'CausalTokenizer', 'Upsampler', 'VAE'] ['VideoFSQVAE', 'Upsampler'] False", out
