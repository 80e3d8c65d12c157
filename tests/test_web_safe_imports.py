import subprocess
import sys
from pathlib import Path

WEB_SAFE = ["transform.params", "transform.infotext", "transform.head_crop"]
HEAVY = ["torch", "diffusers", "transformers", "controlnet_aux"]


def test_web_modules_do_not_import_the_generation_stack():
    code = (
        "import django, sys; django.setup(); "
        + "".join(f"import {name}; " for name in WEB_SAFE)
        + f"print([name for name in {HEAVY!r} if name in sys.modules])"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": ""},
    ).stdout
    assert output.strip() == "[]"
