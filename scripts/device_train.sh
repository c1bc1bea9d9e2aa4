#!/usr/bin/env bash
# The training chain on a GPU machine, one command from the repository root (any CUDA machine with PyTorch):
#   bash scripts/device_train.sh OUT [--tiny] [--only STAGE...]
# Packages the machine lacks travel as wheels in .device/wheels (scripts/device_pack.py puts them there).
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bash scripts/device_train.sh OUT [--tiny] [--only STAGE...]"; exit 2; }
pack="${WILLIE_DEVICE_PACK:-.device}"
if compgen -G "$pack/wheels/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/willie-site \
    "$pack"/wheels/*.whl || { echo "could not install the carried wheels in $pack/wheels"; exit 3; }
  export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}/tmp/willie-site"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 WILLIE_HOME="${WILLIE_HOME:-/tmp/willie-home}"
exec python3 scripts/device_train.py "$@"
