"The causal tokenizer's training recipe end to end on a small synthetic store: both phases, the save, the reload."
import json, math
from dataclasses import replace
import torch, pytest
from willie.tokenizers.magvit import magvit_recipe, train_magvit, GANConfig, RECIPES
from willie.tokenizers.causal import CausalTokenizer, CausalTokenizerConfig
from willie.tokenizers.gan import DiscriminatorConfig
from willie.tokenizers.video_vae import tokenizer_data
from willie.train.weights import Recipe, read_registry, load_weights

def tiny_recipe(recon_steps, gan_steps):
    r = magvit_recipe(recon_steps=recon_steps, gan_steps=gan_steps, gan=GANConfig(ramp=2, r1_every=2),
                      model=CausalTokenizerConfig(ch=(8, 16, 16), enc_res=(0, 0, 1), dec_res=(0, 0, 1)),
                      disc=DiscriminatorConfig(ch=(8, 8, 16, 16), ch_2d=(8, 16, 16)))
    return replace(r, data=replace(r.data, clip_len=9, n_eval=2, block_len=16, val_every=3),
                   recon=replace(r.recon, lr=3e-3, warmup=2, eval_every=recon_steps),
                   gan=replace(r.gan, eval_every=max(1, gan_steps)))

def test_recipes_are_json_and_share_phase_one():
    assert all(Recipe.from_dict(json.loads(json.dumps(r.to_dict()))) == r for r in RECIPES.values())
    a, b = RECIPES['causal_64'], RECIPES['magvit_gan_64']
    assert a.recon == b.recon and a.model == b.model and a.gan.steps == 0 < b.gan.steps

def test_both_phases_on_a_synthetic_store(synth_store, tmp_path):
    r = tiny_recipe(30, 3)
    lines = []
    model, metrics = train_magvit(r, *tokenizer_data(r, synth_store), name='smoke_gan', save_to=tmp_path,
                                  ckpt_dir=tmp_path/'runs', log=lines.append)
    assert metrics['steps'] == 33 and all(math.isfinite(metrics[k]) for k in ('val_psnr', 'val_sharpness', 'bpp'))
    e = read_registry(tmp_path)['smoke_gan']
    assert e['recipe'] == r.ran({'recon': 30, 'gan': 3}).to_dict() and e['arch'] == 'CausalTokenizer'
    assert e['recipe']['recon']['steps_taken'] == 30 and e['recipe']['gan']['steps_taken'] == 3
    hist = json.loads((tmp_path/'smoke_gan.history.json').read_text())
    assert {'d_loss', 'g_adv', 'logit_real', 'logit_fake', 'sharp'} <= set(hist[-1])
    again = load_weights('smoke_gan', weights_dir=tmp_path)
    assert isinstance(again, CausalTokenizer) and again.token_shape((9, 32, 32)) == (3, 4, 4)
    recon = json.loads(json.dumps([l for l in lines]))
    assert len(recon) >= 2

def test_reconstruction_loss_falls(synth_store, tmp_path):
    r = tiny_recipe(40, 0)
    from willie.train.loop import Trainer
    model, metrics = train_magvit(r, *tokenizer_data(r, synth_store), ckpt_dir=tmp_path/'runs', log=lambda s: None)
    assert metrics['steps'] == 40
    state = torch.load(next((tmp_path/'runs'/'recon').glob('*.state.pt')), weights_only=True)
    losses = [h['loss'] for h in state['history']]
    assert sum(losses[-2:]) / 2 < 0.8 * sum(losses[:2]) / 2, losses

def test_gan_phase_with_head_start_more_d_steps_and_shifts(synth_store, tmp_path):
    r = tiny_recipe(4, 12)
    r = replace(r, gan=replace(r.gan, head_start=6, d_steps=2, d_shift=2), recon=replace(r.recon, eval_every=4))
    model, metrics = train_magvit(r, *tokenizer_data(r, synth_store), name='smoke_hs', save_to=tmp_path,
                                  log=lambda s: None)
    hist = json.loads((tmp_path/'smoke_hs.history.json').read_text())   # every other logged step: 0 and 10
    assert [(h['step'], h['gan_w'], h['g_norm'] > 0) for h in hist] == [(0, 0.0, False), (10, 0.1, True)]
    assert hist[0]['d_norm'] > 0                                         # the discriminators trained in the head start

def test_recipes_from_before_a_gan_field_still_train(synth_store, tmp_path):
    d = tiny_recipe(2, 2).to_dict()
    for k in ('head_start', 'd_steps', 'd_shift'): del d['gan'][k]   # as the registry's older recipes are stored
    r = Recipe.from_dict(d)                                          # the fields newer than it get their defaults
    assert (r.gan.head_start, r.gan.d_steps, r.gan.d_shift) == (0, 1, 0)
    model, metrics = train_magvit(r, *tokenizer_data(r, synth_store), log=lambda s: None)
    assert metrics['steps'] == 4
