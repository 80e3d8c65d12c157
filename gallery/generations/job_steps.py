"""What every generation job does, whether it makes one dog, a batch of them or a group photo: the
process's engine, the photo loaded, progress written to the row, the files saved, and the outcome
recorded (with the sentence the owner reads), all through gallery.generations.lifecycle.

jobs.py, batching.py and group_jobs.py use these; this module uses none of them. torch and the engine
are imported lazily so that the web process can name the generation modules without cost.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.translation import gettext_noop as _
from PIL import Image
from rq.timeouts import JobTimeoutException

from gallery.metrics import count_requeue
from gallery.models import Generation, delete_stored, save_stored
from gallery.storage import DISK_FULL, STORAGE_ERRORS, StorageUnavailable, is_storage_outage, storage_fault
from transform.encoding import DISPLAY_SIDE
from transform.infotext import png_bytes
from transform.uploads import make_thumbnail

from . import lifecycle, readiness
from .preview_store import store_preview
from .reconcile import TOO_MANY_OUTAGES

if TYPE_CHECKING:
    from transform.engine import Engine, GenerationResult
    from transform.group import GroupResult

WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"
# At most this many database writes per second for progress: the status endpoint polls it.
PROGRESS_WRITES_PER_SECOND = 4
PREVIEW_INTERVAL_SECONDS = 1.0
# How a job ended, besides Generation.Status: its row was deleted under it, or it lost its race while saving.
DELETED, LOST = "deleted", "lost"
log = logging.getLogger(__name__)


class EngineHolder:
    """The process's one engine: made from the settings on first use and kept for every later job."""

    def __init__(self) -> None:
        self.engine: Engine | None = None

    def get(self) -> Engine:
        if self.engine is None:
            from .engine_settings import engine_from_settings

            self.engine = engine_from_settings()
        return self.engine

    def forget(self) -> None:
        """The next get() makes the engine again from the settings (tests change them)."""
        self.engine = None

    def status(self) -> tuple[str, str, dict[str, int]]:
        """(state, detail, defaults) of this process's pipeline, as gallery.generations.readiness announces it."""
        engine = self.engine
        if engine is not None and engine.pipeline is not None:
            return readiness.READY, "", engine.default_size()
        if engine is not None and engine.load_failure is not None:
            return readiness.MISSING, str(engine.load_failure), {}
        return readiness.LOADING, "", {}


ENGINE = EngineHolder()


class ProgressReporter:
    """Writes the step to the row a few times a second; the write also says whether to go on."""

    def __init__(self, generation_id: Any) -> None:
        self.generation_id = generation_id
        self.last_write = 0.0
        self.last_preview = 0.0
        self.stop = False

    def on_step(self, step: int, steps: int, latents: Any = None) -> None:
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

    def should_cancel(self) -> bool:
        return self.stop


class PhotoUnreadable(Exception):
    """The photo's file is gone, or no longer decodes: no wait will cure it, so the dog fails."""


def load_photo(generation: Generation) -> Image.Image:
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


def queue_wait(generation: Generation) -> dict[str, float]:
    """The job's first timing: how long the generation waited between being queued and being claimed."""
    assert generation.started_at is not None
    waited = generation.started_at - (generation.enqueued_at or generation.created_at)
    return {"queue_wait": round(waited.total_seconds(), 3)}


def record_outcome(
    generation: Generation, outcome: GenerationResult | GroupResult | Exception, timings: dict
) -> tuple[str, Exception | None]:
    """The one place a job's outcome is recorded: the result saved, or the failure, cancel or storage
    outage written through the lifecycle. Returns the status it ended with (DELETED or LOST when the
    row went away meanwhile) and, for a failure, the exception (the job raises its own again for RQ);
    raises nothing but what a process stop raises."""
    from transform.engine import GenerationCancelled

    if not isinstance(outcome, Exception):
        timings.update(outcome.timings)
        try:
            return save_result(generation, outcome, timings), None
        except Exception as exc:  # noqa: BLE001  a failed save is this generation's alone
            outcome = exc
    if isinstance(outcome, GenerationCancelled):
        lifecycle.finish_cancelled(generation.pk, timings)
        return Generation.Status.CANCELLED, None
    if isinstance(outcome, StorageUnavailable):
        return wait_for_storage(generation, outcome, timings), None
    if not lifecycle.fail(generation.pk, user_message(outcome), "".join(traceback.format_exception(outcome)), timings):
        return DELETED, None  # it failed because its photo or account was deleted under it: nothing to tell anyone
    log.error("Generation %s failed: %s", generation.pk, "".join(traceback.format_exception(outcome)).rstrip())
    return Generation.Status.FAILED, outcome


def wait_for_storage(generation: Generation, exc: Exception, timings: dict) -> str:
    """Nothing is the owner's fault: the row goes back to queued and the reconcile pass pushes it again,
    unless our outages have sent it back FTA_MAX_REQUEUES times already: then it fails with a sentence."""
    if generation.requeues >= settings.FTA_MAX_REQUEUES:
        if not lifecycle.fail(generation.pk, TOO_MANY_OUTAGES, "".join(traceback.format_exception(exc)), timings):
            return DELETED
        log.error("Storage unavailable during %s, re-queued too often: failed", generation.pk)
        return Generation.Status.FAILED
    log.warning("Storage unavailable during %s (%s): it waits for the reconcile pass", generation.pk, exc.__cause__)
    if not lifecycle.release_for_retry(generation.pk):
        lifecycle.finish_cancelled(generation.pk, timings)  # its owner asked to cancel meanwhile
        return Generation.Status.CANCELLED
    count_requeue("storage")
    return Generation.Status.QUEUED


def save_result(generation: Generation, result: GenerationResult | GroupResult, timings: dict) -> str:
    """Write the files, then record them; files of a generation deleted or cancelled meanwhile are removed."""
    began = time.perf_counter()
    contents = {
        "result": ("dog.png", result.png),
        "display": ("dog.webp", make_thumbnail(result.image, max_side=DISPLAY_SIDE)),
        "thumbnail": ("dog.webp", make_thumbnail(result.image)),
    }
    # A group photo has neither: its "before" is the photo itself.
    if not generation.is_group:
        contents["control_image"] = ("control.png", png_bytes(result.control_image))  # type: ignore[union-attr]
        contents["face_crop"] = ("face.webp", make_thumbnail(result.face_crop))  # type: ignore[union-attr]
    files = [getattr(generation, field) for field in contents]
    try:
        save_stored(generation, contents)
        timings["saving"] = round(time.perf_counter() - began, 3)
        won = lifecycle.succeed(generation, files, seed=result.seed, infotext=result.infotext, timings=timings)
    except BaseException as exc:
        delete_stored(files)  # written, but not recorded (save_stored removed its own on failure)
        if is_storage_outage(exc):
            raise StorageUnavailable from exc
        raise
    if not won:
        log.info("Generation %s was deleted or cancelled while saving: its files are removed", generation.pk)
        return LOST
    log.info("Generation %s succeeded on %s", generation.pk, WORKER_NAME)
    return Generation.Status.SUCCEEDED


def user_message(exc: BaseException) -> str:
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


def is_out_of_memory(exc: BaseException) -> bool:
    # Only the worker has torch loaded; where it is not, no error can be torch's.
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError)
