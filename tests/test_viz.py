"Tests for `willie.base.viz` on small synthetic clips (no film needed)."
import base64, io

import av
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image

from willie.base.viz import (ClipScrubber, compose, encode_clip, error_clip, frame_strip, save_clip, show_clip,
                             show_grid, tile, display_frames)


def moving(T=8, H=16, W=16, seed=0):
    "(1,T,H,W) in [-1,1]; every frame differs (a bright pixel walks along the diagonal over a random background)."
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(1, T, H, W, generator=g) - 0.8
    for t in range(T): x[0, t, t % H, t % W] = 1.0
    return x


def png(b): return np.asarray(Image.open(io.BytesIO(b)))


def gif_frames(b):
    im = Image.open(io.BytesIO(b)); out = []
    for i in range(im.n_frames): im.seek(i); out.append(np.asarray(im.convert('L')))
    return np.stack(out)


# ---- display_frames
def test_display_frames_layouts_and_values():
    x = moving()
    u = display_frames(x)
    assert u.shape == (8, 16, 16) and u.dtype == np.uint8
    assert np.array_equal(display_frames(x[0].numpy()), u)
    assert np.array_equal(display_frames(u), u)
    assert np.array_equal(display_frames(torch.from_numpy(u)), u)
    assert display_frames(x.half()).shape == (8, 16, 16)
    assert display_frames(x.expand(3, -1, -1, -1)).shape == (8, 16, 16, 3)
    assert display_frames(torch.tensor([[[-1., 0., 1., 1.2, -1.3]]])).tolist() == [[[0, 128, 255, 255, 0]]]


@pytest.mark.parametrize('bad, msg', [
    (torch.zeros(16, 16), '(16, 16)'),
    (torch.zeros(2, 8, 16, 16), '(2, 8, 16, 16)'),
    (torch.zeros(2, 1, 8, 16, 16), '(2, 1, 8, 16, 16)'),
    (torch.zeros(0, 16, 16), 'empty'),
    (torch.full((2, 4, 4), 255.), 'use to_float'),
    (torch.full((2, 4, 4), float('nan')), 'NaN'),
    (np.zeros((2, 4, 4), np.int64), 'int64'),
])
def test_display_frames_errors(bad, msg):
    with pytest.raises(ValueError) as e: display_frames(bad)
    assert msg in str(e.value)


# ---- tile / frame_strip / show_grid
def test_tile_and_strip():
    u = display_frames(moving())
    s = frame_strip(u, ncol=4, pad=1)
    assert s.shape == (2 * 16 + 1, 4 * 16 + 3)
    assert np.array_equal(s[17:, 17:33], u[5])
    assert (s[16] == 255).all()
    assert tile([u[0], np.zeros((16, 16, 3), np.uint8)]).shape == (16, 33, 3)
    with pytest.raises(ValueError): tile([])


def test_show_grid_clips_rows_and_images():
    x = moving()
    ax = show_grid({'a': x, 'b': x.flip(1)})
    assert [t.get_text() for t in ax.get_yticklabels()] == ['a', 'b']
    assert np.array_equal(np.asarray(ax.images[0].get_array())[:16, :16], display_frames(x)[0])
    ax = show_grid(torch.rand(5, 3, 8, 8) * 2 - 1, ncol=3, titles=list('abcde'))
    assert np.asarray(ax.images[0].get_array()).shape[2] == 3
    assert [t.get_text() for t in ax.texts] == list('abcde')
    ax = show_grid(torch.rand(4, 1, 8, 16, 16) * 2 - 1)  # batch -> 4 rows
    assert np.asarray(ax.images[0].get_array()).shape[0] == 4 * 16 + 3 * 3
    with pytest.raises(ValueError, match='1 titles for 5 panels'): show_grid(torch.zeros(5, 1, 8, 8), titles=['a'])
    plt.close('all')


# ---- compose / save_clip / show_clip
def test_compose_side_by_side():
    x = moving()
    v = compose({'a': x, 'b': x}, scale=2, pad=2)
    assert v.shape == (8, 14 + 32, 2 * 32 + 2)
    assert np.array_equal(v[3, 14::2, 34::2], display_frames(x)[3])
    assert compose(x, scale=1).shape == (8, 16, 16)
    assert compose(x).shape == (8, 256, 256)  # default: about 256 px per panel
    with pytest.raises(ValueError, match=r"\{'a': 8, 'b': 4\}"): compose({'a': x, 'b': x[:, :4]})


def test_save_gif_roundtrip_and_atomic(tmp_path):
    x = moving()
    p = save_clip(x, tmp_path / 'sub' / 'x.gif', scale=1)
    assert np.array_equal(gif_frames(p.read_bytes()), display_frames(x))
    with pytest.raises(ValueError, match='different lengths'): save_clip([x, x[:, :4]], tmp_path / 'bad.gif')
    with pytest.raises(ValueError, match='.gif or .mp4'): save_clip(x, tmp_path / 'x.avi')
    assert sorted(q.name for q in tmp_path.rglob('*')) == ['sub', 'x.gif']


def test_save_mp4_odd_sizes(tmp_path):
    x = moving(H=15, W=17)
    p = save_clip({'a': x, 'b': x}, tmp_path / 'x.mp4', scale=1, labels=False, pad=0)
    with av.open(str(p)) as c:
        s = c.streams.video[0]
        assert (s.codec_context.name, s.codec_context.pix_fmt) == ('h264', 'yuv420p')
        fr = np.stack([f.to_ndarray(format='gray') for f in c.decode(video=0)])
    assert fr.shape == (8, 16, 34)  # 15x34 padded to even
    assert np.abs(fr[:, :15].astype(float) - compose([x, x], scale=1, pad=0)).mean() < 4


def test_show_clip_embeds_animation():
    x = moving()
    h = show_clip(x, scale=1)
    b = base64.b64decode(h.data.split('base64,')[1].split('"')[0])
    assert np.array_equal(gif_frames(b), display_frames(x))
    assert show_clip(x, fmt='mp4').data.startswith('<video')
    with pytest.raises(ValueError, match='fmt'): encode_clip(x, 'webm')


# ---- error_clip
def test_error_clip():
    x = moving()
    e = error_clip(x, x)
    assert e.shape == (3, 8, 16, 16) and e.dtype == np.uint8
    assert len(np.unique(e.reshape(3, -1), axis=1).T) == 1
    assert error_clip(x, -x).mean() > e.mean()
    with pytest.raises(ValueError, match='differ in shape'): error_clip(x, x[:, :4])


# ---- ClipScrubber
def test_scrubber_slider_changes_image():
    x, y = moving(seed=0), moving(seed=1)
    sc = ClipScrubber({'orig': x, 'other': y}, scale=2)
    before = sc.images['orig'].value
    assert png(before)[::2, ::2].tolist() == display_frames(x)[0].tolist()
    sc.slider.value = 5
    assert sc.images['orig'].value != before
    assert np.array_equal(png(sc.images['orig'].value)[::2, ::2], display_frames(x)[5])
    assert np.array_equal(png(sc.images['other'].value)[::2, ::2], display_frames(y)[5])
    assert np.array_equal(sc.current('orig'), display_frames(x)[5])
    assert (sc.slider.max, sc.play.max, sc.play.interval) == (7, 7, 125)


def test_scrubber_compare_batch():
    b = torch.cat([moving(seed=s)[None] for s in range(3)])  # (3,1,T,H,W)
    r = b.flip(-1)
    sc = ClipScrubber.compare(b, r, scale=1)
    assert list(sc.images) == ['original', 'reconstruction', '|error|']
    assert sc.clip_slider.max == 2 and sc.clip_slider in sc.children[0].children
    sc.slider.value, sc.clip_slider.value = 6, 2
    assert np.array_equal(png(sc.images['original'].value), display_frames(b[2])[6])
    assert np.array_equal(png(sc.images['reconstruction'].value), display_frames(r[2])[6])
    assert np.array_equal(png(sc.images['|error|'].value), error_clip(b[2], r[2])[:, 6].transpose(1, 2, 0))
    single = ClipScrubber({'a': b[0]})
    assert single.clip_slider not in single.children[0].children


def test_scrubber_errors():
    x = moving()
    with pytest.raises(ValueError, match=r"different lengths.*\{'a': 8, 'b': 4\}"):
        ClipScrubber({'a': x, 'b': x[:, :4]})
    b = torch.cat([x[None]] * 3)
    with pytest.raises(ValueError, match=r"\{'a': 3, 'b': 2\}"): ClipScrubber({'a': b, 'b': b[:2]})
    with pytest.raises(ValueError, match='dict'): ClipScrubber([x])
    with pytest.raises(ValueError, match='dict'): ClipScrubber({})
    with pytest.raises(ValueError, match='expected a clip'): ClipScrubber({'a': torch.zeros(8, 8)})
