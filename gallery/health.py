"""Health checks for load balancers and orchestrators.

/healthz (liveness) touches nothing outside this process. /readyz (readiness) checks the database,
Redis and the media storage at once, each given READY_TIMEOUT seconds, and answers 503 naming what failed
and why, in words that name no host, path or bucket (anyone may ask).
"""

from concurrent.futures import ThreadPoolExecutor, wait

from django.db import connection, connections
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .generations.queue import get_queue
from .storage import check_storage

READY_TIMEOUT = 2.0


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connections.close_all()  # this thread's connection: the pool thread is thrown away


def check_redis():
    get_queue().connection.ping()


CHECKS = {"database": check_database, "redis": check_redis, "storage": check_storage}


@never_cache
@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@never_cache
@require_GET
def readyz(request):
    pool = ThreadPoolExecutor(max_workers=len(CHECKS))
    futures = {name: pool.submit(check) for name, check in CHECKS.items()}
    wait(futures.values(), timeout=READY_TIMEOUT)
    pool.shutdown(wait=False, cancel_futures=True)  # a hung check must not hold the answer
    checks = {name: "ok" if future.done() and future.exception() is None else "failing" for name, future in futures.items()}
    failing = [name for name, state in checks.items() if state != "ok"]
    answer = {"status": "failing" if failing else "ok", "failing": failing, "checks": checks}
    if failing:
        answer["reasons"] = {name: failure_reason(futures[name]) for name in failing}
    return JsonResponse(answer, status=503 if failing else 200)


def failure_reason(future):
    """A few words: the storage check's own reason (e.g. "the bucket does not exist"), else what was raised."""
    if not future.done():
        return f"no answer within {READY_TIMEOUT:g} s"
    exc = future.exception()
    return getattr(exc, "reason", None) or exc.__class__.__name__
