"""/metrics: Prometheus text for staff and for the addresses in FTA_METRICS_ALLOWED.

Every figure is read when Prometheus scrapes, from what all processes share (the database and
Redis), so any gunicorn process answers for the whole service:
- the queue's depth, live workers and upload refusals (counted in Redis by whichever web process refused);
- the re-queues that followed our own outages, by cause (counted in Redis by whichever worker re-queued),
  their sum over the generations kept, by status, and the bound FTA_MAX_REQUEUES;
- jobs by final status and the job duration histogram, from the generations' rows (their `timings`);
- each RQ worker's own counters, which RQ workers push to Redis themselves (successful and failed jobs,
  busy seconds): the usual RQ way, so a worker needs no port of its own.
"""

import ipaddress

from django.conf import settings
from django.db.models import Count, FloatField, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from redis.exceptions import RedisError

from .client_address import client_address
from .generations.queue import get_queue
from .models import Generation

REFUSALS_KEY = "fta:metrics:upload-refusals"
REQUEUES_KEY = "fta:metrics:requeues"
# Seconds; a tiny CPU job takes well under one, a real GPU one tens.
DURATION_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
PHASES = ("queue_wait", "inference", "saving")


def count_upload_refusal(reason):
    """Best effort: a Redis hiccup must not turn a refused upload into an error page."""
    try:
        get_queue().connection.hincrby(REFUSALS_KEY, reason, 1)
    except RedisError:
        pass


def count_requeue(cause):
    """Best effort, as for refusals: the outage being counted may be Redis's own."""
    try:
        get_queue().connection.hincrby(REQUEUES_KEY, cause, 1)
    except RedisError:
        pass


def refusal_reason(form):
    """The code of the form's first error (too_big, not_image, no_face, …), "invalid" without one."""
    for errors in form.errors.as_data().values():
        for error in errors:
            return error.code or "invalid"
    return "invalid"


def duration_histograms():
    family = HistogramMetricFamily("fta_job_duration_seconds", "Time of each phase of the finished generations", labels=["phase"])
    finished = Generation.objects.filter(status=Generation.Status.SUCCEEDED)
    aggregates = {}
    for phase in PHASES:
        aggregates[f"{phase}_count"] = Count("pk", filter=Q(**{f"timings__{phase}__isnull": False}))
        aggregates[f"{phase}_sum"] = Sum(Cast(KeyTextTransform(phase, "timings"), FloatField()))
        for i, bound in enumerate(DURATION_BUCKETS):
            aggregates[f"{phase}_{i}"] = Count("pk", filter=Q(**{f"timings__{phase}__lte": bound}))
    totals = finished.aggregate(**aggregates)
    for phase in PHASES:
        buckets = [(str(bound), totals[f"{phase}_{i}"]) for i, bound in enumerate(DURATION_BUCKETS)]
        buckets.append(("+Inf", totals[f"{phase}_count"]))
        family.add_metric([phase], buckets, totals[f"{phase}_sum"] or 0.0)
    return family


def finished_jobs():
    family = GaugeMetricFamily("fta_jobs_finished", "Generations kept, by final status", labels=["status"])
    counts = dict(Generation.objects.filter(status__in=Generation.FINAL_STATUSES).values_list("status").annotate(n=Count("pk")))
    for status in Generation.FINAL_STATUSES:
        family.add_metric([status], counts.get(status, 0))
    return family


def requeued_generations():
    family = GaugeMetricFamily(
        "fta_generation_requeues",
        "Re-queues after our own outages, summed over the generations kept, by status",
        labels=["status"],
    )
    sums = dict(Generation.objects.filter(requeues__gt=0).values_list("status").annotate(n=Sum("requeues")))
    for status in Generation.Status.values:
        family.add_metric([status], sums.get(status, 0))
    return family


def redis_families():
    from rq import Worker

    queue = get_queue()
    connection = queue.connection
    yield GaugeMetricFamily("fta_queue_depth", "Jobs waiting on the gpu queue", value=len(queue))
    alive = sum(1 for _ in connection.scan_iter("fta:worker-alive:*"))
    yield GaugeMetricFamily("fta_workers_live", "Generation workers whose heartbeat is fresh", value=alive)
    refusals = CounterMetricFamily("fta_upload_refusals", "Uploads refused, by reason", labels=["reason"])
    for reason, count in sorted(connection.hgetall(REFUSALS_KEY).items()):
        refusals.add_metric([reason.decode()], int(count))
    yield refusals
    requeues = CounterMetricFamily(
        "fta_requeues", "Generations our own outages sent back to the queue, by cause", labels=["cause"]
    )
    for cause, count in sorted(connection.hgetall(REQUEUES_KEY).items()):
        requeues.add_metric([cause.decode()], int(count))
    yield requeues
    successes = CounterMetricFamily("fta_worker_jobs_successful", "Jobs a worker finished (RQ)", labels=["worker"])
    failures = CounterMetricFamily("fta_worker_jobs_failed", "Jobs a worker failed (RQ)", labels=["worker"])
    busy = CounterMetricFamily("fta_worker_busy_seconds", "Seconds a worker spent on jobs (RQ)", labels=["worker"])
    for worker in Worker.all(queue=queue):
        successes.add_metric([worker.name], worker.successful_job_count)
        failures.add_metric([worker.name], worker.failed_job_count)
        busy.add_metric([worker.name], worker.total_working_time)
    yield from (successes, failures, busy)


class ServiceCollector:
    def collect(self):
        yield finished_jobs()
        yield duration_histograms()
        yield requeued_generations()
        yield GaugeMetricFamily(
            "fta_requeue_limit", "Re-queues after our outages before a generation fails", value=settings.FTA_MAX_REQUEUES
        )
        try:
            families = list(redis_families())
        except RedisError:
            families = []
        yield GaugeMetricFamily("fta_redis_up", "1 when Redis answered this scrape", value=1 if families else 0)
        yield from families


def may_read_metrics(request):
    if request.user.is_authenticated and request.user.is_staff:
        return True
    try:
        address = ipaddress.ip_address(client_address(request) or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(allowed, strict=False) for allowed in settings.FTA_METRICS_ALLOWED)


@require_GET
def metrics(request):
    if not may_read_metrics(request):
        return HttpResponse(_("Metrics are for staff and allowed addresses only."), status=403, content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
