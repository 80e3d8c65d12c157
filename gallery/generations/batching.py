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
import traceback

from django.conf import settings
from redis.exceptions import RedisError

from gallery.models import Generation
from gallery.storage import StorageUnavailable

from . import jobs, lifecycle
from .preview_store import delete_preview
from .queue import get_queue, remove_job
from .reconcile import mark_alive

# How far down the queue to look for companions, in batches.
LOOKAHEAD_BATCHES = 4
# The job ids of the companions this process is making now (their jobs left the queue): the worker's
# heartbeat names them beside its own job, so the reconcile pass knows they are in hand.
companions_in_hand = []
log = logging.getLogger(__name__)


def run_with_companions(generation, timings):
    """Makes `generation` (claimed) and the compatible queued ones it can claim; returns its own final status.

    Its own failure is raised again once recorded, so RQ lists the job as failed (as for a job made alone).
    """
    from transform.params import GenerationParams

    key = GenerationParams.from_dict(generation.params).batch_key()
    batch = [generation]
    try:
        batch += claim_companions(generation, key, settings.FTA_MAX_BATCH - 1)
        if len(batch) > 1:
            announce_companions(generation, [other.job_id for other in batch[1:]])
        waits = {generation.pk: timings, **{other.pk: queue_wait(other) for other in batch[1:]}}
        statuses, failures = make_together(batch, waits)
    finally:
        companions_in_hand.clear()
        for other in batch[1:]:  # the job's own preview goes in run_generation
            delete_preview(other.pk)
    if generation.pk in failures:
        raise failures[generation.pk]
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
    candidates = [
        other
        for other in sorted(waiting.select_related("photo"), key=lambda g: position[g.job_id])
        if not other.is_group and GenerationParams.from_dict(other.params).batch_key() == key
    ]
    if not candidates:
        return []
    # Named before they are claimed: a reconcile pass must never see one running under this live
    # worker without its job in the worker's alive key (it would take it for a lost job).
    announce_companions(generation, [other.job_id for other in candidates])
    claimed = []
    for other in candidates:
        if len(claimed) == limit:
            break
        if claim(other):
            remove_job(other.job_id)
            claimed.append(other)
    return claimed


def announce_companions(generation, job_ids):
    """The worker's alive key names these jobs beside its own, now and at every heartbeat until the batch ends."""
    companions_in_hand[:] = job_ids
    try:
        mark_alive(get_queue().connection, jobs.WORKER_NAME, [generation.job_id, *job_ids])
    except RedisError:
        pass  # the outage also keeps the reconcile pass from judging anyone


def claim(generation):
    """Queued → running, only if it still waits for its current job: a job's own claim, for a companion."""
    if not lifecycle.claim(generation.pk, generation.job_id, jobs.WORKER_NAME):
        return False
    generation.refresh_from_db()
    return True


def queue_wait(generation):
    return {"queue_wait": round((generation.started_at - (generation.enqueued_at or generation.created_at)).total_seconds(), 3)}


def make_together(batch, timings):
    """Renders the claimed generations in one engine call and records each outcome.

    Returns ({pk: final status}, {pk: exception} for the failed ones): one failure never sinks the others.
    """
    items, statuses, failures = {}, {}, {}

    def failed(generation, exc, generation_timings):
        statuses[generation.pk] = store_failure(generation, exc, generation_timings)
        if statuses[generation.pk] == Generation.Status.FAILED:
            failures[generation.pk] = exc

    for generation in batch:
        try:
            items[generation.pk] = generation_item(generation)
        except Exception as exc:  # noqa: BLE001  its own failure: the others still run
            failed(generation, exc, timings[generation.pk])
    try:
        outcomes = jobs.get_engine().generate_batch(list(items.values())) if items else []
    except Exception as exc:  # noqa: BLE001  the whole call failed (say, no model): each generation fails with it
        outcomes = [exc] * len(items)
    by_pk = {generation.pk: generation for generation in batch}
    for pk, outcome in zip(items, outcomes):
        generation, generation_timings = by_pk[pk], {**timings[pk], "batch_size": len(items)}
        if isinstance(outcome, Exception):
            failed(generation, outcome, generation_timings)
            continue
        generation_timings.update(outcome.timings)
        try:
            statuses[pk] = jobs.save_result(generation, outcome, generation_timings)
        except Exception as exc:  # noqa: BLE001  a failed save is this generation's alone
            failed(generation, exc, generation_timings)
    if len(items) > 1:
        log.info("Made %d generations in one batch: %s", len(items), ", ".join(str(pk) for pk in items))
    return statuses, failures


def generation_item(generation):
    from transform.engine import GenerationItem
    from transform.params import GenerationParams

    reporter = jobs.ProgressReporter(generation.pk)
    return GenerationItem(
        photo=jobs.load_photo(generation),
        face=generation.photo.faces[generation.face_index],
        params=GenerationParams.from_dict(generation.params),
        breed_slug=generation.breed,
        coat=generation.coat or None,
        on_step=reporter.on_step,
        should_cancel=reporter.should_cancel,
    )


def store_failure(generation, exc, timings):
    """Record a cancelled or failed outcome through the lifecycle; returns the status it ended with."""
    from transform.engine import GenerationCancelled

    if isinstance(exc, GenerationCancelled):
        lifecycle.finish_cancelled(generation.pk, timings)
        return Generation.Status.CANCELLED
    if isinstance(exc, StorageUnavailable):
        return jobs.wait_for_storage(generation, exc, timings)
    if not lifecycle.fail(generation.pk, jobs.user_message(exc), "".join(traceback.format_exception(exc)), timings):
        return "deleted"  # deleted under it: nothing to tell anyone
    log.error("Generation %s failed in a batch: %s", generation.pk, exc)
    return Generation.Status.FAILED
