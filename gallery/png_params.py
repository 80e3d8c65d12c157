"""Reuse settings from any PNG that carries A1111 parameters: read, parsed and answered; never stored."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gallery.generations import readiness
from transform import reuse
from transform.infotext import MAX_TEXT_BYTES, NotAPng, TextTooLong, TooManyChunks, read_png_parameters

from . import rate_limits
from .forms import GenerateForm, file_size
from .lookups import is_uuid, owned
from .models import Photo
from .pages import photo_page

IGNORED_REASONS = {
    reuse.HIRES: gettext_lazy("Hires fix is not offered here."),
    reuse.LORA: gettext_lazy("LoRA models are not offered here."),
    reuse.EMBEDDING: gettext_lazy("Textual inversion embeddings are not offered here."),
    reuse.MODEL: gettext_lazy("Dogs are always drawn with our own model."),
    reuse.SAMPLER: gettext_lazy("This sampler is not offered here."),
    reuse.EXTRA_UNIT: gettext_lazy("Only one ControlNet unit, the face one, is used here."),
    reuse.MODULE: gettext_lazy("Only the MediaPipe face ControlNet is used here."),
    reuse.INVALID: gettext_lazy("The value is outside what the form allows."),
    reuse.UNSUPPORTED: gettext_lazy("Not a setting here."),
}


@login_required
@require_POST
def params_from_png(request):
    """JSON for the generate form's script; with a `photo` field (the form without JavaScript), that
    photo's page with the generate form filled in."""
    photo, photo_id = None, request.POST.get("photo")
    if photo_id and "application/json" not in request.headers.get("Accept", ""):
        if not is_uuid(photo_id):
            raise Http404
        photo = owned(Photo, request, photo_id)
    try:
        reused = read_upload(request)
    except Refused as refusal:
        if photo is None:
            return JsonResponse({"error": refusal.message}, status=refusal.status)
        workers = readiness.fleet()
        form = GenerateForm(photo, defaults=workers.defaults)
        return photo_page(request, photo, workers, form=form, status=refusal.status, sentence=refusal.message)
    ignored = [{"key": key, "reason": str(IGNORED_REASONS[code])} for key, code in reused.ignored]
    if photo is None:
        return JsonResponse({"params": reused.params, "breed": reused.breed, "ignored": ignored})
    messages.success(request, _("The form is filled with the settings from this PNG."))
    for item in ignored:
        messages.info(request, _("Left out: %(key)s. %(reason)s") % item)
    initial = {**reused.params, **({"breed": reused.breed} if reused.breed else {})}
    workers = readiness.fleet()
    return photo_page(request, photo, workers, form=GenerateForm(photo, initial=initial, defaults=workers.defaults))


class Refused(Exception):
    def __init__(self, message, status=400):
        super().__init__(message)
        self.message, self.status = message, status


def read_upload(request):
    """ReusedSettings for the request's `png`; Refused with one sentence and a status otherwise.

    Every attempt within the hourly limit counts, refused or not: reading a hostile file costs too."""
    with rate_limits.holding(user=request.user):
        too_many = rate_limits.params_png_limit_message(request.user)
        if not too_many:
            rate_limits.record_params_png(request.user)
    if too_many:
        raise Refused(too_many, 429)
    limit = settings.FTA_PARAMS_PNG_MAX_BYTES
    upload = request.FILES.get("png")
    if getattr(request, "upload_too_large", False) or (upload and upload.size > limit):
        raise Refused(_("This PNG is larger than %(size)s.") % {"size": file_size(limit)}, 413)
    if upload is None:
        raise Refused(_("Please choose a PNG file."))
    try:
        text = read_png_parameters(upload.read())
    except TextTooLong:
        size = file_size(MAX_TEXT_BYTES)
        raise Refused(_("This PNG's settings are longer than %(size)s, so they were not read.") % {"size": size}) from None
    except TooManyChunks:
        raise Refused(_("This PNG is made of too many chunks to read.")) from None
    except NotAPng:
        raise Refused(_("This file is not a PNG image.")) from None
    if not text:
        raise Refused(_("This PNG carries no generation settings."))
    return reuse.reuse_settings(text)
