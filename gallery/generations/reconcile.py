"""Finding generations that the queue lost: dead workers, or a Redis that restarted empty; and
deleting the files that storage refused to delete while it was down.

Workers run this every FTA_RECONCILE_INTERVAL seconds; `manage.py reconcile_generations` runs it on demand.
"""

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop as _
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from gallery.deletion import purge_pending_deletions
from gallery.generations import lifecycle
from gallery.generations.queue import get_queue
from gallery.metrics import count_requeue
from gallery.models import Generation

# What the owner reads when our outages sent a dog back to the queue FTA_MAX_REQUEUES times.
TOO_MANY_OUTAGES = _("Our service was interrupted too many times while making this dog. That is ours to fix: please retry later.")
# A queued generation younger than this may still be waiting for its transaction to commit.
ENQUEUE_GRACE = timedelta(seconds=10)
# Set when this Redis first sees a reconcile pass: an emptied Redis has lost every worker's alive key.
REDIS_SEEN_KEY = "fta:redis-seen-since"
WAITING_JOB_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
log = logging.getLogger(__name__)


def alive_key(worker_name):
    return f"fta:worker-alive:{worker_name}"


def mark_alive(connection, worker_name, job_ids=()):
    """Say the worker lives, and which jobs it runs: its current job and that job's batch companions."""
    connection.set(alive_key(worker_name), " ".join(job_ids), ex=settings.FTA_WORKER_HEARTBEAT_TTL)


class JobsInHand:
    """The jobs a worker process is making: the one RQ gave it and the batch companions it claimed (whose
    jobs left the queue). Its alive key names them all, so this pass knows they are in hand.

    The worker owns one (PipelineWorker.in_hand) and its heartbeat repeats it; the job's thread changes
    it. A job run by a plain RQ worker (the tests' in-process one) gets one of its own.
    """

    def __init__(self, connection, worker_name):
        self.connection, self.worker_name = connection, worker_name
        self.job_id = ""
        self.companions = []
        self._lock = threading.Lock()

    def hold(self, job_id):
        """The job RQ gave this worker now ("" when it has none): said at once."""
        with self._lock:
            self.job_id, self.companions = job_id, []
            self._announce()

    def hold_companions(self, job_ids):
        """Batch companions of the current job, said at once: before they are claimed, until the batch ends."""
        with self._lock:
            self.companions = list(job_ids)
            try:
                self._announce()
            except RedisError:
                pass  # the outage also keeps the reconcile pass from judging anyone; the heartbeat says it later

    def drop_companions(self):
        """The batch ended: its companions are recorded, and the next announcement names the job alone."""
        with self._lock:
            self.companions = []

    def announce(self):
        """Say it again (the heartbeat): the alive key expires after FTA_WORKER_HEARTBEAT_TTL."""
        with self._lock:
            self._announce()

    def _announce(self):
        mark_alive(self.connection, self.worker_name, [self.job_id, *self.companions] if self.job_id else [])


def reconcile(judge_dead_workers=True):
    """Re-queue or fail what was lost. Returns (requeued, failed) counts.

    judge_dead_workers=False leaves running generations of silent workers alone for this pass: the
    caller has just seen Redis come back, and live workers may not have said so again yet.
    """
    connection = get_queue().connection
    judge_dead_workers = judge_dead_workers and not redis_is_new(connection)
    requeued = failed = 0
    for generation in Generation.objects.filter(status=Generation.Status.RUNNING):
        current_job = connection.get(alive_key(generation.worker_name))
        if current_job is None and not judge_dead_workers:
            continue
        if current_job is not None and generation.job_id in current_job.decode().split():
            continue
        # Its worker is dead, or alive but done with its job: the job ended without recording how
        # (its database connection broke). Either way nobody will finish this row.
        outcome = requeue_or_fail(generation, "worker_lost" if current_job is None else "database")
        requeued += outcome is True
        failed += outcome is False
    stale = timezone.now() - ENQUEUE_GRACE
    for generation in Generation.objects.filter(status=Generation.Status.QUEUED, created_at__lt=stale):
        if not job_is_waiting(connection, generation.job_id) and lifecycle.queue(generation):
            requeued += 1
            log.warning("Generation %s had no job in Redis: re-queued", generation.pk)
    purge_pending_deletions()  # files of deleted rows that storage refused while it was down
    return requeued, failed


def requeue_or_fail(generation, cause):
    """A running generation that nobody will finish, through our outage (`cause`, as /metrics counts it):
    run it again, without counting an attempt against it, unless our outages re-queued it
    FTA_MAX_REQUEUES times already; then it fails with a sentence.

    Returns True when re-queued, False when failed, None when it was no longer running.
    """
    if generation.requeues >= settings.FTA_MAX_REQUEUES:
        return False if lifecycle.fail_lost(generation, TOO_MANY_OUTAGES) else None
    if not lifecycle.requeue_lost(generation):
        return None
    count_requeue(cause)
    log.warning("Worker %s lost %s (%s): re-queued", generation.worker_name, generation.pk, cause)
    return True


def redis_is_new(connection):
    """True for a worker heartbeat TTL after Redis was emptied (or first used): alive keys are not back yet."""
    connection.set(REDIS_SEEN_KEY, time.time(), nx=True)
    return time.time() - float(connection.get(REDIS_SEEN_KEY)) < settings.FTA_WORKER_HEARTBEAT_TTL


def job_is_waiting(connection, job_id):
    if not job_id:
        return False
    try:
        return Job.fetch(job_id, connection=connection).get_status() in WAITING_JOB_STATUSES
    except NoSuchJobError:
        return False
