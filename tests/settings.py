"""Settings for the test suite: the real settings, with throwaway media and static storage."""

import os
import tempfile

# Set in the environment so that subprocesses (gunicorn, workers) share the same directory.
if not os.environ.get("FTA_MEDIA_ROOT"):
    os.environ["FTA_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="fta-test-media-")
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
STATIC_ROOT = MEDIA_ROOT.parent / (MEDIA_ROOT.name + "-static")  # noqa: F405
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory, so that worker and gunicorn subprocesses see the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(MEDIA_ROOT.parent / (MEDIA_ROOT.name + "-db.sqlite3"))}  # noqa: F405
