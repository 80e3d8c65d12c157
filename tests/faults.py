"""Faults for the worker subprocesses of tests/test_worker_faults.py, where no real service can make them.

The worker here is the real one with one fault added, chosen on the command line (`rqworker --worker-class`).
"""

import signal

from django.db import connection

from gallery.generations.worker import PipelineWorker


class DatabaseDroppingWorker(PipelineWorker):
    """SIGUSR1 closes the job's database connection under Django's feet, as a database restart does.

    PostgreSQL tests use pg_terminate_backend instead; SQLite has no server to restart.
    """

    def work(self, *args, **kwargs):
        signal.signal(signal.SIGUSR1, lambda signum, frame: connection.connection and connection.connection.close())
        return super().work(*args, **kwargs)
