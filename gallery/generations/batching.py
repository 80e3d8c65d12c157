"""Compatible generations taken from the queue together and made in one batched pipeline call.

When the worker starts a job, it looks at the next jobs waiting on the queue and claims, up to
FTA_MAX_BATCH in all, the generations whose parameters share GenerationParams.batch_key() (same size,
steps, sampler, mode, CFG and control settings; prompts, breeds, seeds and faces may differ). A claim is
the same atomic queued → running update as a job's own, so a generation is never made twice: a worker
that pops a claimed generation's job finds it running and skips it. Claimed jobs leave the queue.

Each generation keeps its own progress, cancel, result and failure (transform.engine.generate_batch);
each image equals the one the generation gets alone (docs/ENGINE.md states the tolerance).
"""

import logging

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from PIL import Image
from redis.exceptions import RedisError

from gallery.models import Generation

from . import jobs
from .queue import get_queue, remove_job

# How far down the queue to look for companions, in batches.
LOOKAHEAD_BATCHES = 4
log = logging.getLogger(__name__)


def run_with_companions(generation, timings):
    """Makes `generation` (claimed) and the compatible queued ones it can claim; returns its own final status."""
    from transform.params import GenerationParams

    key = GenerationParams.from_dict(generation.params).batch_key()
    batch = [generation, *claim_companions(generation, key, settings.FTA_MAX_BATCH - 1)]
    waits = {generation.pk: timings, **{other.pk: queue_wait(other) for other in batch[1:]}}
    statuses = make_together(batch, waits)
    return statuses[generation.pk]


def claim_companions(generation, key, limit):
    """Up to `limit` queued generations behind this one on the queue, with the same batch key, claimed."""
    from transform.params import GenerationParams

    if limit < 1:
        return []
    try:
        job_ids = get_queue().get_job_ids(0, LOOKAHEAD_BATCHES * (limit + 1))
    except RedisError:
        return []  # no companions today: this generation still runs, alone
    waiting = Generation.objects.filter(status=Generation.Status.QUEUED, job_id__in=job_ids).exclude(pk=generation.pk)
    position = {job_id: index for index, job_id in enumerate(job_ids)}
    claimed = []
    for other in sorted(waiting.select_related("photo"), key=lambda g: position[g.job_id]):
        if len(claimed) == limit:
            break
        if GenerationParams.from_dict(other.params).batch_key() != key or not claim(other):
            continue
        remove_job(other.job_id)
        claimed.append(other)
    return claimed


def claim(generation):
    """Queued → running, only if it still waits for its current job; what a job's own claim does."""
    claimed = Generation.objects.filter(pk=generation.pk, status=Generation.Status.QUEUED, job_id=generation.job_id).update(
        status=Generation.Status.RUNNING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
        worker_name=jobs.WORKER_NAME,
        step=0,
    )
    if claimed:
        generation.refresh_from_db()
    return bool(claimed)


def queue_wait(generation):
    return {"queue_wait": round((generation.started_at - (generation.enqueued_at or generation.created_at)).total_seconds(), 3)}


def make_together(batch, timings):
    """Renders the claimed generations in one engine call and stores each outcome; {pk: final status}."""
    items, statuses = {}, {}
    for generation in batch:
        try:
            items[generation.pk] = generation_item(generation)
        except Exception as exc:  # noqa: BLE001  its own failure: the others still run
            statuses[generation.pk] = store_failure(generation, exc, timings[generation.pk])
    outcomes = jobs.get_engine().generate_batch(list(items.values())) if items else []
    by_pk = {generation.pk: generation for generation in batch}
    for pk, outcome in zip(items, outcomes):
        generation, generation_timings = by_pk[pk], {**timings[pk], "batch_size": len(items)}
        if isinstance(outcome, Exception):
            statuses[pk] = store_failure(generation, outcome, generation_timings)
        else:
            generation_timings.update(outcome.timings)
            statuses[pk] = jobs.save_result(generation, outcome, generation_timings)
    if len(items) > 1:
        log.info("Made %d generations in one batch: %s", len(items), ", ".join(str(pk) for pk in items))
    return statuses


def generation_item(generation):
    from transform.engine import GenerationItem
    from transform.params import GenerationParams

    with generation.photo.image.open("rb") as handle:
        photo = Image.open(handle).convert("RGB")
    reporter = jobs.ProgressReporter(generation.pk)
    return GenerationItem(
        photo=photo,
        face=generation.photo.faces[generation.face_index],
        params=GenerationParams.from_dict(generation.params),
        breed_slug=generation.breed,
        coat=generation.coat or None,
        on_step=reporter.on_step,
        should_cancel=reporter.should_cancel,
    )


def store_failure(generation, exc, timings):
    # finish_unsuccessfully records the traceback being handled: raise the outcome again to hand it over.
    try:
        raise exc
    except Exception as handled:  # noqa: BLE001
        return jobs.finish_unsuccessfully(generation, handled, timings)
