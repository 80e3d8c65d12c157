"""The generation queue: one RQ queue, "gpu", on REDIS_URL; jobs carry a generation's id and nothing else."""

import logging
import uuid
from functools import lru_cache

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rq import Queue

QUEUE_NAME = "gpu"
JOB_FUNCTION = "gallery.generations.jobs.run_generation"
log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _connection(url):
    # Short timeouts: with Redis down, a page must answer quickly, not hang.
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5, health_check_interval=30)


def get_queue():
    """The queue on settings.REDIS_URL (the same one `rqworker gpu` reads through RQ_QUEUES)."""
    return Queue(QUEUE_NAME, connection=_connection(settings.REDIS_URL), default_timeout=settings.FTA_JOB_TIMEOUT)


def enqueue_generation(generation):
    """Give the generation a fresh job id and put it on the queue once the transaction commits.

    If Redis is unreachable the generation simply stays queued in the database: the reconcile pass
    (gallery.generations.reconcile) enqueues it when Redis answers again. Returns the job id.
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
