"""The generation worker: `manage.py rqworker gpu` starts this class (settings.RQ["WORKER_CLASS"]).

It runs jobs in its own process (no fork per job), so the pipeline loaded for the first job, or at
start with FTA_PRELOAD_PIPELINE, serves every later one. A background thread says the worker is
alive (and which job it runs) and whether its pipeline is ready (readiness.py), and runs the reconcile pass. It waits out Redis outages
(redis_outage.py), and after each job it makes sure the generation did not stay "running": a job
whose database connection broke, or that a cold stop interrupted, could not record its outcome.

Stopping: the first SIGTERM lets the running job finish, then the worker exits. The second (a cold
stop) interrupts the job, puts its generation back in the queue, and ends the process there and then.
"""

import logging
import os
import sys
import threading
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from redis.exceptions import RedisError
from rq.worker import SimpleWorker

from gallery.models import Generation

from . import readiness
from .job_steps import ENGINE, WORKER_NAME
from .reconcile import JobsInHand, reconcile, requeue_or_fail
from .redis_outage import RidesOutRedisOutages

log = logging.getLogger(__name__)


class PipelineWorker(RidesOutRedisOutages, SimpleWorker):
    stopping_now = False

    def work(self, *args, **kwargs):
        self._stop_heartbeat = threading.Event()
        # The alive key names the running job and its batch companions (the job's thread changes them,
        # the heartbeat's says them again); each job reaches this record through its Job (perform_job).
        self.in_hand = JobsInHand(self.connection, WORKER_NAME)
        self.in_hand.hold("")
        self.announce_pipeline()
        threading.Thread(target=self._heartbeat, name="fta-heartbeat", daemon=True).start()
        if settings.FTA_PRELOAD_PIPELINE:
            self._preload()
        try:
            return super().work(*args, **kwargs)
        finally:
            self._stop_heartbeat.set()
            try:
                readiness.withdraw(self.connection, WORKER_NAME)
            except RedisError:
                pass

    def _preload(self):
        from transform.pipeline import ModelNotAvailable

        try:
            ENGINE.get().load()
        except ModelNotAvailable as exc:
            # Keep running and say so: the web refuses new dogs while no worker has weights (with what
            # to set up), a job that slips in fails at once with the same sentence, and `doctor` says why.
            log.error("No dog can be made until the weights are set up and this worker restarted: %s", exc)
        try:
            self.announce_pipeline()
        except RedisError:
            pass  # the heartbeat says it once Redis answers

    def announce_pipeline(self):
        state, detail, defaults = ENGINE.status()
        readiness.announce(self.connection, WORKER_NAME, state, detail, defaults)

    def _heartbeat(self):
        last_reconcile = None
        redis_back_at = float("-inf")
        while True:
            try:
                self.in_hand.announce()
                self.announce_pipeline()
                if last_reconcile is None or time.monotonic() - last_reconcile >= settings.FTA_RECONCILE_INTERVAL:
                    last_reconcile = time.monotonic()
                    # Right after an outage other workers have not said they are alive again yet.
                    self._reconcile_once(time.monotonic() - redis_back_at >= settings.FTA_WORKER_HEARTBEAT_TTL)
            except RedisError as exc:
                redis_back_at = float("inf")
                log.warning("Heartbeat: Redis unavailable (%s)", exc)
            except Exception:  # noqa: BLE001  the heartbeat must outlive any one failure
                log.exception("Heartbeat or reconcile failed")
            else:
                redis_back_at = min(redis_back_at, time.monotonic())
            # Several heartbeats per TTL, so one late beat never makes a live worker look dead.
            if self._stop_heartbeat.wait(max(1, settings.FTA_WORKER_HEARTBEAT_TTL // 4)):
                return

    def _reconcile_once(self, judge_dead_workers):
        # One worker at a time: the lock expires on its own if this one dies.
        if not self.connection.set("fta:reconcile-lock", WORKER_NAME, nx=True, ex=settings.FTA_RECONCILE_INTERVAL):
            return
        close_old_connections()
        try:
            requeued, failed = reconcile(judge_dead_workers)
            if requeued or failed:
                log.warning("Reconcile: %d re-queued, %d failed", requeued, failed)
        finally:
            close_old_connections()

    def execute_job(self, job, queue):
        try:
            self.in_hand.hold(job.id)
        except RedisError:
            pass  # RQ meets the outage too and waits for Redis
        close_old_connections()
        try:
            return super().execute_job(job, queue)
        finally:
            # A connection that broke during the job must not fail the next one (SQLite never reports itself unusable).
            connection.close()
            self.release_unfinished(job.id)
            if self.stopping_now:
                self.exit_now()
            try:
                self.in_hand.hold("")
            except RedisError:
                pass

    def perform_job(self, job, queue, execution):
        # RQ runs the job in this process: the job finds this worker's record of its jobs on its Job.
        job.in_hand = self.in_hand
        return super().perform_job(job, queue, execution)

    def request_force_stop(self, signum, frame):
        """The second stop. Like RQ's cold shutdown (SystemExit, raised inside the running job; execute_job
        then re-queues its generation and exits), without RQ's one second in which a second signal is
        taken for a duplicate sent by a worker pool: we run none, and bin/supervise may well stop twice
        within a second."""
        self.stopping_now = True
        log.warning("Worker %s: cold shut down", self.name)
        raise SystemExit()

    def exit_now(self):
        """A cold stop, once the generation is back in the queue: end at once, without RQ's slower goodbye
        (a one-second wait for its pubsub thread) or the interpreter unloading torch, which together took
        seconds, past bin/supervise's kill."""
        log.warning("Stopped at once on a second SIGTERM")
        try:
            self.register_death()
        except RedisError:
            pass
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    def release_unfinished(self, job_id):
        """The job is over: a generation still running under this worker (the job's own, or a batch
        companion's) never will finish, so re-queue or fail it."""
        cause = "stopped" if self.stopping_now else "database"
        try:
            for generation in Generation.objects.filter(worker_name=WORKER_NAME, status=Generation.Status.RUNNING):
                log.warning("Job %s ended without recording how generation %s ended", job_id, generation.pk)
                requeue_or_fail(generation, cause)
        except DatabaseError as exc:
            log.warning("Database unavailable (%s): the reconcile pass will resolve job %s's generation", exc, job_id)
        finally:
            connection.close()
