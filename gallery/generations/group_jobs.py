"""The worker's part of a group photo ("make everyone a dog"): the painter, kept with the engine,
and progress written as "face N of M" beside the steps.

torch and the engine are imported lazily, as in job_steps.py.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from django.conf import settings

from gallery.models import Generation

from . import lifecycle
from .job_steps import ENGINE, ProgressReporter, load_photo, record_outcome

if TYPE_CHECKING:
    from transform.engine import Engine
    from transform.group import GroupPainter, GroupResult

_painter: GroupPainter | None = None


def get_painter(engine: Engine) -> GroupPainter:
    """The process's one GroupPainter on the engine, with FTA_SD_INPAINT_MODEL's weights when set."""
    global _painter
    if _painter is None or _painter.engine is not engine:
        from transform.group import GroupPainter

        _painter = GroupPainter(engine, settings.FTA_SD_INPAINT_MODEL or None)
    return _painter


class GroupProgress:
    """Turns the painter's (face, faces, step, steps) into the row's face and the whole job's steps."""

    def __init__(self, generation_id: Any, reporter: ProgressReporter) -> None:
        self.generation_id = generation_id
        self.reporter = reporter
        self.face = 0

    def __call__(self, face: int, faces: int, step: int, steps: int, latents: Any = None) -> None:
        if face != self.face:
            self.face = face
            self.reporter.stop = not lifecycle.progress_face(self.generation_id, face)
        batches = math.ceil(faces / settings.FTA_MAX_BATCH)
        batch = math.ceil(face / settings.FTA_MAX_BATCH) - 1
        self.reporter.on_step(batch * steps + step, batches * steps, latents)


def run_group(generation: Generation, timings: dict) -> str:
    """Makes the generation's group photo and records how it ended; its failure is raised again for RQ."""
    try:
        outcome: GroupResult | Exception = paint(generation)
    except Exception as exc:  # noqa: BLE001  recorded below, then raised again
        outcome = exc
    status, failure = record_outcome(generation, outcome, timings)
    if failure is not None:
        raise failure
    return status


def paint(generation: Generation) -> GroupResult:
    from transform.group import GroupChoice
    from transform.params import GenerationParams

    engine = ENGINE.get()
    choices = [GroupChoice(choice["index"], choice["breed"], choice.get("coat") or None) for choice in generation.group_faces]
    reporter = ProgressReporter(generation.pk)
    result = get_painter(engine).paint(
        load_photo(generation),
        generation.photo.faces,
        choices,
        GenerationParams.from_dict(generation.params),
        max_batch=settings.FTA_MAX_BATCH,
        on_progress=GroupProgress(generation.pk, reporter),
        should_cancel=reporter.should_cancel,
    )
    if result.skipped:
        lifecycle.skip_faces(generation, result.skipped)
    return result
