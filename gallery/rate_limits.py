"""Per-user limits: over them, the user gets a sentence and a 429."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Generation, Photo


def made_in_last_hour(model, user):
    """How many photos or generations the user made in the last hour (the one hourly counter)."""
    return model.objects.filter(owner=user, created_at__gte=timezone.now() - timedelta(hours=1)).count()


def upload_limit_message(user):
    if made_in_last_hour(Photo, user) >= settings.FTA_UPLOADS_PER_HOUR:
        return _("You have uploaded %(n)d photos in the last hour, the most we allow. Please try again later.") % {
            "n": settings.FTA_UPLOADS_PER_HOUR
        }
    return None


def generation_limit_message(user, wanted=1):
    active = Generation.objects.filter(owner=user, status__in=Generation.ACTIVE_STATUSES).count()
    if active + wanted > settings.FTA_MAX_ACTIVE_GENERATIONS:
        return _(
            "You already have %(active)d dogs waiting or in the making (at most %(max)d at once). Please wait for some to finish."
        ) % {"active": active, "max": settings.FTA_MAX_ACTIVE_GENERATIONS}
    if made_in_last_hour(Generation, user) + wanted > settings.FTA_GENERATIONS_PER_HOUR:
        return _("You have made %(n)d dogs in the last hour, the most we allow. Please try again later.") % {
            "n": settings.FTA_GENERATIONS_PER_HOUR
        }
    return None
