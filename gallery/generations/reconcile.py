"""Finding generations that the queue lost: dead workers, or a Redis that restarted empty; and
deleting the files that storage refused to delete while it was down.

Workers run this every FTA_RECONCILE_INTERVAL seconds; `manage.py reconcile_generations` runs it on demand.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop as _
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from gallery.deletion import purge_pending_deletions
from gallery.generations.queue import enqueue_generation, get_queue
from gallery.models import Generation

# A generation whose worker died is run again once; the second loss fails it.
MAX_ATTEMPTS = 2
# A queued generation younger than this may still be waiting for its transaction to commit.
ENQUEUE_GRACE = timedelta(seconds=10)
WAITING_JOB_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
log = logging.getLogger(__name__)


def alive_key(worker_name):
    return f"fta:worker-alive:{worker_name}"


def mark_alive(connection, worker_name):
    connection.set(alive_key(worker_name), 1, ex=settings.FTA_WORKER_HEARTBEAT_TTL)


def reconcile():
    """Re-queue or fail what was lost. Returns (requeued, failed) counts."""
    connection = get_queue().connection
    requeued = failed = 0
    for generation in Generation.objects.filter(status=Generation.Status.RUNNING):
        if connection.exists(alive_key(generation.worker_name)):
            continue
        if generation.attempts < MAX_ATTEMPTS:
            still_running = Generation.objects.filter(
                pk=generation.pk, status=Generation.Status.RUNNING, worker_name=generation.worker_name
            )
            if still_running.update(status=Generation.Status.QUEUED, step=0, started_at=None):
                enqueue_generation(generation)
                requeued += 1
                log.warning("Worker %s died during %s: re-queued", generation.worker_name, generation.pk)
        else:
            failed += Generation.objects.filter(pk=generation.pk, status=Generation.Status.RUNNING).update(
                status=Generation.Status.FAILED,
                error=_("The worker making this dog stopped unexpectedly, twice. Please retry."),
                finished_at=timezone.now(),
            )
    stale = timezone.now() - ENQUEUE_GRACE
    for generation in Generation.objects.filter(status=Generation.Status.QUEUED, created_at__lt=stale):
        if not job_is_waiting(connection, generation.job_id):
            enqueue_generation(generation)
            requeued += 1
            log.warning("Generation %s had no job in Redis: re-queued", generation.pk)
    purge_pending_deletions()  # files of deleted rows that storage refused while it was down
    return requeued, failed


def job_is_waiting(connection, job_id):
    if not job_id:
        return False
    try:
        return Job.fetch(job_id, connection=connection).get_status() in WAITING_JOB_STATUSES
    except NoSuchJobError:
        return False
