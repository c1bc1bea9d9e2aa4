#!/usr/bin/env bash
# ColorVideoVDP (JOD, willie.eval.metrics.jod) beside the course's torch, without letting pip replace that torch.
# `pip install cvvdp` pulls the newest torchvision and with it a newer torch (several GB, CUDA); PyPI's torchvision
# builds for torch 2.13 fail to load their C++ operators beside the CPU build. ColorVideoVDP only needs torchvision's
# pure-Python transforms (GaussianBlur), so its own packages go in without dependencies, with the last torchvision
# whose failing C++ extension is a warning rather than an error.
set -euo pipefail
python -m pip install -q --no-deps cvvdp==0.5.7 torchvision==0.15.2 ffmpeg-python==0.2.0 future imageio tqdm scipy
python -m pip install -q huggingface_hub
python -W ignore -c "import pycvvdp" && echo "cvvdp: ready"
