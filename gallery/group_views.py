"""Group photos, "make everyone a dog": the form's context on the photo page and its POST."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from gallery.generations import readiness

from .forms import GroupForm
from .models import Generation, Photo
from .rate_limits import generation_limit_message, holding, record_generations
from .views import owned, photo_page, refused_without_weights, say_if_the_queue_is_busy


def group_context(photo, form=None):
    """What photo.html needs for the group form: the breeds to pick from and the faces too small to make."""
    from transform.breeds import all_breeds
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
        "group_breeds": sorted(all_breeds(), key=lambda breed: breed.name),
        "group_too_small": too_small,
        "group_min_pixels": MIN_GROUP_FACE_PIXELS,
        "group_max_faces": settings.FTA_MAX_FACES_PER_GROUP,
    }


@login_required
@require_POST
def generate_group(request, pk):
    """One generation turning every chosen face of the photo into a dog, in the photo's own scene."""
    from transform.params import GenerationParams

    photo = owned(Photo, request, pk)
    workers = readiness.fleet()
    form = GroupForm(photo, request.POST)
    refusal = refused_without_weights(workers, lambda status: photo_page(request, photo, workers, status=status))
    if refusal:
        return refusal
    if not form.is_valid():
        return photo_page(request, photo, workers, group_form=form, status=400)
    with holding(user=request.user):
        limit = generation_limit_message(request.user, wanted=len(form.choices))
        if not limit:
            generation = Generation.create_group_and_enqueue(photo, form.choices, GenerationParams(), form.skipped)
            record_generations(request.user, generation.faces)
    if limit:
        messages.error(request, limit)
        return photo_page(request, photo, workers, group_form=form, status=429)
    say_if_the_queue_is_busy(request, [generation])
    return redirect("gallery:generation", pk=generation.pk)
