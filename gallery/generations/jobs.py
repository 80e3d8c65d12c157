"""The generation job, run by the worker: claims the row, runs the engine, stores the files.

The job receives a generation's id and nothing else; the database row is the source of truth, and
every change of its status goes through gallery.generations.lifecycle.
torch and the engine are imported lazily so the web process can name this module without cost.
"""

import io
import logging
import os
import socket
import sys
import time
import traceback

from django.conf import settings
from django.utils.translation import gettext_noop as _
from PIL import Image
from rq import get_current_job
from rq.timeouts import JobTimeoutException

from gallery.metrics import count_requeue
from gallery.models import Generation, save_stored
from gallery.storage import DISK_FULL, STORAGE_ERRORS, StorageUnavailable, is_storage_outage, storage_fault
from transform.encoding import DISPLAY_SIDE
from transform.infotext import png_bytes
from transform.uploads import make_thumbnail

from . import lifecycle, readiness
from .preview_store import delete_preview, store_preview
from .reconcile import TOO_MANY_OUTAGES

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
        from transform.management.engine_settings import engine_from_settings

        _engine = engine_from_settings()
    return _engine


def pipeline_status():
    """(state, detail, defaults) of this process's pipeline, as gallery.generations.readiness announces it."""
    if _engine is not None and _engine.pipeline is not None:
        return readiness.READY, "", _engine.default_size()
    if _engine is not None and _engine.load_failure is not None:
        return readiness.MISSING, str(_engine.load_failure), {}
    return readiness.LOADING, "", {}


class ProgressReporter:
    """Writes the step to the row a few times a second; the write also says whether to go on."""

    def __init__(self, generation_id):
        self.generation_id = generation_id
        self.last_write = 0.0
        self.last_preview = 0.0
        self.stop = False

    def on_step(self, step, steps, latents=None):
        now = time.monotonic()
        if step < steps and now - self.last_write < 1 / PROGRESS_WRITES_PER_SECOND:
            return
        self.last_write = now
        # Cancelled by its owner, or deleted (with its photo or account): either way, stop.
        self.stop = not lifecycle.progress(self.generation_id, step, steps)
        if not self.stop and latents is not None and now - self.last_preview >= PREVIEW_INTERVAL_SECONDS:
            self.last_preview = now
            from transform.engine import latent_preview

            store_preview(self.generation_id, latent_preview(latents))

    def should_cancel(self):
        return self.stop


def run_generation(generation_id):
    """The RQ job. A failed generation is recorded on its row, then re-raised so RQ records a failed job."""
    job = get_current_job()
    if not lifecycle.claim(generation_id, job.id if job else "", WORKER_NAME):
        # Cancelled or deleted while queued, or a stale job for a generation re-queued under a new job id.
        log.info("Generation %s is not waiting for job %s: skipped", generation_id, job and job.id)
        return "skipped"
    try:
        return run_claimed(generation_id)
    finally:
        delete_preview(generation_id)


def run_claimed(generation_id):
    from transform.engine import GenerationCancelled

    try:
        generation = Generation.objects.select_related("photo").get(pk=generation_id)
    except Generation.DoesNotExist:
        return "deleted"
    timings = {
        "queue_wait": round((generation.started_at - (generation.enqueued_at or generation.created_at)).total_seconds(), 3)
    }
    if settings.FTA_MAX_BATCH > 1 and not generation.is_group:  # a group batches its own faces
        from .batching import run_with_companions

        return run_with_companions(generation, timings)
    try:
        result = generate(generation, timings)
        return save_result(generation, result, timings)
    except GenerationCancelled:
        lifecycle.finish_cancelled(generation.pk, timings)
        return Generation.Status.CANCELLED
    except StorageUnavailable as exc:
        return wait_for_storage(generation, exc, timings)
    except Exception as exc:
        if not lifecycle.fail(generation.pk, user_message(exc), traceback.format_exc(), timings):
            return "deleted"  # it failed because its photo or account was deleted under it
        log.exception("Generation %s failed", generation.pk)
        raise


def wait_for_storage(generation, exc, timings):
    """Nothing is the owner's fault: the row goes back to queued and the reconcile pass pushes it again,
    unless our outages have sent it back FTA_MAX_REQUEUES times already: then it fails with a sentence."""
    if generation.requeues >= settings.FTA_MAX_REQUEUES:
        if not lifecycle.fail(generation.pk, TOO_MANY_OUTAGES, "".join(traceback.format_exception(exc)), timings):
            return "deleted"
        log.error("Storage unavailable during %s, re-queued too often: failed", generation.pk)
        return Generation.Status.FAILED
    log.warning("Storage unavailable during %s (%s): it waits for the reconcile pass", generation.pk, exc.__cause__)
    if not lifecycle.release_for_retry(generation.pk):
        lifecycle.finish_cancelled(generation.pk, timings)  # its owner asked to cancel meanwhile
        return Generation.Status.CANCELLED
    count_requeue("storage")
    return Generation.Status.QUEUED


class PhotoUnreadable(Exception):
    """The photo's file is gone, or no longer decodes: no wait will cure it, so the dog fails."""


def load_photo(generation):
    """The generation's photo as RGB. StorageUnavailable when storage cannot give its bytes (it is down,
    or the bucket itself is gone); PhotoUnreadable when the file alone is missing, or does not decode."""
    try:
        with generation.photo.image.open("rb") as handle:
            data = handle.read()
    except FileNotFoundError as exc:
        fault = storage_fault()
        if fault:
            raise StorageUnavailable(fault) from exc
        raise PhotoUnreadable("the photo's file is missing") from exc
    except STORAGE_ERRORS as exc:
        if not is_storage_outage(exc):
            raise
        raise StorageUnavailable from exc
    try:
        return Image.open(io.BytesIO(data)).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # UnidentifiedImageError is an OSError
        raise PhotoUnreadable("the photo's file does not decode") from exc


def generate(generation, timings):
    from transform.params import GenerationParams

    engine = get_engine()
    params = GenerationParams.from_dict(generation.params)
    face = generation.photo.faces[generation.face_index]
    photo = load_photo(generation)
    reporter = ProgressReporter(generation.pk)
    options = {
        "breed_slug": generation.breed,
        "coat": generation.coat or None,
        "on_step": reporter.on_step,
        "should_cancel": reporter.should_cancel,
    }
    if generation.is_group:
        from .group_jobs import group_runner

        run = group_runner(engine, generation, photo, params, reporter)
    else:

        def run():
            return engine.generate(photo, face, params, **options)

    try:
        result = run()
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        log.warning("Out of GPU memory on %s: retrying once with memory savers", generation.pk)
        engine.enable_memory_savers()
        result = run()
    timings.update(result.timings)
    return result


def is_out_of_memory(exc):
    # Only the worker has torch loaded; where it is not, no error can be torch's.
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError)


def save_result(generation, result, timings):
    """Write the files, then record them; files of a generation deleted or cancelled meanwhile are removed."""
    began = time.perf_counter()
    contents = {
        "result": ("dog.png", result.png),
        "display": ("dog.webp", make_thumbnail(result.image, max_side=DISPLAY_SIDE)),
        "thumbnail": ("dog.webp", make_thumbnail(result.image)),
    }
    # A group photo has neither: its "before" is the photo itself.
    if not generation.is_group:
        contents["control_image"] = ("control.png", png_bytes(result.control_image))
        contents["face_crop"] = ("face.webp", make_thumbnail(result.face_crop))
    files = [getattr(generation, field) for field in contents]
    try:
        save_stored(generation, contents)
        timings["saving"] = round(time.perf_counter() - began, 3)
        won = lifecycle.succeed(generation, files, seed=result.seed, infotext=result.infotext, timings=timings)
    except BaseException as exc:
        lifecycle.discard_files(files)  # written, but not recorded (save_stored removed its own on failure)
        if is_storage_outage(exc):
            raise StorageUnavailable from exc
        raise
    if not won:
        log.info("Generation %s was deleted or cancelled while saving: its files are removed", generation.pk)
        return "lost"
    log.info("Generation %s succeeded on %s", generation.pk, WORKER_NAME)
    return Generation.Status.SUCCEEDED


def user_message(exc):
    """A sentence for the owner (stored untranslated, translated when shown); details stay in the traceback."""
    from transform.pipeline import ModelNotAvailable

    if isinstance(exc, JobTimeoutException):
        return _("This dog took too long to make, so we stopped it. Retry, perhaps with fewer steps.")
    if isinstance(exc, ModelNotAvailable):
        return readiness.NO_WEIGHTS
    if isinstance(exc, PhotoUnreadable):
        return _("Your photo can no longer be read, so no dog can be made from it. Please upload it again.")
    if isinstance(exc, OSError) and exc.errno in DISK_FULL:
        return _("Our server ran out of storage space, so this dog could not be saved. That is ours to fix: please retry later.")
    if is_out_of_memory(exc):
        return _("The generator ran out of memory for this size. Retry with a smaller size.")
    return _("Something went wrong while making this dog. Please retry.")
