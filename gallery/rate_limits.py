"""Hourly limits: over them, the visitor gets a sentence and a 429.

Each limit counts LimitedAction events, not the rows that still exist, so deleting what was made
gives nothing back. Counting and recording are two statements without a lock: requests racing
through the check at the same moment can each pass, so a limit can be exceeded by the number of
requests in flight at once (a handful), never by more.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from facetoanimals.client_address import client_address

from .models import Generation, LimitedAction

WINDOW = timedelta(hours=1)
Kind = LimitedAction.Kind


def recent(kind, *, user=None, address=None):
    """How many `kind` events the user (or, without one, the address) made in the last hour."""
    events = LimitedAction.objects.filter(kind=kind, created_at__gte=timezone.now() - WINDOW)
    return events.filter(user=user).count() if user is not None else events.filter(address=address).count()


def record(kind, *, user=None, address="", count=1):
    now = timezone.now()
    LimitedAction.objects.filter(created_at__lt=now - WINDOW).delete()
    LimitedAction.objects.bulk_create(
        LimitedAction(kind=kind, user=user, address=(address or "")[:64], created_at=now) for _ in range(count)
    )


def upload_limit_message(user):
    if recent(Kind.UPLOAD, user=user) >= settings.FTA_UPLOADS_PER_HOUR:
        return _("You have uploaded %(n)d photos in the last hour, the most we allow. Please try again later.") % {
            "n": settings.FTA_UPLOADS_PER_HOUR
        }
    return None


def record_upload(user):
    record(Kind.UPLOAD, user=user)


def params_png_limit_message(user):
    if recent(Kind.PARAMS_PNG, user=user) >= settings.FTA_PARAMS_PNG_READS_PER_HOUR:
        return _("We have read %(n)d PNGs for you in the last hour, the most we allow. Please try again later.") % {
            "n": settings.FTA_PARAMS_PNG_READS_PER_HOUR
        }
    return None


def record_params_png(user):
    record(Kind.PARAMS_PNG, user=user)


def generation_limit_message(user, wanted=1):
    active = active_dogs(user)
    if active + wanted > settings.FTA_MAX_ACTIVE_GENERATIONS:
        return _(
            "You already have %(active)d dogs waiting or in the making (at most %(max)d at once). Please wait for some to finish."
        ) % {"active": active, "max": settings.FTA_MAX_ACTIVE_GENERATIONS}
    if recent(Kind.GENERATION, user=user) + wanted > settings.FTA_GENERATIONS_PER_HOUR:
        return _("You have made %(n)d dogs in the last hour, the most we allow. Please try again later.") % {
            "n": settings.FTA_GENERATIONS_PER_HOUR
        }
    return None


def record_generations(user, count=1):
    record(Kind.GENERATION, user=user, count=count)


def signup_limit_message(request):
    if recent(Kind.SIGNUP, address=client_address(request)) >= settings.FTA_SIGNUPS_PER_HOUR:
        return _("Too many sign-ups from your network in the last hour. Please try again later.")
    return None


def record_signup(request):
    record(Kind.SIGNUP, address=client_address(request))


def password_reset_limit_message(request):
    if recent(Kind.PASSWORD_RESET, address=client_address(request)) >= settings.FTA_PASSWORD_RESETS_PER_HOUR:
        return _("Too many password reset requests from your network in the last hour. Please try again later.")
    return None


def record_password_reset(request):
    record(Kind.PASSWORD_RESET, address=client_address(request))


def wrong_password_limit_message(user):
    """For forms that ask a signed-in user for their current password (change it, delete the account)."""
    if recent(Kind.WRONG_PASSWORD, user=user) >= settings.AXES_FAILURE_LIMIT:
        return _("Too many wrong passwords in the last hour. Please try again later, or log out and reset your password.")
    return None


def record_wrong_password(user):
    record(Kind.WRONG_PASSWORD, user=user)


def active_dogs(user):
    """Dogs waiting or in the making: a group photo counts each of its faces as one dog."""
    active = Generation.objects.filter(owner=user, status__in=Generation.ACTIVE_STATUSES)
    return active.aggregate(total=Sum("faces"))["total"] or 0
