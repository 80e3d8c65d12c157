from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gallery.generations import readiness, service
from gallery.generations.preview_store import has_preview, load_preview
from gallery.generations.service import Refusal

from . import publication
from .breed_names import breeds_by_name
from .forms import GenerateForm, UploadForm, upload_rules_text
from .lookups import is_uuid, owned, with_files_for
from .media import DOG_CACHE, STORAGE_RETRY_AFTER, serve_file
from .metrics import count_upload_refusal, refusal_reason
from .models import Generation, Photo
from .pages import after_queueing, generation_page, generation_refused, photo_page, photo_refused, queue_text, step_text
from .rate_limits import holding, record_upload, upload_limit_message
from .storage import StorageUnavailable


def home(request):
    if request.user.is_authenticated:
        return redirect("gallery:index")
    return render(request, "home.html")


GALLERY_PAGE_SIZE = 24
# Thumbnails in the first row of a wide screen load at once (they are the largest paint); the rest lazily.
GALLERY_FIRST_ROW = 6


@login_required
def index(request):
    """The user's dogs, newest first, filterable by breed and status, and their photos."""
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
        "breeds": breeds_by_name(used_breeds),
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
    try:
        service.ensure_ready(workers)  # before the form: no dog could be made, whatever it says
        if not form.is_valid():
            return photo_page(request, photo, workers, form=form, status=400)
        data = form.cleaned_data
        queued = service.make_dogs(
            request.user,
            photo,
            data["face"],
            data["breed_slug"],
            data["params"],
            coat=data["coat"],
            count=data.get("count") or 1,
            workers=workers,
        )
    except Refusal as refusal:
        return photo_refused(request, photo, workers, refusal, form=form)
    return after_queueing(request, queued)


@login_required
def generation(request, pk):
    generations = publication.own(request.user, Generation).select_related("photo").with_queue_ahead()
    generation = get_object_or_404(generations, pk=pk)
    return generation_page(request, generation, 200)


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
    service.cancel(generation)
    return redirect("gallery:generation", pk=generation.pk)


@login_required
@require_POST
def generation_retry(request, pk):
    generation = owned(Generation, request, pk)
    try:
        queued = service.retry(request.user, generation)
    except Refusal as refusal:
        return generation_refused(request, generation, refusal)
    return after_queueing(request, queued)


@login_required
@require_http_methods(["GET", "POST"])
def generation_delete(request, pk):
    """GET asks to confirm (nothing deleted can come back); POST deletes the dog, its files, job and preview."""
    generation = owned(Generation, request, pk)
    if request.method == "GET":
        return render(request, "gallery/confirm_delete.html", {"generation": generation})
    service.delete(generation)
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
        return generation_page(request, generation, 400, sentence=refusal)
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
    previous = owned(Generation, request, pk)
    try:
        queued = service.make_again(request.user, previous)
    except Refusal as refusal:
        return generation_refused(request, previous, refusal)
    return after_queueing(request, queued)
