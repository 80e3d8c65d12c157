import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gallery.generations import lifecycle, readiness
from gallery.generations.preview_store import has_preview

from . import publication
from .forms import CONTROL_MODE_LABELS, GenerateForm, UploadForm, upload_rules_text
from .media import DOG_CACHE, STORAGE_RETRY_AFTER, serve_file
from .metrics import count_upload_refusal, refusal_reason
from .models import QUEUE_PLACES_COUNTED, Generation, Photo
from .rate_limits import generation_limit_message, holding, record_generations, record_upload, upload_limit_message
from .storage import StorageUnavailable


def home(request):
    if request.user.is_authenticated:
        return redirect("gallery:index")
    return render(request, "home.html")


def owned(model, request, pk):
    """The user's own object; anyone else's answers 404 exactly like a missing one."""
    return get_object_or_404(publication.own(request.user, model), pk=pk)


def with_files_for(model, request, pk):
    """An object whose files the user may fetch (gallery.publication): their own, or anyone's for a reviewer."""
    return get_object_or_404(publication.files_for(request.user, model), pk=pk)


GALLERY_PAGE_SIZE = 24
# Thumbnails in the first row of a wide screen load at once (they are the largest paint); the rest lazily.
GALLERY_FIRST_ROW = 6


@login_required
def index(request):
    """The user's dogs, newest first, filterable by breed and status, and their photos."""
    from transform.breeds import all_breeds

    generations = publication.own(request.user, Generation).only(
        "id",
        "breed",
        "status",
        "review_state",
        "shared",
        "created_at",
        "thumbnail",
        "face_crop",
        "photo_id",
        "owner_id",
        "starred",
        "faces",
    )
    breed, status = request.GET.get("breed", ""), request.GET.get("status", "")
    starred = "1" if request.GET.get("starred") == "1" else ""
    if breed:
        generations = generations.filter(breed=breed)
    if status in Generation.Status.values:
        generations = generations.filter(status=status)
    if starred:
        generations = generations.filter(starred=True)
    page = Paginator(generations, GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    photos = (
        publication.own(request.user, Photo)
        .annotate(dog_count=Count("generations"))
        .only("id", "original_name", "face_count", "created_at", "owner_id")[:12]
    )
    used_breeds = set(publication.own(request.user, Generation).values_list("breed", flat=True).distinct())
    context = {
        "page": page,
        "first_row": GALLERY_FIRST_ROW,
        "photos": photos,
        "breeds": sorted((b for b in all_breeds() if b.slug in used_breeds), key=lambda b: b.name),
        "statuses": Generation.Status.choices,
        "selected": {"breed": breed, "status": status, "starred": starred},
        "query": urlencode({k: v for k, v in (("breed", breed), ("status", status), ("starred", starred)) if v}),
        "has_anything": bool(used_breeds) or bool(photos),
    }
    return render(request, "gallery/index.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    context = {"limits": upload_rules_text()}
    if request.method == "POST":
        with holding(user=request.user):
            limit = upload_limit_message(request.user)
            if not limit:
                record_upload(request.user)  # every attempt counts: a refused file costs decoding too
        if limit:
            count_upload_refusal("rate_limit")
            context["form"] = UploadForm()
            messages.error(request, limit)
            return render(request, "gallery/upload.html", context, status=429)
        form = UploadForm(request.POST, request.FILES, too_large=getattr(request, "upload_too_large", False))
        if form.is_valid():
            landmarks = find_faces(form)
            if landmarks:
                try:
                    photo = Photo.create_from_upload(request.user, form.photo, landmarks)
                except StorageUnavailable:
                    count_upload_refusal("storage")
                    messages.error(request, _("We cannot store photos right now. Please try again in a few minutes."))
                    response = render(request, "gallery/upload.html", {**context, "form": UploadForm()}, status=503)
                    response["Retry-After"] = str(STORAGE_RETRY_AFTER)
                    return response
                return redirect("gallery:photo", pk=photo.pk)
        count_upload_refusal(refusal_reason(form))
        status = 413 if form.has_error(NON_FIELD_ERRORS, "too_big") else 400
        return render(request, "gallery/upload.html", {**context, "form": form}, status=status)
    return render(request, "gallery/upload.html", {**context, "form": UploadForm()})


def find_faces(form):
    """The landmark JSON of a validated upload, or None with the form's error saying no face was found."""
    from transform.photo_analysis import analyze_photo

    landmarks = analyze_photo(form.photo.image)
    if landmarks["faces"]:
        return landmarks
    message = _("We couldn't find a face in this photo. Try one where your face is well lit and facing the camera.")
    form.add_error(None, ValidationError(message, code="no_face"))
    return None


@login_required
def photo(request, pk):
    """The photo, its faces and the generate form (prefilled from ?from=<generation> to regenerate)."""
    photo = owned(Photo, request, pk)
    initial = {}
    source = request.GET.get("from")
    if source:
        previous = publication.own(request.user, Generation).filter(photo=photo, pk=source).first() if is_uuid(source) else None
        if previous:
            initial = {**previous.params, "seed": None, "face": previous.face_index, "breed": previous.breed}
    workers = readiness.fleet()
    return photo_page(request, photo, workers, form=GenerateForm(photo, initial=initial, defaults=workers.defaults))


def photo_page(request, photo, workers, *, form=None, group_form=None, status=200):
    """The photo page: the photo, its faces, the generate and group forms, and whether dogs can be made."""
    from .group_views import group_context

    context = {
        "photo": photo,
        "faces": photo_faces(photo),
        "form": form or GenerateForm(photo, defaults=workers.defaults),
        **group_context(photo, group_form),
        **generator_context(request, workers.without_weights),
    }
    return render(request, "gallery/photo.html", context, status=status)


def generator_context(request, no_weights):
    """Whether to say the generator has no weights, and to whom the operator's sentence is shown too:
    on a development machine the person is the operator; in production, staff."""
    return {"no_weights": no_weights, "operator_help": settings.FTA_ENV == "development" or request.user.is_staff}


def refused_without_weights(workers, page):
    """While every running worker lacks weights, a new dog is refused: `page(503)`, which says why."""
    return page(503) if workers.without_weights else None


def is_uuid(value):
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def suggestions_for_display(face):
    """The face's suggested breeds with names and reasons in the active language: a hair reason
    names the coat it matches ("dark hair → black coat"); `deciding` says what tips a tie."""
    from transform.breeds import get_breed, is_breed
    from transform.suggest import reasons_text

    language = get_language() or "en"
    shown = []
    for s in face.get("suggested_breeds", []):
        if not is_breed(s["slug"]):
            continue
        breed = get_breed(s["slug"])
        coat = s.get("coat") or breed.coats[0]
        shown.append(
            {
                "slug": s["slug"],
                "name": breed.name,
                "score": s["score"],
                "reasons": [reasons_text(code, language, coat=coat) for code in s["reasons"]],
                "deciding": [reasons_text(code, language) for code in s.get("deciding", [])],
                # Photos analysed before ties were marked have no flag: no tie.
                "tied_with_next": s.get("tied_with_next", False),
            }
        )
    return shown


def photo_faces(photo):
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


@login_required
@require_GET
def photo_landmarks(request, pk):
    photo = owned(Photo, request, pk)
    return JsonResponse(photo.landmarks)


@login_required
@require_GET
def photo_image(request, pk, kind):
    photo = with_files_for(Photo, request, pk)
    return serve_file(photo.thumbnail if kind == "thumb" else photo.image)


@login_required
@require_http_methods(["GET", "POST"])
def photo_delete(request, pk):
    """GET asks to confirm (nothing deleted can come back); POST deletes the photo and every dog made from it."""
    photo = owned(Photo, request, pk)
    if request.method == "GET":
        context = {"photo": photo, "dog_count": photo.generations.count()}
        return render(request, "gallery/confirm_delete.html", context)
    photo.delete()
    messages.success(request, _("The photo and its dogs have been deleted."))
    return redirect("gallery:index")


@login_required
@require_GET
def generation_image(request, pk, kind):
    generation = with_files_for(Generation, request, pk)
    dogs = {
        "result": generation.result,
        "display": generation.display or generation.result,  # dogs made before the WebP existed
        "thumb": generation.thumbnail,
    }
    if kind == "download":
        name = f"facetoanimals-{generation.breed}-{generation.seed}.png"
        return serve_file(generation.result, download_name=name, cache_control=DOG_CACHE)
    if kind in dogs:
        return serve_file(dogs[kind], cache_control=DOG_CACHE)
    return serve_file(generation.control_image if kind == "control" else generation.face_crop)


@login_required
@require_POST
def generate(request, pk):
    photo = owned(Photo, request, pk)
    workers = readiness.fleet()
    form = GenerateForm(photo, request.POST, defaults=workers.defaults)
    refusal = refused_without_weights(workers, lambda status: photo_page(request, photo, workers, status=status))
    if refusal:
        return refusal
    if not form.is_valid():
        return photo_page(request, photo, workers, form=form, status=400)
    data = form.cleaned_data
    count = data.get("count") or 1
    with holding(user=request.user):
        limit = generation_limit_message(request.user, wanted=count)
        if not limit:
            generations = Generation.create_and_enqueue(
                photo, data["face"], data["breed_slug"], data["params"], coat=data["coat"], count=count
            )
            record_generations(request.user, count)
    if limit:
        messages.error(request, limit)
        return photo_page(request, photo, workers, form=form, status=429)
    return queued(request, generations)


def queued(request, generations):
    """After queueing: one dog's page, or the lineup page of several (with a word if the queue is busy)."""
    say_if_the_queue_is_busy(request, generations)
    if len(generations) > 1:
        return redirect("gallery:lineup", pk=generations[0].lineup)
    return redirect("gallery:generation", pk=generations[0].pk)


def say_if_the_queue_is_busy(request, generations):
    """Redis did not take their jobs (down, or hung past its one short wait): they wait queued in the
    database, and the reconcile pass pushes them once it answers."""
    if not any(generation.pushed is False for generation in generations):
        return
    if sum(generation.faces for generation in generations) > 1:
        messages.warning(request, _("The queue is busy right now: your dogs will start as soon as it is back."))
    else:
        messages.warning(request, _("The queue is busy right now: your dog will start as soon as it is back."))


@login_required
def generation(request, pk):
    generations = publication.own(request.user, Generation).select_related("photo").with_queue_ahead()
    generation = get_object_or_404(generations, pk=pk)
    return generation_page(request, generation, 200)


def generation_context(generation):
    from transform.breeds import get_breed, is_breed

    timing_labels = {
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
        "breed": get_breed(generation.breed) if is_breed(generation.breed) else None,
        "step_text": step_text(generation),
        "parameters": parameter_rows(generation),
        # What the owner is told about sharing, as gallery.publication decides it.
        "share_link": generation.share_links.filter(disabled=False).first(),
        "link_refusal": publication.link_refusal(generation),
        "on_showcase": publication.on_showcase(generation),
        "timings": [(label, generation.timings[key]) for key, label in timing_labels.items() if key in generation.timings],
    }


# Values that are model input or A1111 names, the same in every language (marked translate="no").
LITERAL_PARAMETERS = ("prompt_template", "negative_prompt", "sampler", "mode")


def parameter_rows(generation):
    """(label, value, literal) for every parameter, in the order the form shows them, in the page's language."""
    from transform.breeds import coat_name, get_breed, is_breed
    from transform.prompt_template import render_prompt

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
        made = [
            (face["index"] + 1, get_breed(face["breed"]).name if is_breed(face["breed"]) else face["breed"])
            for face in generation.group_faces
        ]
        rows = [(_("Faces and their breeds"), ", ".join(f"{number}: {name}" for number, name in made), False)]
    else:
        rows = [(_("Breed"), generation.breed_name, False), (_("Face"), generation.face_index + 1, False)]
    if generation.coat:
        rows.append((_("Coat (matched to your hair)"), coat_name(generation.coat), False))
    rows += [(labels.get(name, name), value, name in LITERAL_PARAMETERS) for name, value in values.items()]
    return rows


def queue_text(generation):
    """The queue line under the progress bar: its place, counted up to QUEUE_PLACES_COUNTED; "" once it left the queue."""
    ahead = generation.places_ahead()
    if ahead is None:
        return ""
    if ahead > QUEUE_PLACES_COUNTED:
        return _("Waiting in the queue: more than %(n)s dogs ahead.") % {"n": QUEUE_PLACES_COUNTED}
    return _("Waiting in the queue: number %(n)s.") % {"n": ahead + 1}


def step_text(generation):
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


STATUS_FIELDS = ("status", "step", "steps", "breed", "error", "enqueued_at", "face", "faces", "group_faces")


@login_required
@require_GET
def generation_status(request, pk):
    """Polled every second by many users: one query beyond the session's, whose cost does not grow with
    the queue (its place is counted up to QUEUE_PLACES_COUNTED); no image work."""
    generations = publication.own(request.user, Generation).only(*STATUS_FIELDS).with_queue_ahead()
    generation = get_object_or_404(generations, pk=pk)
    return JsonResponse(
        {
            "status": generation.status,
            "progress": generation.progress,
            "step": generation.step,
            "steps": generation.steps,
            "breed": generation.breed,
            "error": _(generation.error) if generation.error else None,
            # For the page's live badge and queue line (static/js/progress.js), in the page's language.
            "label": generation.get_status_display(),
            "step_text": step_text(generation),
            "queue_text": queue_text(generation),
            # A group photo: the face being made and how many (a single dog: 0 of 1 while queued, then 1).
            "face": generation.face,
            "faces": generation.faces,
            # Whether preview.webp has a picture to give: the page asks for it only then.
            "preview": generation.status == Generation.Status.RUNNING and has_preview(generation.pk),
        }
    )


@login_required
@require_GET
def generation_preview(request, pk):
    from gallery.generations.preview_store import load_preview

    generation = owned(Generation, request, pk)
    data = load_preview(generation.pk) if generation.status == Generation.Status.RUNNING else None
    if not data:
        raise Http404
    response = HttpResponse(data, content_type="image/webp")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def generation_cancel(request, pk):
    generation = owned(Generation, request, pk)
    generation.cancel()
    return redirect("gallery:generation", pk=generation.pk)


@login_required
@require_POST
def generation_retry(request, pk):
    generation = owned(Generation, request, pk)
    if not generation.can_retry:
        return generation_page(request, generation, 400, _("Only a failed or cancelled dog can be tried again."))
    refusal = refused_without_weights(
        readiness.fleet(), lambda status: generation_page(request, generation, status, no_weights=True)
    )
    if refusal:
        return refusal
    with holding(user=request.user):
        limit = generation_limit_message(request.user, wanted=generation.faces)
        # Charged only when it was queued again: a retry that loses its race to another does nothing.
        if not limit and generation.retry():
            record_generations(request.user, generation.faces)
    if limit:
        return generation_page(request, generation, 429, limit)
    say_if_the_queue_is_busy(request, [generation])
    return redirect("gallery:generation", pk=generation.pk)


def generation_page(request, generation, status, refusal=None, no_weights=False):
    """The generation page: with `refusal`, the sentence saying why nothing happened; with no_weights (or
    a dog that failed for it), what to set up."""
    if refusal:
        messages.error(request, refusal)
    failed_for_no_weights = generation.error == readiness.NO_WEIGHTS
    context = {
        **generation_context(generation),
        **generator_context(request, no_weights or failed_for_no_weights),
        "failed_for_no_weights": failed_for_no_weights,
    }
    return render(request, "gallery/generation.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def generation_delete(request, pk):
    """GET asks to confirm (nothing deleted can come back); POST deletes the dog, its files, job and preview."""
    generation = owned(Generation, request, pk)
    if request.method == "GET":
        return render(request, "gallery/confirm_delete.html", {"generation": generation})
    lifecycle.delete(generation)
    messages.success(request, _("The dog has been deleted."))
    if generation.lineup and Generation.objects.filter(owner=request.user, lineup=generation.lineup).exists():
        return redirect("gallery:lineup", pk=generation.lineup)
    return redirect("gallery:index")


@login_required
@require_POST
def generation_share(request, pk):
    """The owner shares (or stops sharing) a dog on the public showcase; staff approval still applies."""
    generation = owned(Generation, request, pk)
    refusal = publication.showcase_refusal(generation)
    if refusal and request.POST.get("shared") == "1":
        return generation_page(request, generation, 400, refusal)
    generation.shared = request.POST.get("shared") == "1"
    generation.show_username = generation.shared and request.POST.get("show_username") == "1"
    generation.save(update_fields=["shared", "show_username"])
    if generation.shared and generation.review_state != Generation.Review.APPROVED:
        messages.info(request, _("Thanks! It will appear on the showcase once our team has approved it."))
    return redirect("gallery:generation", pk=generation.pk)


@login_required
@require_POST
def generation_star(request, pk):
    """Toggle the star (or set it with starred=1/0): JSON for scripts, otherwise back where the form was."""
    generation = owned(Generation, request, pk)
    wanted = request.POST.get("starred")
    generation.starred = wanted == "1" if wanted in ("0", "1") else not generation.starred
    if not Generation.objects.filter(pk=generation.pk).update(starred=generation.starred):
        raise Http404  # deleted meanwhile
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"starred": generation.starred})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("gallery:generation", args=[generation.pk])
    return redirect(back)


@login_required
@require_POST
def generation_regenerate(request, pk):
    """The same dog again with a new random seed."""
    from transform.params import GenerationParams

    previous = owned(Generation, request, pk)
    refusal = refused_without_weights(
        readiness.fleet(), lambda status: generation_page(request, previous, status, no_weights=True)
    )
    if refusal:
        return refusal
    params = GenerationParams.from_dict({**previous.params, "seed": None})
    with holding(user=request.user):
        limit = generation_limit_message(request.user, wanted=previous.faces)
        if not limit:
            if previous.is_group:
                generation = Generation.create_group_and_enqueue(
                    previous.photo, previous.group_faces, params, previous.skipped_faces
                )
            else:
                generation = Generation.create_and_enqueue(
                    previous.photo, previous.face_index, previous.breed, params, coat=previous.coat
                )[0]
            record_generations(request.user, generation.faces)
    if limit:
        return generation_page(request, previous, 429, limit)
    say_if_the_queue_is_busy(request, [generation])
    return redirect("gallery:generation", pk=generation.pk)
