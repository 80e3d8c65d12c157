"""`transform` is pure image and model code: importing it needs no Django settings, app or Redis."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import importlib, pkgutil, sys
import transform
from django.conf import settings
from django.utils.functional import empty

modules = [m.name for m in pkgutil.iter_modules(transform.__path__) if m.name != "management"]
for name in sorted(modules):
    importlib.import_module("transform." + name)
# The refusal paths too, which once translated their messages through Django's settings.
import io
from transform.params import GenerationParams, InvalidParams
from transform.uploads import UploadRejected, clean_upload
for data in (b"", b"not an image"):
    try:
        clean_upload(io.BytesIO(data), max_bytes=100, max_pixels=100, min_side=1)
    except UploadRejected as refusal:
        print("REFUSED:", refusal.code)
try:
    GenerationParams.from_dict({"steps": 500, "width": 300})
except InvalidParams as invalid:
    print("INVALID:", invalid)
app_modules = sorted(m for m in sys.modules if m.split(".")[0] in ("gallery", "facetoanimals", "redis", "rq", "django_rq"))
print("IMPORTED:", len(modules))
print("APP MODULES:", ",".join(app_modules))
print("SETTINGS TOUCHED:", settings._wrapped is not empty)
"""


def test_every_transform_module_imports_without_django_settings_the_app_or_redis():
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert "APP MODULES: " in lines
    assert lines[:3] == [
        "REFUSED: empty",
        "REFUSED: unsupported",
        "INVALID: steps: Must be between 1 and 100.; width: Must be a multiple of 64.",
    ]
    assert "SETTINGS TOUCHED: False" in lines
    assert int(next(line for line in lines if line.startswith("IMPORTED:")).split()[1]) >= 20
