"""The generation queue: RQ_QUEUES["gpu"] through django-rq; jobs carry a generation's id and nothing else.

Which generation gets a job, and when, is decided by gallery.generations.lifecycle.queue().
"""

import logging
import uuid
from functools import lru_cache

import django_rq
import redis
from django.conf import settings
from redis.exceptions import RedisError

QUEUE_NAME = "gpu"
JOB_FUNCTION = "gallery.generations.jobs.run_generation"
log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _connection(url):
    # Short timeouts: with Redis down, a page must answer quickly, not hang.
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5, health_check_interval=30)


def get_queue():
    """The queue `rqworker gpu` reads: django-rq's, so settings.RQ (COMMIT_MODE, classes) applies."""
    return django_rq.get_queue(QUEUE_NAME, connection=_connection(settings.REDIS_URL))


def new_job_id(generation_id):
    # Chosen by us, so the row can name the one job meant to run it.
    return f"{generation_id}-{uuid.uuid4().hex[:8]}"


def push_job(generation_id, job_id):
    """Put the job on the queue; with Redis down the generation stays queued for the reconcile pass."""
    try:
        get_queue().enqueue(
            JOB_FUNCTION,
            str(generation_id),
            job_id=job_id,
            job_timeout=settings.FTA_JOB_TIMEOUT,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )
    except RedisError:
        log.warning("Redis unavailable: generation %s waits for the reconcile pass", generation_id)


def remove_job(job_id):
    """Take a job off the queue if it is still waiting there (best effort: Redis may be gone)."""
    if not job_id:
        return
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
