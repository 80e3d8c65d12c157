"""The pages that several views answer with, each built in one place: the photo page (its faces, the
generate and group forms, whether dogs can be made) and the generation page (its progress, parameters and
sharing), and what a view answers once dogs were queued.

Views call these; these call nothing of the views.
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from gallery.generations import readiness
from gallery.generations.service import NO_WEIGHTS, Queued, Refusal
from transform.prompt_template import render_prompt

from . import publication
from .breed_names import breed_name, breed_option, breeds_by_name, coat_in_words, page_language
from .forms import CONTROL_MODE_LABELS, GenerateForm, GroupForm
from .models import QUEUE_PLACES_COUNTED, Generation, Photo


def photo_page(
    request: HttpRequest,
    photo: Photo,
    workers: readiness.Fleet,
    *,
    form: GenerateForm | None = None,
    group_form: GroupForm | None = None,
    status: int = 200,
    sentence: str | None = None,
) -> HttpResponse:
    """The photo page: the photo, its faces, the generate and group forms (the ones given, with their
    errors, or fresh ones), whether dogs can be made; with `sentence`, why nothing happened."""
    if sentence:
        messages.error(request, sentence)
    context = {
        "photo": photo,
        "faces": photo_faces(photo),
        "form": form or GenerateForm(photo, defaults=workers.defaults),
        **group_context(photo, group_form),
        **generator_context(request, workers.without_weights),
    }
    return render(request, "gallery/photo.html", context, status=status)


def photo_refused(request: HttpRequest, photo: Photo, workers: readiness.Fleet, refusal: Refusal, **forms: Any) -> HttpResponse:
    """The photo page answering a service Refusal with its sentence, and the forms as they were posted;
    without weights, the page itself says so, with fresh forms (what was posted was never read)."""
    if refusal.code == NO_WEIGHTS:
        return photo_page(request, photo, workers, status=refusal.status)
    return photo_page(request, photo, workers, status=refusal.status, sentence=refusal.sentence, **forms)


def generator_context(request: HttpRequest, no_weights: bool) -> dict[str, bool]:
    """Whether to say the generator has no weights, and to whom the operator's sentence is shown too:
    on a development machine the person is the operator; in production, staff."""
    return {"no_weights": no_weights, "operator_help": settings.FTA_ENV == "development" or request.user.is_staff}


def group_context(photo: Photo, form: GroupForm | None = None) -> dict[str, Any]:
    """What photo.html needs for the group form: the breeds to pick from and the faces too small to make."""
    from transform.group_masks import MIN_GROUP_FACE_PIXELS, FaceSkipped, crop_box
    from transform.head_crop import InvalidFace

    too_small = set()
    for index, face in enumerate(photo.faces):
        try:
            crop_box(face, (photo.width, photo.height))
        except (FaceSkipped, InvalidFace):
            too_small.add(index)
    return {
        "group_form": form or GroupForm(photo),
        "group_breeds": breeds_by_name(),
        "group_too_small": too_small,
        "group_min_pixels": MIN_GROUP_FACE_PIXELS,
        "group_max_faces": settings.FTA_MAX_FACES_PER_GROUP,
    }


def photo_faces(photo: Photo) -> list[dict[str, Any]]:
    """The faces with what the page shows: a 1-based number, an SVG box and a profile warning."""
    from transform.faces import is_strong_profile

    faces = []
    for index, face in enumerate(photo.faces):
        x0, y0, x1, y1 = face["box"]
        faces.append(
            {
                "index": index,
                "number": index + 1,
                "box": {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0},
                "points": [(round(x * photo.width, 1), round(y * photo.height, 1)) for x, y, _z in face["landmarks"]],
                "profile": is_strong_profile(face),
                "suggestions": suggestions_for_display(face),
            }
        )
    return faces


def suggestions_for_display(face: dict[str, Any]) -> list[dict[str, Any]]:
    """The face's suggested breeds with names and reasons in the active language: a hair reason
    names the coat it matches ("dark hair → black coat"); `deciding` says what tips a tie."""
    from transform.breeds import get_breed, is_breed
    from transform.suggest import reasons_text

    language = page_language()
    shown = []
    for s in face.get("suggested_breeds", []):
        if not is_breed(s["slug"]):
            continue
        breed = get_breed(s["slug"])
        coat = s.get("coat") or breed.coats[0]
        shown.append(
            {
                "slug": s["slug"],
                "name": breed.name_in(language),
                "score": s["score"],
                "reasons": [reasons_text(code, language, coat=coat) for code in s["reasons"]],
                "deciding": [reasons_text(code, language) for code in s.get("deciding", [])],
                # Photos analysed before ties were marked have no flag: no tie.
                "tied_with_next": s.get("tied_with_next", False),
            }
        )
    return shown


def generation_page(
    request: HttpRequest, generation: Generation, status: int = 200, *, sentence: str | None = None, no_weights: bool = False
) -> HttpResponse:
    """The generation page: with `sentence`, why nothing happened; with no_weights (or a dog that failed
    for it), what to set up."""
    if sentence:
        messages.error(request, sentence)
    failed_for_no_weights = generation.error == readiness.NO_WEIGHTS
    context = {
        **generation_context(generation),
        **generator_context(request, no_weights or failed_for_no_weights),
        "failed_for_no_weights": failed_for_no_weights,
    }
    return render(request, "gallery/generation.html", context, status=status)


def generation_refused(request: HttpRequest, generation: Generation, refusal: Refusal) -> HttpResponse:
    """The generation page answering a service Refusal."""
    if refusal.code == NO_WEIGHTS:
        return generation_page(request, generation, refusal.status, no_weights=True)
    return generation_page(request, generation, refusal.status, sentence=refusal.sentence)


def generation_context(generation: Generation) -> dict[str, Any]:
    labels = {
        "queue_wait": _("Waiting in the queue"),
        "model_load": _("Loading the model"),
        "inference": _("Drawing"),
        "saving": _("Saving"),
    }
    return {
        "generation": generation,
        "lineup_size": Generation.objects.filter(owner=generation.owner_id, lineup=generation.lineup).count()
        if generation.lineup
        else 0,
        "breed": breed_option(generation.breed),
        "step_text": step_text(generation),
        "parameters": parameter_rows(generation),
        # What the owner is told about sharing, as gallery.publication decides it.
        "share_link": generation.share_links.filter(disabled=False).first(),
        "link_refusal": publication.link_refusal(generation),
        "on_showcase": publication.on_showcase(generation),
        "timings": [(label, generation.timings[key]) for key, label in labels.items() if key in generation.timings],
    }


# Values that are model input or A1111 names, the same in every language (marked translate="no").
LITERAL_PARAMETERS = ("prompt_template", "negative_prompt", "sampler", "mode")


def parameter_rows(generation: Generation) -> list[tuple[Any, Any, bool]]:
    """(label, value, literal) for every parameter, in the order the form shows them, in the page's language."""
    from transform.breeds import get_breed, is_breed

    labels = {name: field.label for name, field in GenerateForm.base_fields.items()}
    values = dict(generation.params)
    if "prompt_template" in values and is_breed(generation.breed) and not generation.is_group:
        # The prompt actually used, with the breed (and coat) words in place of {breed}.
        breed_words = get_breed(generation.breed).prompt_fragment(generation.coat or None)
        values["prompt_template"] = render_prompt(values["prompt_template"], breed_words)
    if "control_mode" in values:
        values["control_mode"] = CONTROL_MODE_LABELS.get(values["control_mode"], values["control_mode"])
    if values.get("mode", "txt2img") != "img2img":
        # Only img2img repaints the photo: a txt2img dog never used a strength.
        values.pop("strength", None)
    if generation.is_group:
        made = [(face["index"] + 1, breed_name(face["breed"])) for face in generation.group_faces]
        rows: list[tuple[Any, Any, bool]] = [
            (_("Faces and their breeds"), ", ".join(f"{number}: {name}" for number, name in made), False)
        ]
    else:
        rows = [(_("Breed"), generation.breed_name, False), (_("Face"), generation.face_index + 1, False)]
    if generation.coat:
        rows.append((_("Coat (matched to your hair)"), coat_in_words(generation.coat), False))
    rows += [(labels.get(name, name), value, name in LITERAL_PARAMETERS) for name, value in values.items()]
    return rows


def queue_text(generation: Generation) -> str:
    """The queue line under the progress bar: its place, counted up to QUEUE_PLACES_COUNTED; "" once it left the queue."""
    ahead = generation.places_ahead()
    if ahead is None:
        return ""
    if ahead > QUEUE_PLACES_COUNTED:
        return _("Waiting in the queue: more than %(n)s dogs ahead.") % {"n": QUEUE_PLACES_COUNTED}
    return _("Waiting in the queue: number %(n)s.") % {"n": ahead + 1}


def step_text(generation: Generation) -> str:
    """The one live line under the progress bar (static/js/progress.js has it read out): the place in
    the queue while the dog waits, then the step; for a group photo also the face being made, or the
    faces when a batch makes several at once."""
    if generation.status == Generation.Status.QUEUED:
        return queue_text(generation) or _("Waiting to start.")
    steps = _("Step %(step)s of %(steps)s") % {"step": generation.step, "steps": generation.steps}
    if not generation.is_group or not generation.face:
        return steps
    # The worker reports the last face of the batch running; a batch holds up to FTA_MAX_BATCH faces.
    first = (generation.face - 1) // settings.FTA_MAX_BATCH * settings.FTA_MAX_BATCH + 1
    if first == generation.face:
        face = _("Face %(face)s of %(faces)s") % {"face": generation.face, "faces": generation.faces}
    else:
        face = _("Faces %(first)s–%(last)s of %(faces)s") % {"first": first, "last": generation.face, "faces": generation.faces}
    return f"{face} · {steps}"


def after_queueing(request: HttpRequest, queued: Queued) -> HttpResponse:
    """After queueing: one dog's page, or the lineup page of several, with a word if the queue is busy."""
    if queued.queue_busy:
        if queued.dogs > 1:
            messages.warning(request, _("The queue is busy right now: your dogs will start as soon as it is back."))
        else:
            messages.warning(request, _("The queue is busy right now: your dog will start as soon as it is back."))
    first = queued.generations[0]
    if len(queued.generations) > 1:
        return redirect("gallery:lineup", pk=first.lineup)
    return redirect("gallery:generation", pk=first.pk)
