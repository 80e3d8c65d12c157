"""Worker behaviour for a Redis that goes away: wait for it to come back instead of quitting.

RQ's worker retries while it waits for a job, but quits on a Redis error anywhere else: most often
in the bookkeeping after a job (`handle_execution_ended`), so a Redis restart during a generation
used to kill the worker. The generation's outcome is in the database by then; what Redis lost (the
queue, RQ's registries) the reconcile pass rebuilds once Redis answers again.
"""

import logging
import time
from typing import TYPE_CHECKING

from redis.exceptions import ConnectionError, TimeoutError
from rq import worker_registration
from rq.exceptions import StopRequested

if TYPE_CHECKING:
    from rq.worker import BaseWorker as _RQWorker  # what the mixin's methods extend
else:
    _RQWorker = object

REDIS_DOWN = (ConnectionError, TimeoutError)
log = logging.getLogger(__name__)


class RidesOutRedisOutages(_RQWorker):
    """A mixin for an RQ worker class (before the RQ class in its bases)."""

    # Seconds between tries, doubling up to this: the worker resumes within seconds of Redis's return.
    max_connection_wait_time = 5.0

    def wait_for_redis(self):
        """Block until Redis answers, or a stop is requested."""
        delay = 1.0
        while not self._stop_requested:
            try:
                self.connection.ping()
                log.warning("Redis answers again: the worker goes on")
                return
            except REDIS_DOWN as exc:
                log.warning("Redis unavailable (%s): retrying in %.0f s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, self.max_connection_wait_time)

    def register_again(self):
        """An emptied Redis forgot this worker: put it back where RQ and /admin/rq/ look for workers."""
        with self.connection.pipeline() as pipeline:
            pipeline.hset(self.key, mapping=self.serialize())
            pipeline.expire(self.key, self.worker_ttl + 60)
            worker_registration.register(self, pipeline)
            pipeline.execute()

    def until_redis_answers(self, method, *args):
        while True:
            try:
                return method(*args)
            except REDIS_DOWN as exc:
                log.warning("Redis unavailable in %s (%s)", method.__name__, exc)
                self.wait_for_redis()
                if self._stop_requested:
                    raise StopRequested from exc

    def execute_job(self, job, queue):
        try:
            return super().execute_job(job, queue)
        except REDIS_DOWN as exc:
            # RQ could not record how the job ended; the generation's row in the database did.
            log.warning("Redis went away while job %s ran (%s): its outcome is in the database only", job.id, exc)
            self.wait_for_redis()

    def check_for_suspension(self, burst):
        return self.until_redis_answers(super().check_for_suspension, burst)

    def run_maintenance_tasks(self):
        return self.until_redis_answers(super().run_maintenance_tasks)

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        return self.until_redis_answers(super().dequeue_job_and_maintain_ttl, timeout, max_idle_time)

    def heartbeat(self, timeout=None, pipeline=None):
        # Only the worker's "last seen" stamp: a missed one must not end the work loop (RQ's dequeue
        # loop meets the outage on its next call and waits).
        try:
            if pipeline is None and not self.connection.exists(self.key):
                self.register_again()
            return super().heartbeat(timeout, pipeline)
        except REDIS_DOWN as exc:
            log.warning("Worker heartbeat: Redis unavailable (%s)", exc)

    def teardown(self):
        try:
            return super().teardown()
        except REDIS_DOWN as exc:
            log.warning("Could not unregister the worker: Redis unavailable (%s)", exc)
