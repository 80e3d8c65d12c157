"""The generation job, run by the worker: claims the row, then makes the dog in a batch (batching.py)
or the group photo (group_jobs.py); job_steps.py holds what both do.

The job receives a generation's id and nothing else; the database row is the source of truth, and
every change of its status goes through gallery.generations.lifecycle.
"""

from __future__ import annotations

import logging
from typing import Any

from rq import get_current_job

from gallery.models import Generation

from . import batching, group_jobs, lifecycle
from .job_steps import DELETED, WORKER_NAME, queue_wait
from .preview_store import delete_preview
from .queue import get_queue
from .reconcile import JobsInHand

log = logging.getLogger(__name__)


def run_generation(generation_id: str) -> str:
    """The RQ job. A failed generation is recorded on its row, then re-raised so RQ records a failed job."""
    job = get_current_job()
    job_id = job.id if job else ""
    if not lifecycle.claim(generation_id, job_id, WORKER_NAME):
        # Cancelled or deleted while queued, or a stale job for a generation re-queued under a new job id.
        log.info("Generation %s is not waiting for job %s: skipped", generation_id, job_id)
        return "skipped"
    try:
        return run_claimed(generation_id, jobs_in_hand(job, job_id))
    finally:
        delete_preview(generation_id)


def jobs_in_hand(job: Any, job_id: str) -> JobsInHand:
    """The worker's own record of the jobs it holds (gallery.generations.worker hands it to the job); a
    job run by a plain RQ worker gets one of its own."""
    in_hand = getattr(job, "in_hand", None)
    if in_hand is None:
        in_hand = JobsInHand(get_queue().connection, WORKER_NAME)
        in_hand.job_id = job_id
    return in_hand


def run_claimed(generation_id: str, in_hand: JobsInHand) -> str:
    try:
        generation = Generation.objects.select_related("photo").get(pk=generation_id)
    except Generation.DoesNotExist:
        return DELETED
    timings: dict[str, Any] = queue_wait(generation)
    if generation.is_group:  # a group batches its own faces
        return group_jobs.run_group(generation, timings)
    return batching.run_batch(generation, timings, in_hand)
