"""The generation queue: RQ_QUEUES["gpu"] through django-rq; jobs carry a generation's id and nothing else.

Which generation gets a job, and when, is decided by gallery.generations.lifecycle.queue().
"""

import logging
import uuid
from functools import lru_cache

import django_rq
import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError, RedisError
from redis.retry import Retry
from rq import Queue

QUEUE_NAME = "gpu"
JOB_FUNCTION = "gallery.generations.jobs.run_generation"
# The longest one Redis command may wait, as /readyz allows: with Redis down or hung, a page answers
# this much later at most. A command that times out is not tried again (a hung Redis costs a request one
# wait, not one per try); one whose pooled connection was dropped (Redis restarted) is, on a new one.
REDIS_CONNECT_SECONDS = 1
REDIS_WAIT_SECONDS = 2
RETRY = Retry(NoBackoff(), 1, supported_errors=(ConnectionError,))
log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _connection(url):
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=REDIS_CONNECT_SECONDS,
        socket_timeout=REDIS_WAIT_SECONDS,
        retry=RETRY,
        health_check_interval=30,
    )


def get_queue():
    """The queue `rqworker gpu` reads: django-rq's, so settings.RQ (COMMIT_MODE, classes) applies."""
    return django_rq.get_queue(QUEUE_NAME, connection=_connection(settings.REDIS_URL))


def new_job_id(generation_id):
    # Chosen by us, so the row can name the one job meant to run it.
    return f"{generation_id}-{uuid.uuid4().hex[:8]}"


def push_jobs(jobs):
    """Put the jobs, [(generation id, job id)], on the queue in one round trip; True when Redis took them.

    With Redis down or hung (one wait, REDIS_WAIT_SECONDS at most) the generations stay queued in the
    database, and the reconcile pass pushes them once Redis answers.
    """
    queue = get_queue()
    try:
        with queue.connection.pipeline() as pipeline:
            queue.enqueue_many(
                [
                    Queue.prepare_data(
                        JOB_FUNCTION,
                        (str(generation_id),),
                        job_id=job_id,
                        timeout=settings.FTA_JOB_TIMEOUT,
                        result_ttl=3600,
                        failure_ttl=7 * 24 * 3600,
                    )
                    for generation_id, job_id in jobs
                ],
                pipeline=pipeline,
            )
            pipeline.execute()
    except RedisError:
        log.warning("Redis unavailable: %s wait for the reconcile pass", ", ".join(str(g) for g, _job in jobs))
        return False
    return True


def remove_job(job_id):
    """Take a job off the queue if it is still waiting there (best effort: Redis may be gone)."""
    if not job_id:
        return
    try:
        get_queue().remove(job_id)
    except RedisError:
        pass
