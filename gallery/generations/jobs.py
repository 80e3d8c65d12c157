"""The generation job, run by the worker: claims the row, runs the engine, stores the files.

The job receives a generation's id and nothing else; the database row is the source of truth.
torch and the engine are imported lazily so the web process can name this module without cost.
"""

import io
import logging
import os
import socket
import time
import traceback

from django.core.files.base import ContentFile
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop as _
from PIL import Image
from rq import get_current_job
from rq.timeouts import JobTimeoutException

from gallery.models import Generation, delete_stored
from gallery.storage import STORAGE_ERRORS, StorageUnavailable, is_storage_error
from transform.uploads import make_thumbnail

from .preview_store import store_preview

WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"
# At most this many database writes per second for progress: the status endpoint polls it.
PROGRESS_WRITES_PER_SECOND = 4
PREVIEW_INTERVAL_SECONDS = 1.0
log = logging.getLogger(__name__)

_engine = None


def get_engine():
    """The process's one engine: loaded on first use and kept for every later job."""
    global _engine
    if _engine is None:
        from transform.engine import Engine

        _engine = Engine()
    return _engine


class ProgressReporter:
    """Writes the step to the row a few times a second and reads the owner's cancel request back."""

    def __init__(self, generation_id):
        self.generation_id = generation_id
        self.last_write = 0.0
        self.last_preview = 0.0
        self.cancel_requested = False

    def on_step(self, step, steps, latents=None):
        now = time.monotonic()
        if step < steps and now - self.last_write < 1 / PROGRESS_WRITES_PER_SECOND:
            return
        self.last_write = now
        rows = Generation.objects.filter(pk=self.generation_id)
        rows.update(step=step, steps=steps)
        self.cancel_requested = rows.filter(cancel_requested=True).exists()
        if latents is not None and now - self.last_preview >= PREVIEW_INTERVAL_SECONDS:
            self.last_preview = now
            from transform.engine import latent_preview

            store_preview(self.generation_id, latent_preview(latents))

    def should_cancel(self):
        return self.cancel_requested


def run_generation(generation_id):
    """The RQ job. Returns the final status; never raises for a failed generation."""
    job = get_current_job()
    started = timezone.now()
    claimed = Generation.objects.filter(pk=generation_id, status=Generation.Status.QUEUED, job_id=job.id if job else "").update(
        status=Generation.Status.RUNNING, started_at=started, attempts=F("attempts") + 1, worker_name=WORKER_NAME, step=0
    )
    if not claimed:
        # Cancelled while queued, or a stale job for a generation that was re-queued under a new job id.
        log.info("Generation %s is not waiting for job %s: skipped", generation_id, job and job.id)
        return "skipped"

    generation = Generation.objects.select_related("photo").get(pk=generation_id)
    timings = {"queue_wait": round((started - (generation.enqueued_at or generation.created_at)).total_seconds(), 3)}
    try:
        result = generate(generation, timings)
    except Exception as exc:  # noqa: BLE001  every failure must end in a row the owner can read
        if isinstance(exc, StorageUnavailable):
            return wait_for_storage(generation, exc)
        return finish_unsuccessfully(generation, exc, timings)
    return save_result(generation, result, timings)


def generate(generation, timings):
    from transform.params import GenerationParams

    engine = get_engine()
    params = GenerationParams.from_dict(generation.params)
    face = generation.photo.faces[generation.face_index]
    try:
        with generation.photo.image.open("rb") as handle:
            photo = Image.open(handle).convert("RGB")
    except FileNotFoundError:
        raise
    except STORAGE_ERRORS as exc:
        raise StorageUnavailable from exc
    reporter = ProgressReporter(generation.pk)
    options = {
        "breed_slug": generation.breed,
        "coat": generation.coat or None,
        "on_step": reporter.on_step,
        "should_cancel": reporter.should_cancel,
    }
    try:
        result = engine.generate(photo, face, params, **options)
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        log.warning("Out of GPU memory on %s: retrying once with memory savers", generation.pk)
        engine.enable_memory_savers()
        result = engine.generate(photo, face, params, **options)
    timings.update(result.timings)
    return result


def is_out_of_memory(exc):
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError)


def save_result(generation, result, timings):
    began = time.perf_counter()
    files = {
        "result": ("dog.png", result.png),
        "thumbnail": ("dog.webp", make_thumbnail(result.image)),
        "control_image": ("control.png", png_bytes(result.control_image)),
        "face_crop": ("face.webp", make_thumbnail(result.face_crop)),
    }
    try:
        for field, (name, data) in files.items():
            getattr(generation, field).save(name, ContentFile(data), save=False)
        timings["saving"] = round(time.perf_counter() - began, 3)
        Generation.objects.filter(pk=generation.pk).update(
            **{field: getattr(generation, field).name for field in files},
            status=Generation.Status.SUCCEEDED,
            step=F("steps"),
            seed=result.seed,
            infotext=result.infotext,
            timings=timings,
            finished_at=timezone.now(),
        )
    except Exception as exc:  # noqa: BLE001
        delete_stored(getattr(generation, field) for field in files)
        if is_storage_error(exc):
            return wait_for_storage(generation, exc)
        return finish_unsuccessfully(generation, exc, timings)
    log.info("Generation %s succeeded on %s", generation.pk, WORKER_NAME)
    return Generation.Status.SUCCEEDED


def png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False)
    return buffer.getvalue()


def wait_for_storage(generation, exc):
    """The media storage is out of reach: nothing is the owner's fault, so the generation goes back to
    the queue's waiting room and the reconcile pass runs it again once this job has ended."""
    log.warning("Storage unavailable during %s (%s): it waits for the reconcile pass", generation.pk, exc)
    Generation.objects.filter(pk=generation.pk, status=Generation.Status.RUNNING).update(
        status=Generation.Status.QUEUED, step=0, started_at=None
    )
    return Generation.Status.QUEUED


def finish_unsuccessfully(generation, exc, timings):
    from transform.engine import GenerationCancelled

    if isinstance(exc, GenerationCancelled):
        status, message, trace = Generation.Status.CANCELLED, "", ""
    else:
        log.exception("Generation %s failed", generation.pk)
        status, message, trace = Generation.Status.FAILED, user_message(exc), traceback.format_exc()
    Generation.objects.filter(pk=generation.pk).update(
        status=status, error=message, traceback=trace, timings=timings, finished_at=timezone.now()
    )
    return status


def user_message(exc):
    """A sentence for the owner (stored untranslated, translated when shown); details stay in the traceback."""
    from transform.pipeline import ModelNotAvailable

    if isinstance(exc, JobTimeoutException):
        return _("This dog took too long to make, so we stopped it. Retry, perhaps with fewer steps.")
    if isinstance(exc, ModelNotAvailable):
        return _("The dog generator is not set up right now. Please retry later.")
    if is_out_of_memory(exc):
        return _("The generator ran out of memory for this size. Retry with a smaller size.")
    return _("Something went wrong while making this dog. Please retry.")
