#!/usr/bin/env bash
# Where there is network: downloads the pure-Python wheels the GPU check needs and a bare CUDA machine lacks
# (it has torch, transformers, accelerate, safetensors, numpy, pillow) into var/gpu-wheels (git-ignored).
# Carry that folder with the checkout; bench/gpu_check.sh installs from it offline.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
# The engine's pins (requirements.txt) and the dependencies transformers does not already bring.
"$PYTHON" -m pip download --no-deps --only-binary=:all: --python-version 3.12 --dest var/gpu-wheels \
  diffusers==0.42.1 compel==2.5.1 importlib_metadata==10.2.0 zipp==4.1.2 pyparsing==3.3.3
ls -l var/gpu-wheels
