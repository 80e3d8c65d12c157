"""The worker's part of a group photo ("make everyone a dog"): the painter, kept with the engine,
and progress written as "face N of M" beside the steps.

torch and the engine are imported lazily, as in jobs.py.
"""

import math

from django.conf import settings

from . import lifecycle

_painter = None


def get_painter(engine):
    """The process's one GroupPainter on the engine, with FTA_SD_INPAINT_MODEL's weights when set."""
    global _painter
    if _painter is None or _painter.engine is not engine:
        from transform.group import GroupPainter

        _painter = GroupPainter(engine, settings.FTA_SD_INPAINT_MODEL or None)
    return _painter


class GroupProgress:
    """Turns the painter's (face, faces, step, steps) into the row's face and the whole job's steps."""

    def __init__(self, generation_id, reporter):
        self.generation_id = generation_id
        self.reporter = reporter
        self.face = 0

    def __call__(self, face, faces, step, steps, latents=None):
        if face != self.face:
            self.face = face
            self.reporter.stop = not lifecycle.progress_face(self.generation_id, face)
        batches = math.ceil(faces / settings.FTA_MAX_BATCH)
        batch = math.ceil(face / settings.FTA_MAX_BATCH) - 1
        self.reporter.on_step(batch * steps + step, batches * steps, latents)


def group_runner(engine, generation, photo, params, reporter):
    """A call that makes the generation's group photo (run again as it is after an out-of-memory retry)."""
    from transform.group import GroupChoice

    choices = [GroupChoice(choice["index"], choice["breed"], choice.get("coat") or None) for choice in generation.group_faces]
    progress = GroupProgress(generation.pk, reporter)

    def run():
        result = get_painter(engine).paint(
            photo,
            generation.photo.faces,
            choices,
            params,
            max_batch=settings.FTA_MAX_BATCH,
            on_progress=progress,
            should_cancel=reporter.should_cancel,
        )
        if result.skipped:
            lifecycle.skip_faces(generation, result.skipped)
        return result

    return run
