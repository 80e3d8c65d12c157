"""The generation worker: `manage.py rqworker gpu` starts this class (settings.RQ["WORKER_CLASS"]).

It runs jobs in its own process (no fork per job), so the pipeline loaded for the first job, or at
start with FTA_PRELOAD_PIPELINE, serves every later one. A background thread says the worker is
alive and runs the reconcile pass.
"""

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from redis.exceptions import RedisError
from rq.worker import SimpleWorker

from . import jobs
from .reconcile import mark_alive, reconcile

log = logging.getLogger(__name__)


class PipelineWorker(SimpleWorker):
    def work(self, *args, **kwargs):
        self._stop_heartbeat = threading.Event()
        mark_alive(self.connection, jobs.WORKER_NAME)
        threading.Thread(target=self._heartbeat, name="fta-heartbeat", daemon=True).start()
        if settings.FTA_PRELOAD_PIPELINE:
            self._preload()
        try:
            return super().work(*args, **kwargs)
        finally:
            self._stop_heartbeat.set()

    def _preload(self):
        from transform.pipeline import ModelNotAvailable

        try:
            jobs.get_engine().load()
        except ModelNotAvailable as exc:
            # Keep running: each job then fails with a message the owner can read, and `doctor` says why.
            log.error("%s", exc)

    def _heartbeat(self):
        last_reconcile = None
        while True:
            try:
                mark_alive(self.connection, jobs.WORKER_NAME)
                if last_reconcile is None or time.monotonic() - last_reconcile >= settings.FTA_RECONCILE_INTERVAL:
                    last_reconcile = time.monotonic()
                    self._reconcile_once()
            except RedisError as exc:
                log.warning("Heartbeat: Redis unavailable (%s)", exc)
            except Exception:  # noqa: BLE001  the heartbeat must outlive any one failure
                log.exception("Heartbeat or reconcile failed")
            # Several heartbeats per TTL, so one late beat never makes a live worker look dead.
            if self._stop_heartbeat.wait(max(1, settings.FTA_WORKER_HEARTBEAT_TTL // 4)):
                return

    def _reconcile_once(self):
        # One worker at a time: the lock expires on its own if this one dies.
        if not self.connection.set("fta:reconcile-lock", jobs.WORKER_NAME, nx=True, ex=settings.FTA_RECONCILE_INTERVAL):
            return
        close_old_connections()
        try:
            requeued, failed = reconcile()
            if requeued or failed:
                log.warning("Reconcile: %d re-queued, %d failed", requeued, failed)
        finally:
            close_old_connections()

    def execute_job(self, job, queue):
        close_old_connections()
        try:
            return super().execute_job(job, queue)
        finally:
            close_old_connections()
