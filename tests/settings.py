"""Settings for the test suite: the real settings, with throwaway media and static storage."""

import os
import tempfile

# Set in the environment so that subprocesses (gunicorn, workers) share the same directory.
os.environ.setdefault("FTA_MEDIA_ROOT", tempfile.mkdtemp(prefix="fta-test-media-"))

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
