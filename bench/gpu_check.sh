#!/usr/bin/env bash
# The GPU check in one command: bench/gpu_check.sh [--tiny] [--out FILE] (more flags: python -m bench.gpu --help).
# On a bare CUDA machine without diffusers or compel it installs them, offline, from var/gpu-wheels
# (filled beforehand by bench/download_gpu_wheels.sh) into var/gpu-site, and nowhere else.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
if ! "$PYTHON" -c "import diffusers, compel" 2>/dev/null; then
  if [ ! -d var/gpu-wheels ]; then
    echo "diffusers and compel are missing and there is no var/gpu-wheels: run bench/download_gpu_wheels.sh where there is network, and carry var/gpu-wheels here." >&2
    exit 1
  fi
  "$PYTHON" -m pip install --quiet --no-index --no-deps --target var/gpu-site var/gpu-wheels/*.whl
  export PYTHONPATH="$PWD/var/gpu-site${PYTHONPATH:+:$PYTHONPATH}"
fi
exec "$PYTHON" -m bench.gpu "$@"
