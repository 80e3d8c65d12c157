"""Shared set-up for the benchmarks that run the whole app: a throwaway database, media folder,
Redis database and tiny pipeline, then Django. Import it before anything that touches Django."""

import os
import tempfile
from pathlib import Path

WORK = Path(tempfile.mkdtemp(prefix="fta-bench-"))
os.environ.update(
    DJANGO_SETTINGS_MODULE="tests.settings",
    # BENCH_DATABASE_URL: an empty PostgreSQL database instead (the benchmark fills it).
    DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{WORK / 'db.sqlite3'}"),
    FTA_MEDIA_ROOT=str(WORK / "media"),
    REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
    FTA_UPLOADS_PER_HOUR="100000",
    FTA_GENERATIONS_PER_HOUR="100000",
    FTA_MAX_ACTIVE_GENERATIONS="100000",
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)
TINY = WORK / "tiny"
call_command("make_test_pipeline", str(TINY))
WORKER_ENV = {"FTA_SD_MODEL": TINY / "sd", "FTA_CONTROLNET_MODEL": TINY / "controlnet", "FTA_DEVICE": "cpu"}


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")
