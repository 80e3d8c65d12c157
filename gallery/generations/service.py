"""Everything a person (or a script, through the HTTP API) can ask of generations: the one way in.

Views and the API call these with plain arguments (the user, their photo or generation, parameters
their form has validated) and translate the outcome into a page or JSON: a `Queued` for new dogs, or a
`Refusal` carrying the sentence to show and the HTTP status. Each function checks, in this order,
that the workers can make dogs at all, then the user's limits under their lock
(gallery.rate_limits.holding), then creates and queues through gallery.generations.lifecycle, and
charges the hourly limit only for what was queued.

    ensure_ready(workers)            Refusal(503) while every worker says it has no weights.
    make_dogs(user, photo, ...)      one dog, or `count` with seeds seed, seed+1, … ("Make 4"); Refusal(503, 429).
    make_lineup(user, photo, ...)    one dog per (breed, coat, params), one page ("Make all five"); Refusal(503, 429).
    make_group(user, photo, ...)     one generation making every chosen face a dog; Refusal(503, 429).
    make_again(user, previous)       the same dog (or group) again with a new random seed; Refusal(503, 429).
    retry(user, generation)          a failed or cancelled one queued again, same seed; Refusal(400, 503, 429).
    cancel(generation)               a queued one cancelled at once, a running one asked to stop; never refused.
    delete(generation)               the row now; files, job and preview once that commits; never refused.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from gallery.models import Generation, Photo
from gallery.rate_limits import generation_limit_message, holding, record_generations

from . import lifecycle, readiness

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from transform.params import GenerationParams

# Refusal codes: what the page (or the API's JSON) is told beside the sentence. INVALID is the callers'
# own, for what they found wrong in a request before asking anything of this module.
NO_WEIGHTS, LIMIT, NOT_RETRYABLE, INVALID = "no_weights", "limit", "not_retryable", "invalid"


class Refusal(Exception):
    """Nothing was made or changed: `sentence` says why (in the active language), `status` is the HTTP status."""

    def __init__(self, sentence: str, status: int, code: str) -> None:
        super().__init__(sentence)
        self.sentence, self.status, self.code = sentence, status, code


@dataclass(frozen=True)
class Queued:
    """The generations made and queued, in the order asked for."""

    generations: list[Generation]

    @property
    def queue_busy(self) -> bool:
        """Redis did not take their jobs (down, or hung past its one short wait): they wait queued in the
        database, and the reconcile pass pushes them once it answers."""
        return any(generation.pushed is False for generation in self.generations)

    @property
    def dogs(self) -> int:
        """How many dogs: a group photo counts each of its faces."""
        return sum(generation.faces for generation in self.generations)


# A chosen face of a group photo: {"index": int, "breed": slug, "coat": str} (gallery.forms.GroupForm).
FaceChoice = dict[str, Any]


def ensure_ready(workers: readiness.Fleet | None = None) -> readiness.Fleet:
    """The live workers' fleet; Refusal(503) while all of them lack weights: each dog would only fail."""
    workers = readiness.fleet() if workers is None else workers
    if workers.without_weights:
        raise Refusal(_(readiness.NO_WEIGHTS), 503, NO_WEIGHTS)
    return workers


def make_dogs(
    user: User,
    photo: Photo,
    face_index: int,
    breed: str,
    params: GenerationParams,
    *,
    coat: str = "",
    count: int = 1,
    workers: readiness.Fleet | None = None,
) -> Queued:
    """`count` dogs of one face and breed, seeds params.seed, +1, … like an A1111 batch (one seed chosen when none)."""
    seed = params.with_seed().seed
    assert seed is not None
    dogs = [(breed, coat, dataclasses.replace(params, seed=(seed + offset) % 2**32)) for offset in range(count)]
    return make_lineup(user, photo, face_index, dogs, workers=workers)


def make_lineup(
    user: User,
    photo: Photo,
    face_index: int,
    dogs: Sequence[tuple[str, str, GenerationParams]],
    *,
    workers: readiness.Fleet | None = None,
) -> Queued:
    """One generation per (breed, coat, params), queued together in order; several share a lineup id and
    one page. Queued one after the other with the same size, steps and sampler, a worker makes them in one
    batched call (gallery.generations.batching)."""
    ensure_ready(workers)
    lineup = uuid.uuid4() if len(dogs) > 1 else None

    def create() -> list[Generation]:
        generations = [
            Generation.objects.create(
                owner=photo.owner,
                photo=photo,
                face_index=face_index,
                breed=breed,
                coat=coat,
                lineup=lineup,
                params=params.to_dict(),
                seed=params.seed,
                steps=params.steps,
            )
            for breed, coat, params in dogs
        ]
        return lifecycle.queue_together(generations)

    return _within_limits(user, len(dogs), create)


def make_group(
    user: User,
    photo: Photo,
    choices: Sequence[FaceChoice],
    params: GenerationParams,
    *,
    skipped: Iterable[dict[str, Any]] = (),
    workers: readiness.Fleet | None = None,
) -> Queued:
    """One generation turning every chosen face of the photo into a dog, in the photo's own scene."""
    ensure_ready(workers)
    params = params.with_seed()

    def create() -> list[Generation]:
        generation = Generation.objects.create(
            owner=photo.owner,
            photo=photo,
            face_index=choices[0]["index"],
            breed=choices[0]["breed"],
            group_faces=list(choices),
            skipped_faces=list(skipped),
            faces=len(choices),
            params=params.to_dict(),
            seed=params.seed,
            steps=params.steps,
        )
        return lifecycle.queue_together([generation])

    return _within_limits(user, len(choices), create)


def make_again(user: User, previous: Generation, *, workers: readiness.Fleet | None = None) -> Queued:
    """The same dog (or group photo) as `previous`, with a new random seed."""
    from transform.params import GenerationParams

    params = GenerationParams.from_dict({**previous.params, "seed": None})
    if previous.is_group:
        return make_group(user, previous.photo, previous.group_faces, params, skipped=previous.skipped_faces, workers=workers)
    return make_dogs(user, previous.photo, previous.face_index, previous.breed, params, coat=previous.coat, workers=workers)


def retry(user: User, generation: Generation, *, workers: readiness.Fleet | None = None) -> Queued:
    """Queue a failed or cancelled generation again, same parameters and seed; charged only when it was
    queued again (a retry that loses its race to another does nothing, and is not refused: the dog is
    on its way). `generation` is refreshed."""
    if not generation.can_retry:
        raise Refusal(_("Only a failed or cancelled dog can be tried again."), 400, NOT_RETRYABLE)
    ensure_ready(workers)

    def queue_again() -> list[Generation]:
        return [generation] if lifecycle.retry(generation) else []

    _within_limits(user, generation.faces, queue_again)
    generation.refresh_from_db()
    return Queued([generation])


def cancel(generation: Generation) -> bool:
    """A queued generation is cancelled at once; a running one stops at its next step. False when it had
    already ended. `generation` is refreshed."""
    changed = lifecycle.cancel(generation)
    generation.refresh_from_db()
    return changed


def delete(generation: Generation) -> None:
    """Delete the row; its files, job and live preview go once the deletion commits (gallery.deletion).

    A worker running it sees the row gone at its next step and stops; one already saving finds its
    success losing (lifecycle.succeed) and deletes what it wrote.
    """
    generation.delete()


def _within_limits(user: User, dogs: int, create: Callable[[], list[Generation]]) -> Queued:
    """Check the user's limits for `dogs` more, create and queue, and charge what was queued: all under
    the user's lock, so requests sent together take turns. Refusal(429) over a limit."""
    with holding(user=user):
        limit = generation_limit_message(user, wanted=dogs)
        if limit:
            raise Refusal(limit, 429, LIMIT)
        queued = Queued(create())
        if queued.generations:
            record_generations(user, queued.dogs)
    # The jobs are pushed once the lock's transaction commits: only now does `queue_busy` know.
    return queued


__all__ = [
    "INVALID",
    "LIMIT",
    "NOT_RETRYABLE",
    "NO_WEIGHTS",
    "Queued",
    "Refusal",
    "cancel",
    "delete",
    "ensure_ready",
    "make_again",
    "make_dogs",
    "make_group",
    "make_lineup",
    "retry",
]
