"""Every single dog is made in a batch: its own generation, plus the compatible queued ones the worker
can claim, in one batched pipeline call. A batch of one is simply a batch with no companions.

When the worker starts a job, it looks at the next jobs waiting on the queue and claims, up to
FTA_MAX_BATCH in all, the generations whose parameters share GenerationParams.batch_key() (same size,
steps, sampler, mode, CFG and control settings; prompts, breeds, seeds and faces may differ). A claim is
the same atomic queued → running update as a job's own, so a generation is never made twice: a worker
that pops a claimed generation's job finds it running and skips it. Claimed jobs leave the queue.

Each generation keeps its own progress, cancel, result and failure (transform.engine.generate_batch);
each image equals the one the generation gets alone (docs/ENGINE.md states the tolerance).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from redis.exceptions import RedisError

from gallery.models import Generation

from . import lifecycle
from .job_steps import ENGINE, WORKER_NAME, ProgressReporter, load_photo, queue_wait, record_outcome
from .preview_store import delete_preview
from .queue import get_queue, remove_job
from .reconcile import JobsInHand

if TYPE_CHECKING:
    from transform.engine import GenerationItem, GenerationResult

# How far down the queue to look for companions, in batches.
LOOKAHEAD_BATCHES = 4
log = logging.getLogger(__name__)


def run_batch(generation: Generation, timings: dict, in_hand: JobsInHand) -> str:
    """Makes `generation` (claimed) and the compatible queued ones it can claim; returns its own final status.

    Its own failure is raised again once recorded, so RQ lists the job as failed.
    """
    from transform.params import GenerationParams

    key = GenerationParams.from_dict(generation.params).batch_key()
    batch = [generation]
    try:
        batch += claim_companions(generation, key, settings.FTA_MAX_BATCH - 1, in_hand)
        if len(batch) > 1:
            in_hand.hold_companions([other.job_id for other in batch[1:]])
        waits = {generation.pk: timings, **{other.pk: queue_wait(other) for other in batch[1:]}}
        statuses, failures = make_together(batch, waits)
    finally:
        in_hand.drop_companions()
        for other in batch[1:]:  # the job's own preview goes in jobs.run_generation
            delete_preview(other.pk)
    if generation.pk in failures:
        raise failures[generation.pk]
    return statuses[generation.pk]


def claim_companions(generation: Generation, key: tuple, limit: int, in_hand: JobsInHand) -> list[Generation]:
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
    in_hand.hold_companions([other.job_id for other in candidates])
    claimed: list[Generation] = []
    for other in candidates:
        if len(claimed) == limit:
            break
        if claim(other):
            remove_job(other.job_id)
            claimed.append(other)
    return claimed


def claim(generation: Generation) -> bool:
    """Queued → running, only if it still waits for its current job: a job's own claim, for a companion."""
    if not lifecycle.claim(generation.pk, generation.job_id, WORKER_NAME):
        return False
    generation.refresh_from_db()
    return True


def make_together(batch: list[Generation], timings: dict[Any, dict]) -> tuple[dict[Any, str], dict[Any, Exception]]:
    """Renders the claimed generations in one engine call and records each outcome (job_steps.record_outcome).

    Returns ({pk: final status}, {pk: exception} for the failed ones): one failure never sinks the others.
    """
    items: dict[Any, GenerationItem] = {}
    outcomes: dict[Any, GenerationResult | Exception] = {}
    for generation in batch:
        try:
            items[generation.pk] = generation_item(generation)
        except Exception as exc:  # noqa: BLE001  its own failure: the others still run
            outcomes[generation.pk] = exc
    try:
        made = ENGINE.get().generate_batch(list(items.values())) if items else []
    except Exception as exc:  # noqa: BLE001  the whole call failed (say, no model): each generation fails with it
        made = [exc] * len(items)
    outcomes.update(zip(items, made))
    statuses, failures = {}, {}
    for generation in batch:
        outcome = outcomes[generation.pk]
        generation_timings = timings[generation.pk]
        if generation.pk in items:
            generation_timings["batch_size"] = len(items)
        statuses[generation.pk], failure = record_outcome(generation, outcome, generation_timings)
        if failure is not None:
            failures[generation.pk] = failure
    if len(items) > 1:
        log.info("Made %d generations in one batch: %s", len(items), ", ".join(str(pk) for pk in items))
    return statuses, failures


def generation_item(generation: Generation) -> GenerationItem:
    from transform.engine import GenerationItem
    from transform.params import GenerationParams

    reporter = ProgressReporter(generation.pk)
    return GenerationItem(
        photo=load_photo(generation),
        face=generation.photo.faces[generation.face_index],
        params=GenerationParams.from_dict(generation.params),
        breed_slug=generation.breed,
        coat=generation.coat or None,
        on_step=reporter.on_step,
        should_cancel=reporter.should_cancel,
    )
