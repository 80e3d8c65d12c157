from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .forms import UploadForm, upload_limits_text
from .limits import upload_limit_message
from .media import serve_file
from .models import Generation, Photo


def home(request):
    if request.user.is_authenticated:
        return redirect("gallery:index")
    return render(request, "home.html")


def owned(model, request, pk, *, staff_may_see=False):
    """The user's own object; anyone else's answers 404 exactly like a missing one."""
    queryset = model.objects.all()
    if not (staff_may_see and request.user.is_staff):
        queryset = queryset.filter(owner=request.user)
    return get_object_or_404(queryset, pk=pk)


@login_required
def index(request):
    photos = Photo.objects.filter(owner=request.user)
    generations = Generation.objects.filter(owner=request.user)
    return render(request, "gallery/index.html", {"photos": photos, "generations": generations})


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    context = {"limits": upload_limits_text()["limits"]}
    if request.method == "POST":
        limit = upload_limit_message(request.user)
        if limit:
            context["form"] = UploadForm()
            messages.error(request, limit)
            return render(request, "gallery/upload.html", context, status=429)
        form = UploadForm(request.POST, request.FILES, too_large=getattr(request, "upload_too_large", False))
        if form.is_valid():
            photo = Photo.create_from_upload(request.user, form.photo, form.landmarks)
            return redirect("gallery:photo", pk=photo.pk)
        status = 413 if form.too_large else 400
        return render(request, "gallery/upload.html", {**context, "form": form}, status=status)
    return render(request, "gallery/upload.html", {**context, "form": UploadForm()})


@login_required
def photo(request, pk):
    photo = owned(Photo, request, pk)
    return render(request, "gallery/photo.html", {"photo": photo, "faces": photo_faces(photo)})


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
                "suggested_breeds": face.get("suggested_breeds", []),
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
    photo = owned(Photo, request, pk, staff_may_see=True)
    return serve_file(photo.thumbnail if kind == "thumb" else photo.image)


@login_required
@require_POST
def photo_delete(request, pk):
    photo = owned(Photo, request, pk)
    photo.delete()
    messages.success(request, _("The photo and its dogs have been deleted."))
    return redirect("gallery:index")


@login_required
@require_GET
def generation_image(request, pk, kind):
    generation = owned(Generation, request, pk, staff_may_see=True)
    files = {
        "result": generation.result,
        "thumb": generation.thumbnail,
        "control": generation.control_image,
        "face": generation.face_crop,
    }
    if kind == "download":
        return serve_file(generation.result, download_name=f"facetoanimals-{generation.breed}-{generation.seed}.png")
    return serve_file(files[kind])
