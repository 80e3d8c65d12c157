"""Faults for the worker subprocesses of tests/test_worker_faults.py, where no real service can make them.

The worker and the storage here are the real ones with one fault added, chosen on the command line
(`rqworker --worker-class`) or by the settings module (`tests.full_disk_settings`).
"""

import errno
import os
import signal

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import connection
from storages.backends.s3 import S3Storage

from gallery.generations.worker import PipelineWorker


class DatabaseDroppingWorker(PipelineWorker):
    """SIGUSR1 closes the job's database connection under Django's feet, as a database restart does.

    PostgreSQL tests use pg_terminate_backend instead; SQLite has no server to restart.
    """

    def work(self, *args, **kwargs):
        signal.signal(signal.SIGUSR1, lambda signum, frame: connection.connection and connection.connection.close())
        return super().work(*args, **kwargs)


class RunsOutOfSpace:
    """Writes half of every dog thumbnail, then fails as a full disk does (ENOSPC)."""

    def _save(self, name, content):
        if name.startswith("dogs/") and name.endswith(".webp"):
            data = content.read()
            super()._save(name, ContentFile(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super()._save(name, content)


class FullDiskStorage(RunsOutOfSpace, FileSystemStorage):
    pass


class FullBucketStorage(RunsOutOfSpace, S3Storage):
    """The same fault with FTA_STORAGE=s3 (a bucket over its quota, as some S3-compatible stores have)."""
