"""Reuse settings from any PNG that carries A1111 parameters: read, parsed and answered; never stored."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from transform import reuse
from transform.infotext import NotAPng, read_png_parameters

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


def refusal(message, status):
    return JsonResponse({"error": message}, status=status)


@login_required
@require_POST
def params_from_png(request):
    limit = settings.FTA_PARAMS_PNG_MAX_BYTES
    upload = request.FILES.get("png")
    if getattr(request, "upload_too_large", False) or (upload and upload.size > limit):
        return refusal(_("This PNG is larger than %(size)s.") % {"size": filesizeformat(limit)}, 413)
    if upload is None:
        return refusal(_("Please choose a PNG file."), 400)
    try:
        text = read_png_parameters(upload.read())
    except NotAPng:
        return refusal(_("This file is not a PNG image."), 400)
    if not text:
        return refusal(_("This PNG carries no generation settings."), 400)
    reused = reuse.reuse_settings(text)
    ignored = [{"key": key, "reason": str(IGNORED_REASONS[code])} for key, code in reused.ignored]
    return JsonResponse({"params": reused.params, "breed": reused.breed, "ignored": ignored})
