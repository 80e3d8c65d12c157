#!/usr/bin/env bash
# The GPU check in one command: bench/gpu_check.sh [--tiny] [--out FILE] (more flags: python -m bench.gpu --help).
# On a bare CUDA machine without diffusers or compel it installs them, offline, from var/gpu-wheels
# (filled beforehand by bench/download_gpu_wheels.sh) into var/gpu-site, and nowhere else: with pip where the
# machine has it, else by unpacking the wheels (python -m zipfile -e). A second run reuses that install.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
SITE=var/gpu-site
export PYTHONPATH="$PWD/$SITE${PYTHONPATH:+:$PYTHONPATH}"

wheels() { ls var/gpu-wheels/*.whl 2>/dev/null || true; }
# diffusers and compel import, and an install in var/gpu-site was made from the wheels there are now (new
# wheels replace a stale install, a half-made one is made again).
installed() {
  "$PYTHON" -c "import diffusers, compel" 2>/dev/null &&
    { [ ! -d "$SITE" ] || [ -z "$(wheels)" ] || [ "$(wheels)" = "$(cat "$SITE/wheels.txt" 2>/dev/null)" ]; }
}

if ! installed; then
  if [ -z "$(wheels)" ]; then
    echo "diffusers and compel are missing and there is no var/gpu-wheels: run bench/download_gpu_wheels.sh where there is network, and carry var/gpu-wheels here." >&2
    exit 1
  fi
  rm -rf "$SITE"
  mkdir -p "$SITE"
  if "$PYTHON" -m pip --version >/dev/null 2>&1; then
    "$PYTHON" -m pip install --quiet --no-index --no-deps --target "$SITE" $(wheels)
  else
    echo "No pip here: unpacking the wheels into $SITE with python -m zipfile." >&2
    for wheel in $(wheels); do "$PYTHON" -m zipfile -e "$wheel" "$SITE"; done
  fi
  wheels >"$SITE/wheels.txt"
  # Says why, where the import still fails (a wrong huggingface_hub, say).
  "$PYTHON" -c "import diffusers, compel"
fi
exec "$PYTHON" -m bench.gpu "$@"
