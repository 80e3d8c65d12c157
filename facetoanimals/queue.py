"""The generation queue: one RQ queue, "gpu", on REDIS_URL; jobs carry a generation's id and nothing else."""

import logging
import uuid

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

QUEUE_NAME = "gpu"
JOB_FUNCTION = "transform.jobs.run_generation"
log = logging.getLogger(__name__)


def get_queue():
    return django_rq.get_queue(QUEUE_NAME)


def enqueue_generation(generation):
    """Give the generation a fresh job id and put it on the queue once the transaction commits.

    If Redis is unreachable the generation simply stays queued in the database: the reconcile pass
    (transform.reconcile) enqueues it when Redis answers again. Returns the job id.
    """
    job_id = f"{generation.pk}-{uuid.uuid4().hex[:8]}"
    type(generation).objects.filter(pk=generation.pk).update(job_id=job_id, enqueued_at=timezone.now())
    generation.job_id = job_id

    def push():
        try:
            push_job(generation.pk, job_id)
        except RedisError:
            log.warning("Redis unavailable: generation %s waits for the reconcile pass", generation.pk)

    transaction.on_commit(push)
    return job_id


def push_job(generation_id, job_id):
    get_queue().enqueue(
        JOB_FUNCTION,
        str(generation_id),
        job_id=job_id,
        job_timeout=settings.FTA_JOB_TIMEOUT,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )


def remove_job(job_id):
    """Take a job off the queue if it is still waiting there (best effort: Redis may be gone)."""
    try:
        get_queue().remove(job_id)
    except RedisError:
        pass


def queue_available():
    try:
        get_queue().connection.ping()
    except RedisError:
        return False
    return True
