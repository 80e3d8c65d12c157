"""Hourly limits and the active-dog limit: over them, the visitor gets a sentence and a 429.

Each hourly limit counts LimitedAction events, not the rows that still exist, so deleting what was
made gives nothing back. A view counts, acts and records inside `holding()`, so requests arriving at
the same moment take their turns instead of all counting before any of them recorded.
"""

import hashlib
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from .client_address import client_address
from .models import Generation, LimitedAction

WINDOW = timedelta(hours=1)
Kind = LimitedAction.Kind


@contextmanager
def holding(*, user=None, request=None):
    """A transaction holding the lock of one user's limits (or, given a request, its client address's).

    Check the limit, do what it allows and record it inside: a second request of the same user
    waits at the lock until the first has committed, and then counts what the first recorded.
    Without it, 8 group requests of 8 faces sent at once each counted 0 dogs and 3 got through,
    24 dogs against a limit of 8.

    PostgreSQL: the user's row FOR UPDATE (an address has no row: a transaction-level advisory lock
    on it), so only that user's requests wait. SQLite has no row locks; its transactions begin
    IMMEDIATE (settings.DATABASES), taking the database's write lock at BEGIN, so every writer takes
    its turn there. Keep the block short: database work only, no mail and no password hashing.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            if user is not None:
                list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))
            else:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [address_lock_key(client_address(request))])
        yield


def address_lock_key(address):
    """A signed 64-bit number naming one address's limits (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.blake2b(f"facetoanimals-limits:{address}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def recent(kind, *, user=None, address=None):
    """How many `kind` events the user (or, without one, the address) made in the last hour."""
    events = LimitedAction.objects.filter(kind=kind, created_at__gte=timezone.now() - WINDOW)
    return events.filter(user=user).count() if user is not None else events.filter(address=address).count()


def record(kind, *, user=None, address="", count=1):
    """Record `count` events now (and prune those older than the window); returns the new rows."""
    now = timezone.now()
    LimitedAction.objects.filter(created_at__lt=now - WINDOW).delete()
    return LimitedAction.objects.bulk_create(
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


def take_password_attempt(user):
    """Before a form checks a signed-in user's current password (change it, delete the account):
    (sentence, None) over the limit, else (None, attempt).

    The attempt is recorded as a wrong password at once, inside the lock: checking a password takes a
    while (hashing), and attempts sent together must not all pass the count meanwhile. The view gives
    it back with `attempt.delete()` when the password was right.
    """
    with holding(user=user):
        if recent(Kind.WRONG_PASSWORD, user=user) >= settings.AXES_FAILURE_LIMIT:
            return _(
                "Too many wrong passwords in the last hour. Please try again later, or log out and reset your password."
            ), None
        return None, record(Kind.WRONG_PASSWORD, user=user)[0]


def active_dogs(user):
    """Dogs waiting or in the making: a group photo counts each of its faces as one dog."""
    active = Generation.objects.filter(owner=user, status__in=Generation.ACTIVE_STATUSES)
    return active.aggregate(total=Sum("faces"))["total"] or 0
