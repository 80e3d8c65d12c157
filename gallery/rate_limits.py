"""Per-user limits (CONTRACT.md): over them, the user gets a sentence and a 429."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Generation, Photo


def upload_limit_message(user):
    since = timezone.now() - timedelta(hours=1)
    if Photo.objects.filter(owner=user, created_at__gte=since).count() >= settings.FTA_UPLOADS_PER_HOUR:
        return _("You have uploaded %(n)d photos in the last hour, the most we allow. Please try again later.") % {
            "n": settings.FTA_UPLOADS_PER_HOUR
        }
    return None


def generation_limit_message(user, wanted=1):
    # A group photo counts each of its faces as one dog.
    active = dogs(Generation.objects.filter(owner=user, status__in=Generation.ACTIVE_STATUSES))
    if active + wanted > settings.FTA_MAX_ACTIVE_GENERATIONS:
        return _(
            "You already have %(active)d dogs waiting or in the making (at most %(max)d at once). Please wait for some to finish."
        ) % {"active": active, "max": settings.FTA_MAX_ACTIVE_GENERATIONS}
    since = timezone.now() - timedelta(hours=1)
    recent = dogs(Generation.objects.filter(owner=user, created_at__gte=since))
    if recent + wanted > settings.FTA_GENERATIONS_PER_HOUR:
        return _("You have made %(n)d dogs in the last hour, the most we allow. Please try again later.") % {
            "n": settings.FTA_GENERATIONS_PER_HOUR
        }
    return None


def dogs(generations):
    return generations.aggregate(total=Sum("faces"))["total"] or 0
