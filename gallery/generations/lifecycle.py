"""Every status change of a Generation, and nowhere else.

    queued ──claim──▶ running ──succeed──▶ succeeded
      │                 │ ├────fail─────▶ failed ──┐
      │                 │ ├──fail_lost──▶ failed ──┤
      │                 │ └──finish_cancelled──▶ cancelled ──┤
      └──cancel─────────┼─────────────────────▶ cancelled    │
                        ├──requeue_lost──▶ queued ◀──retry───┘
                        └──release_for_retry──▶ queued (no job: the reconcile pass pushes one)

claim counts an attempt; requeue_lost and release_for_retry, which follow our own outages, give it
back and count a re-queue instead (gallery.generations.reconcile bounds those).

Each transition is one conditional UPDATE and returns whether it happened (the row count). A
transition that loses its race (the row was deleted, cancelled, or moved on by someone else) does
nothing to the row; where it had already written files, it deletes them at once: a deleted
generation's faces must not survive on disk.
"""

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from gallery.models import Generation, delete_stored

from . import queue as job_queue
from .preview_store import delete_preview

Status = Generation.Status


def _row(generation_id, *statuses, **conditions):
    return Generation.objects.filter(pk=generation_id, status__in=statuses, **conditions)


def queue(generation):
    """Give a queued generation a fresh job id and push the job once the transaction commits.

    A new id for each (re)queue, so a stale job never runs it twice. Returns False when the row is no
    longer queued (deleted or cancelled meanwhile): then no job is pushed.
    """
    return bool(queue_together([generation]))


def queue_together(generations):
    """queue() for several generations, whose jobs go to Redis in one round trip (one wait when it hangs).

    Returns those queued. Once pushed, each one's `pushed` says whether Redis took its job; when it did
    not, the generation waits queued in the database for the reconcile pass.
    """
    queued = []
    for generation in generations:
        job_id = job_queue.new_job_id(generation.pk)
        if _row(generation.pk, Status.QUEUED).update(job_id=job_id, enqueued_at=timezone.now()):
            generation.job_id = job_id
            queued.append(generation)

    def push():
        pushed = job_queue.push_jobs([(generation.pk, generation.job_id) for generation in queued])
        for generation in queued:
            generation.pushed = pushed

    if queued:
        transaction.on_commit(push)
    return queued


def claim(generation_id, job_id, worker_name):
    """The worker takes a queued generation for this job; False for a cancelled, deleted or stale one."""
    return bool(
        _row(generation_id, Status.QUEUED, job_id=job_id).update(
            status=Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1, worker_name=worker_name, step=0
        )
    )


def progress(generation_id, step, steps):
    """Record the step; False means stop: the owner asked to cancel, or the row is gone (deleted)."""
    return bool(_row(generation_id, Status.RUNNING, cancel_requested=False).update(step=step, steps=steps))


def progress_face(generation_id, face):
    """A group photo moved on to its face `face` (1-based, of `faces`); False means stop, as for progress."""
    return bool(_row(generation_id, Status.RUNNING, cancel_requested=False).update(face=face))


def skip_faces(generation, skipped):
    """Faces of a running group photo found too small to make while it runs: the page says which."""
    return bool(_row(generation.pk, Status.RUNNING).update(skipped_faces=generation.skipped_faces + list(skipped)))


def succeed(generation, files, **fields):
    """Record the result; `files` are the FieldFiles already written. They are deleted when this loses.

    It loses when the generation was deleted or cancelled meanwhile: a cancelled one ends cancelled.
    """
    won = _row(generation.pk, Status.RUNNING, cancel_requested=False).update(
        **{file.field.name: file.name for file in files},
        **fields,
        status=Status.SUCCEEDED,
        step=F("steps"),
        finished_at=timezone.now(),
    )
    if not won:
        delete_stored(files)  # their keys name no user, so no folder is left behind
        finish_cancelled(generation.pk, fields.get("timings", {}))
    return bool(won)


def fail(generation_id, error, traceback, timings):
    """A running generation failed: `error` (untranslated, shown to the owner) and the staff-only traceback."""
    return bool(
        _row(generation_id, Status.RUNNING).update(
            status=Status.FAILED, error=error, traceback=traceback, timings=timings, finished_at=timezone.now()
        )
    )


def finish_cancelled(generation_id, timings):
    """A running generation stopped at its owner's request."""
    return bool(
        _row(generation_id, Status.RUNNING).update(
            status=Status.CANCELLED, error="", traceback="", timings=timings, finished_at=timezone.now()
        )
    )


def cancel(generation):
    """A queued generation is cancelled at once; a running one is asked to stop at its next step."""
    if _row(generation.pk, Status.QUEUED).update(status=Status.CANCELLED, finished_at=timezone.now()):
        job_queue.remove_job(generation.job_id)
        return True
    return bool(_row(generation.pk, Status.RUNNING).update(cancel_requested=True))


def retry(generation):
    """Queue a failed or cancelled generation again, same parameters and seed."""
    with transaction.atomic():
        again = _row(generation.pk, Status.FAILED, Status.CANCELLED).update(
            status=Status.QUEUED,
            step=0,
            face=0,
            error="",
            traceback="",
            cancel_requested=False,
            started_at=None,
            finished_at=None,
            attempts=0,
            requeues=0,
        )
        return bool(again) and queue(generation)


# A run that our own outage cut short: its attempt is given back, and a re-queue counted instead.
_OUTAGE_REQUEUE = {"attempts": Greatest(F("attempts") - 1, 0), "requeues": F("requeues") + 1}


def requeue_lost(generation):
    """The job running it ended unrecorded (its worker died or was stopped, or lost the database): queue
    it again, only if no one else moved it meanwhile."""
    with transaction.atomic():
        again = _row(generation.pk, Status.RUNNING, worker_name=generation.worker_name, job_id=generation.job_id).update(
            status=Status.QUEUED, step=0, face=0, started_at=None, **_OUTAGE_REQUEUE
        )
        return bool(again) and queue(generation)


def release_for_retry(generation_id):
    """Storage could not be reached while it ran: back to queued WITHOUT a job, so nothing runs it
    while storage is still down; the reconcile pass pushes a job for it once its grace has passed.
    False when the owner asked to cancel meanwhile (or the row is gone)."""
    return bool(
        _row(generation_id, Status.RUNNING, cancel_requested=False).update(
            status=Status.QUEUED, step=0, face=0, started_at=None, **_OUTAGE_REQUEUE
        )
    )


def fail_lost(generation, error):
    """The job running it ended unrecorded, and our outages have re-queued it too often already."""
    return bool(
        _row(generation.pk, Status.RUNNING, job_id=generation.job_id).update(
            status=Status.FAILED, error=error, finished_at=timezone.now()
        )
    )


def forget(generation_id, job_id):
    """After a deletion commits: what outlives the row outside the database (its job and live preview)."""
    job_queue.remove_job(job_id)
    delete_preview(generation_id)
