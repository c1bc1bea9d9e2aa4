"""A new model joins the course the way a contributor would add one: a model class and its config, a recipe (its
`Recipe` class: data and phase), one task registration (data, training function, tiny version), and nothing else: no
list of modules or recipes to edit. Then it trains through the functions `willie train` uses, from a recipe name or a
.json file, is saved to a registry, loads back by name with `load_weights`, and is evaluated."""
import json
from dataclasses import dataclass, replace
import pytest, torch
import torch.nn.functional as F
from torch import nn

from willie.apps.cli import main
from willie.apps.recipes import all_recipes, build, load_recipe, tiny_recipe, train_recipe
from willie.train.loop import Trained, Trainer, step_batches
from willie.train.weights import (TASKS, Phase, Recipe, RecipeError, Task, load_weights, read_registry, register_task,
                                  save_dir, save_weights)


# --- what a contributor writes: the model, its recipe, its data, its training function, its task ---------------------
@dataclass
class ToyConfig:
    "A one-hidden-layer regressor of sin(x)"
    width:int=16 # hidden units

class Toy(nn.Module):
    def __init__(self, cfg:ToyConfig):
        super().__init__(); self.cfg = cfg
        self.net = nn.Sequential(nn.Linear(1, cfg.width), nn.Tanh(), nn.Linear(cfg.width, 1))
    def forward(self, x): return self.net(x)

@dataclass(kw_only=True)
class ToyData:
    "How many points of sin(x) to draw, and how many of them are held out"
    n:int=256 # points
    n_val:int=32 # of them held out

@dataclass(kw_only=True)
class ToyRecipe(Recipe):
    data:ToyData # the points
    train:Phase # the one training phase

def toy_recipe(steps:int=150, width:int=16, seed:int=0)->ToyRecipe:
    return ToyRecipe(arch='Toy', model=ToyConfig(width), seed=seed, data=ToyData(),
                     train=Phase(steps=steps, bs=32, lr=1e-2, warmup=10, eval_every=50))

def toy_data(recipe:ToyRecipe, store=None, progress:bool=True)->dict:
    "Synthetic points of sin(x) on [-2, 2]: the training function's `train` and `val`"
    if store is not None: raise RecipeError("Toy recipe: it makes its own data; it takes no store")
    n, k = recipe.data.n, recipe.data.n_val
    x = torch.rand(n, 1, generator=torch.Generator().manual_seed(recipe.seed)) * 4 - 2
    return dict(train=(x[k:], torch.sin(x[k:])), val=(x[:k], torch.sin(x[:k])))

@torch.no_grad()
def evaluate_toy(model:nn.Module, val:tuple)->dict: return {'val_mse': F.mse_loss(model(val[0]), val[1]).item()}

def train_toy(recipe:ToyRecipe, train:tuple, val:tuple, name=None, save_to=None, ckpt_dir=None, log=print)->Trained:
    torch.manual_seed(recipe.seed)
    model, t = TOY.build(recipe), recipe.train
    trainer = Trainer(model, lambda m, b: (F.mse_loss(m(b[0]), b[1]), {}), step_batches(train, t.bs, recipe.seed),
                      recipe.train_config(t), eval_fn=lambda m: evaluate_toy(m, val), ckpt_dir=ckpt_dir,
                      log=log).fit()
    metrics = dict(steps=trainer.step, **evaluate_toy(model.eval(), val))
    if name is not None: save_weights(model, name, metrics, weights_dir=save_to or save_dir(), recipe=recipe)
    return Trained(model, metrics, trainer)

def tiny_toy(recipe:ToyRecipe, steps:int=1)->ToyRecipe:
    return replace(recipe, train=replace(recipe.train, steps=steps, warmup=0, eval_every=steps))

TOY = Task(Toy, ToyConfig, ToyRecipe, {'toy_sin': toy_recipe()}, toy_data, train_toy, tiny_toy)
# ----------------------------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def toy_task(monkeypatch):
    "The registration a model notebook does at import, undone after each test so no other test sees the toy"
    monkeypatch.setitem(TASKS, 'Toy', TOY)
    register_task(TOY)
    yield TOY


def test_the_task_makes_it_a_recipe_like_any_other():
    assert all_recipes()['toy_sin'] == toy_recipe() and load_recipe('toy_sin') == ('toy_sin', toy_recipe())
    assert type(build(toy_recipe())) is Toy and sum(p.numel() for p in build(toy_recipe()).parameters()) == 49
    assert tiny_recipe(toy_recipe()).train.steps == 1
    assert Recipe.from_dict(toy_recipe().to_dict()) == toy_recipe()   # JSON and back, by its task's Recipe class


def test_train_save_load_evaluate(tmp_path):
    "`train_recipe` (what `willie train` calls) trains it, saves it with its recipe; `load_weights` rebuilds it by name"
    val = toy_data(toy_recipe())['val']
    torch.manual_seed(0)
    untrained = evaluate_toy(Toy(ToyConfig()), val)['val_mse']
    lines = []
    model, metrics = res = train_recipe('toy_sin', name='toy_sin', save_to=tmp_path/'w', ckpt_dir=tmp_path/'run',
                                        log=lines.append, progress=False)
    assert isinstance(res, Trained) and len(res.trainer.evals) == 3 and lines
    assert metrics['steps'] == 150 and metrics['val_mse'] < 0.2 * untrained, (metrics, untrained)
    e = read_registry(tmp_path/'w')['toy_sin']
    assert e['arch'] == 'Toy' and e['recipe'] == toy_recipe().to_dict() and e['metrics'] == metrics
    loaded = load_weights('toy_sin', weights_dir=tmp_path/'w')
    assert type(loaded) is Toy and not loaded.training
    assert evaluate_toy(loaded, val)['val_mse'] == pytest.approx(metrics['val_mse'], rel=0.05, abs=1e-4)  # fp16 storage
    with pytest.raises(RecipeError, match='it takes no store'): train_recipe('toy_sin', store=tmp_path)


def test_willie_train_a_recipe_file(tmp_path, capsys):
    "`willie train my_toy.json` trains a recipe file of the new task, as it would any other recipe"
    (tmp_path/'my_toy.json').write_text(json.dumps(toy_recipe(steps=20, width=8).to_dict()))
    args = ['--weights-dir', str(tmp_path/'w'), '--ckpt-dir', str(tmp_path/'run'), '--quiet']
    assert main(['train', str(tmp_path/'my_toy.json'), '--name', 'my_toy', *args]) == 0
    assert 'trained' in capsys.readouterr().out
    assert load_weights('my_toy', weights_dir=tmp_path/'w').cfg == ToyConfig(width=8)
    assert main(['train', 'toy_sin', '--steps', '3', '--ckpt-dir', str(tmp_path/'short'), '--quiet']) == 0  # not saved
    assert set(read_registry(tmp_path/'w')) == {'my_toy'}
    (tmp_path/'bad_toy.json').write_text(json.dumps(toy_recipe().to_dict() | {'data': {'n': 256, 'nval': 32}}))
    capsys.readouterr()
    assert main(['train', str(tmp_path/'bad_toy.json'), *args]) == 1   # refused before anything trains, in one line
    assert capsys.readouterr().err == "willie: error: bad_toy.json: data has no field 'nval'; ToyData has n, n_val\n"
