"""Settings for the test suite: the real settings, with throwaway media and static storage."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

if "FTA_TEST_DIR" not in os.environ:
    # One throwaway folder per test run, removed when the run ends. In the environment, so that
    # subprocesses (gunicorn, workers) share it, and only the process that made it removes it.
    os.environ["FTA_TEST_DIR"] = tempfile.mkdtemp(prefix="fta-test-")
    atexit.register(shutil.rmtree, os.environ["FTA_TEST_DIR"], ignore_errors=True)
TEST_DIR = Path(os.environ["FTA_TEST_DIR"])
# The secret key, database and static files go there too, never into the checkout's var/.
os.environ.setdefault("FTA_VAR_DIR", str(TEST_DIR / "var"))
os.environ.setdefault("FTA_MEDIA_ROOT", str(TEST_DIR / "media"))
# bin/test starts a throwaway Redis; a bare `pytest` keeps off database 0 of the local one.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

if os.environ.get("FTA_STORAGE") == "s3":
    # The whole suite on object storage: bin/test's moto server, one bucket per test run.
    os.environ.setdefault("FTA_S3_ENDPOINT_URL", os.environ.get("FTA_TEST_S3_ENDPOINT", ""))
    os.environ.setdefault("FTA_S3_BUCKET", f"fta-test-{os.getpid()}")
    os.environ.setdefault("FTA_S3_REGION", "us-east-1")
    os.environ.setdefault("FTA_S3_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("FTA_S3_SECRET_ACCESS_KEY", "testing")

from facetoanimals.settings import *  # noqa: E402,F403

# No collectstatic before tests: plain storage instead of the hashed manifest.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Static files straight from the source folders (no collectstatic), also in gunicorn subprocesses.
STATIC_ROOT = TEST_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory, so that worker and gunicorn subprocesses see the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(TEST_DIR / "test-db.sqlite3")}  # noqa: F405
