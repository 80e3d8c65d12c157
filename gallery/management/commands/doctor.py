"""`manage.py doctor`: one line per check of what the app needs; exit 1 if any fails."""

import importlib.util
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


class CheckFailed(Exception):
    """Raised by a check with what to do about it."""


def check_database():
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        raise CheckFailed(f"{len(pending)} migration(s) not applied: run `python manage.py migrate`")
    return f"{connection.vendor}, migrations applied"


def check_redis():
    from gallery.generations.queue import get_queue

    queue = get_queue()
    try:
        queue.connection.ping()
    except Exception as exc:
        raise CheckFailed(
            f"Redis does not answer at REDIS_URL={settings.REDIS_URL} ({exc.__class__.__name__}): "
            "start redis-server or set REDIS_URL"
        ) from exc
    return f"{settings.REDIS_URL}, {len(queue)} job(s) queued"


def check_media_storage():
    from gallery.storage import StorageMisconfigured, check_storage

    try:
        return check_storage()
    except StorageMisconfigured as exc:
        raise CheckFailed(str(exc)) from exc


def check_mediapipe():
    spec = importlib.util.find_spec("mediapipe")
    if spec is None:
        raise CheckFailed("mediapipe is not installed: run `pip install -r requirements.txt`")
    model = Path(spec.origin).parent / "modules" / "face_landmark" / "face_landmark_with_attention.tflite"
    if not model.exists():
        raise CheckFailed("this mediapipe ships no face models: install mediapipe==0.10.14 (requirements.txt)")
    return "face models present"


def check_cnn_detector():
    from transform.face_detection import load_cnn_detector

    try:
        load_cnn_detector()
    except (ImportError, AttributeError, RuntimeError) as exc:
        raise CheckFailed(f"dlib's CNN face detector does not load ({exc}): run `pip install -r requirements.txt`") from None
    return "dlib's CNN face detector loads"


def check_inpaint_model():
    if not settings.FTA_SD_INPAINT_MODEL:
        return "not set: group photos use the base model with the mask"
    return check_model("FTA_SD_INPAINT_MODEL", "unet/config.json")


def check_model(variable, required_file):
    location = getattr(settings, variable)
    path = Path(location).expanduser()
    if path.is_dir():
        if not (path / required_file).exists() and not any(path.glob(f"*/{required_file}")):
            raise CheckFailed(f"{variable}={location} has no {required_file}: point it at a diffusers-format folder")
        return f"local folder {location}"
    from huggingface_hub import try_to_load_from_cache

    subfolders = ("", "diffusion_sd15/")
    if any(isinstance(try_to_load_from_cache(location, s + required_file), str) for s in subfolders):
        return f"{location} (Hugging Face cache)"
    raise CheckFailed(
        f"{variable}={location} is neither a local folder nor in the Hugging Face cache: "
        "download what the worker loads with `python manage.py download_models` and set the variables it prints, "
        f"or set {variable} to a local folder (`python manage.py make_test_pipeline var/tiny` makes a tiny test pipeline)"
    )


def check_device():
    wanted = settings.FTA_DEVICE
    has_gpu = bool(shutil.which("nvidia-smi")) or os.path.exists("/dev/nvidia0")
    if wanted.startswith("cuda") and not has_gpu:
        raise CheckFailed(f"FTA_DEVICE={wanted} but no NVIDIA GPU is visible: set FTA_DEVICE=auto or cpu")
    if wanted == "auto":
        return "auto → " + ("cuda (NVIDIA GPU visible)" if has_gpu else "cpu (no GPU: real weights will be slow)")
    return wanted


CHECKS = [
    ("database", check_database),
    ("redis", check_redis),
    ("media storage", check_media_storage),
    ("mediapipe", check_mediapipe),
    ("second face detector", check_cnn_detector),
    ("SD model", lambda: check_model("FTA_SD_MODEL", "model_index.json")),
    ("ControlNet model", lambda: check_model("FTA_CONTROLNET_MODEL", "config.json")),
    ("inpainting model", check_inpaint_model),
    ("device", check_device),
    ("HTTPS", lambda: "on (secure cookies, HSTS, redirect)" if settings.HTTPS else "off (FTA_HTTPS=0, fine locally)"),
]


class Command(BaseCommand):
    help = "Checks Redis, the database, the media storage (folder or S3 bucket), mediapipe, the model weights and the device."

    def handle(self, *args, **options):
        failed = 0
        for name, check in CHECKS:
            try:
                detail = check()
            except CheckFailed as exc:
                failed += 1
                self.stdout.write(self.style.ERROR(f"FAIL {name}: {exc}"))
            else:
                self.stdout.write(self.style.SUCCESS(f"ok   {name}: {detail}"))
        if failed:
            raise SystemExit(1)
