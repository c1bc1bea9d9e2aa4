"""Seconds per training step of the course's video tokenizer under the training loop's speed switches.

Each variant (fp32 baseline, bf16 autocast, channels_last_3d, both, and each of those under torch.compile with
--compile) trains the same model on the same batches through `willie.train.loop.Trainer`. Variants are timed
round-robin, `--repeats` times, so a change in machine load hits all of them alike; the table shows the median
s/step and the speed-up over the fp32 baseline measured in the same run.

    python bench/bench_train.py                  # VideoFSQVAE, batch 8 of 16x64x64 clips, 2 threads
    python bench/bench_train.py --compile --threads 1
"""
import argparse, statistics, time

import torch
from torch import nn

from willie.train.loop import Trainer, TrainConfig, step_batches
from willie.tokenizers.video_vae import VideoFSQVAE, VideoFSQVAEConfig


def loss_fn(model, x):
    x_hat, aux, _ = model(x)
    return nn.functional.mse_loss(x_hat.float(), x) + aux, {}


def make_trainer(variant, clips, bs):
    bf16, cl, comp = 'bf16' in variant, 'channels_last' in variant, 'compile' in variant
    torch.manual_seed(0)
    cfg = TrainConfig(steps=10**6, lr=1e-3, warmup=1, bf16=bf16, channels_last=cl, compile=comp, log_every=10**6)
    return Trainer(VideoFSQVAE(VideoFSQVAEConfig()), loss_fn, step_batches(clips, bs), cfg)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--bs', type=int, default=8, help='clips per batch')
    p.add_argument('--steps', type=int, default=5, help='timed steps per measurement')
    p.add_argument('--repeats', type=int, default=3, help='round-robin measurements per variant')
    p.add_argument('--threads', type=int, default=2, help='torch intra-op threads')
    p.add_argument('--compile', action='store_true', help='also time torch.compile variants (compiles first)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    clips = torch.rand(64, 1, 16, 64, 64) * 2 - 1
    variants = ['fp32', 'bf16', 'channels_last', 'bf16+channels_last']
    if a.compile: variants += [v + '+compile' for v in variants]
    trainers = {v: make_trainer(v, clips, a.bs) for v in variants}
    for v, t in trainers.items():  # warm-up (and compilation) outside the timings
        t0 = time.perf_counter()
        for s in range(2): t.train_step(t.batch_fn(s))
        print(f'warm-up {v:<28} {time.perf_counter() - t0:6.1f} s', flush=True)
    times = {v: [] for v in variants}
    for r in range(a.repeats):
        for v, t in trainers.items():
            t0 = time.perf_counter()
            for s in range(a.steps): t.train_step(t.batch_fn(s))
            times[v].append((time.perf_counter() - t0) / a.steps)
    n_params = sum(p.numel() for p in trainers['fp32'].model.parameters())
    print(f'\nVideoFSQVAE ({n_params/1e6:.2f}M params), batch {a.bs} x 1x16x64x64, {a.threads} threads, '
          f'median of {a.repeats} x {a.steps} steps, torch {torch.__version__}')
    print(f"{'variant':<28} {'s/step':>8} {'clips/s':>8} {'speed-up vs fp32':>17}")
    base = statistics.median(times['fp32'])
    for v in variants:
        m = statistics.median(times[v])
        print(f'{v:<28} {m:8.3f} {a.bs / m:8.1f} {base / m:16.2f}x')


if __name__ == '__main__': main()
