#!/usr/bin/env bash
# Where there is network: downloads the pure-Python wheels the GPU check needs and a bare CUDA machine lacks
# (it has torch, transformers, accelerate, safetensors, numpy, pillow and what they bring) into var/gpu-wheels
# (git-ignored). Carry that folder with the checkout; bench/gpu_check.sh installs from it offline, --no-deps.
# tests/test_gpu_check.py runs the check on exactly those packages plus the wheels named here.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
# The engine's pins (requirements.txt), compel's pyparsing, and requests with its dependencies: diffusers
# imports requests, which transformers 5 and huggingface_hub 1+ no longer bring (charset-normalizer is optional
# to requests). --platform any: pure-Python wheels only, whatever the GPU machine's architecture.
"$PYTHON" -m pip download --no-deps --only-binary=:all: --platform any --python-version 3.12 --dest var/gpu-wheels \
  diffusers==0.42.1 compel==2.5.1 pyparsing==3.3.3 \
  requests==2.34.2 urllib3==2.8.0 certifi==2026.10.19.post1 idna==3.20 charset-normalizer==3.5.3
ls -l var/gpu-wheels
