"""Lineups: dogs asked for together ("Make 4", "Make all five") on one page, each with its own progress,
star and result. Queued together with the same size and steps, a worker makes them in one batched call."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gallery.generations import readiness, service
from gallery.generations.service import INVALID, Refusal
from transform.breeds import is_breed
from transform.params import GenerationParams
from transform.strict_numbers import parse_integer
from transform.suggest import coat_for_hair

from . import publication
from .lookups import owned
from .models import Generation, Photo
from .pages import after_queueing, photo_refused, step_text

LINEUP_FIELDS = (
    "id",
    "owner_id",
    "breed",
    "status",
    "step",
    "steps",
    "error",
    "starred",
    "thumbnail",
    "face",
    "faces",
    "group_faces",
)


def lineup_dogs(request, pk):
    """The user's dogs of this lineup, in the order they were asked for; 404 when none (or not theirs)."""
    dogs = list(publication.own(request.user, Generation).filter(lineup=pk).only(*LINEUP_FIELDS).order_by("created_at", "pk"))
    if not dogs:
        raise Http404
    return dogs


@login_required
@require_GET
def lineup(request, pk):
    dogs = lineup_dogs(request, pk)
    context = {
        "lineup": pk,
        "dogs": [(dog, step_text(dog)) for dog in dogs],
        "active": any(dog.is_active for dog in dogs),
    }
    return render(request, "gallery/lineup.html", context)


@login_required
@require_GET
def lineup_status(request, pk):
    """Polled every second by the lineup page: every dog's status in one query, no image work."""
    return JsonResponse({"dogs": [dog_status(dog) for dog in lineup_dogs(request, pk)]})


def dog_status(dog):
    finished = dog.status == Generation.Status.SUCCEEDED and dog.thumbnail
    return {
        "id": str(dog.pk),
        "status": dog.status,
        "label": dog.get_status_display(),
        "step": dog.step,
        "steps": dog.steps,
        "progress": dog.progress,
        "step_text": step_text(dog),
        "error": _(dog.error) if dog.error else None,
        "thumbnail": reverse("gallery:generation-thumbnail", args=[dog.pk]) if finished else None,
    }


@login_required
@require_POST
def generate_lineup(request, pk):
    """ "Make all five": one dog of each breed suggested for the face, with one seed, as one lineup."""
    photo = owned(Photo, request, pk)
    workers = readiness.fleet()
    try:
        service.ensure_ready(workers)
        queued = service.make_lineup(
            request.user, photo, *suggested_dogs(photo, request.POST.get("face", ""), workers), workers=workers
        )
    except Refusal as refusal:
        return photo_refused(request, photo, workers, refusal)
    return after_queueing(request, queued)


def suggested_dogs(photo, posted_face, workers):
    """(face index, [(breed, coat, params)]) for every breed suggested for the posted face; Refusal(400)
    for a face the photo does not have, or one without suggestions."""
    try:
        face_index = parse_integer(posted_face, negative=False)
    except ValueError:
        face_index = None
    if face_index is None or face_index >= photo.face_count:
        raise Refusal(_("Choose a face of this photo."), 400, INVALID)
    face = photo.faces[face_index]
    breeds = [s["slug"] for s in face.get("suggested_breeds") or [] if is_breed(s["slug"])]
    if not breeds:
        raise Refusal(_("We have no suggestion for this face: please pick a breed."), 400, INVALID)
    params = GenerationParams.from_dict(workers.defaults)  # one seed for every breed: the breed is all that differs
    return face_index, [(breed, coat_for_hair(breed, face.get("hair")) or "", params) for breed in breeds]
