"""Group photos, "make everyone a dog": the POST of the photo page's group form."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from gallery.generations import readiness, service
from gallery.generations.service import Refusal
from transform.params import GenerationParams

from .forms import GroupForm
from .lookups import owned
from .models import Photo
from .pages import after_queueing, photo_page, photo_refused


@login_required
@require_POST
def generate_group(request: HttpRequest, pk: str) -> HttpResponse:
    """One generation turning every chosen face of the photo into a dog, in the photo's own scene."""
    photo = owned(Photo, request, pk)
    workers = readiness.fleet()
    form = GroupForm(photo, request.POST)
    try:
        service.ensure_ready(workers)  # before the form: no dog could be made, whatever it says
        if not form.is_valid():
            return photo_page(request, photo, workers, group_form=form, status=400)
        # At the size the workers' pipeline draws best (512 px for SD 1.5, 256 for the tiny test pipeline), as
        # a lineup is: the group form has no size of its own.
        params = GenerationParams.from_dict(workers.defaults)
        queued = service.make_group(request.user, photo, form.choices, params, skipped=form.skipped, workers=workers)
    except Refusal as refusal:
        return photo_refused(request, photo, workers, refusal, group_form=form)
    return after_queueing(request, queued)
