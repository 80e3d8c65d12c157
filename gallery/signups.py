"""Sign-ups that wait for their mail to be opened (docs/SECURITY.md, "Who has an account").

No account exists before the mail is opened: a sign-up is a PendingSignup with the name and hashed
password chosen in it. Its link opens it only together with that password, so the account belongs to
whoever holds both the mailbox and the password: the person who signed up. Someone who signs up with
another person's address gets nowhere: the owner cannot open that sign-up without its password, and
the owner's own sign-up, with their own name and password, is another row and another link.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import User
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from .models import PendingSignup

SALT = "gallery.signups.activation"


class ActivationRefused(Exception):
    """Why a sign-up was not opened: "wrong_password"; "cancelled" (too many wrong ones); "gone" (another
    sign-up for the address was opened first); "address_taken" or "name_taken" (an account has it by now).
    Every refusal but a wrong password deletes the sign-up."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def lifetime():
    return timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)


def start(username, email, password_hash):
    """A new sign-up (and the deletion of every sign-up left waiting past its link's life)."""
    PendingSignup.objects.filter(created_at__lt=timezone.now() - lifetime()).delete()
    return PendingSignup.objects.create(username=username, email=email, password=password_hash)


def activation_path(pending):
    """The link's path: the sign-up's random id, signed, so a link can be neither guessed nor forged."""
    return reverse("signup-activate", args=[signing.Signer(salt=SALT).sign(pending.pk.hex)])


def waiting(token):
    """The sign-up a link names, if the link is genuine and the sign-up still waits within its link's life."""
    try:
        pk = signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None
    return PendingSignup.objects.filter(pk=pk, created_at__gte=timezone.now() - lifetime()).first()


def activate(pending, password):
    """The new, active account; ActivationRefused if the password is not this sign-up's or the name or
    address has an account by now. The first sign-up opened for an address deletes the others."""
    if not check_password(password, pending.password):
        _count_wrong_password(pending)
    with transaction.atomic():
        # Locked, so that two sign-ups for one address opened at once cannot both make an account.
        rivals = list(PendingSignup.objects.select_for_update().filter(email__iexact=pending.email))
        refusal, user = _refusal(pending, rivals), None
        if refusal is None:
            try:
                with transaction.atomic():
                    user = User.objects.create(username=pending.username, email=pending.email, password=pending.password)
            except IntegrityError:  # the same name, made a moment ago
                refusal = "name_taken"
        ending = {None: rivals, "address_taken": rivals, "name_taken": [pending], "gone": []}[refusal]
        PendingSignup.objects.filter(pk__in=[signup.pk for signup in ending]).delete()
    if refusal:
        raise ActivationRefused(refusal)
    return user


def _count_wrong_password(pending):
    PendingSignup.objects.filter(pk=pending.pk).update(wrong_passwords=F("wrong_passwords") + 1)
    if pending.wrong_passwords + 1 >= settings.AXES_FAILURE_LIMIT:
        pending.delete()
        raise ActivationRefused("cancelled")
    raise ActivationRefused("wrong_password")


def _refusal(pending, rivals):
    if pending.pk not in {signup.pk for signup in rivals}:
        return "gone"
    if User.objects.filter(email__iexact=pending.email).exists():
        return "address_taken"
    if User.objects.filter(username__iexact=pending.username).exists():
        return "name_taken"
    return None
