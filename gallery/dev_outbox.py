"""The development outbox: on a machine with no mail server, the mail a browser caused, shown to that browser.

`./bin/run` with no FTA_EMAIL_HOST prints mail to the console, among honcho's output, where a newcomer
never looks. In development (FTA_ENV=development, and mail going nowhere but the console) the mail
backend also hands each mail to the browser whose request sent it: the "Check your email" page links
to /dev/outbox/, which lists them. Never in production: there the page answers 404 and nothing is kept.

Who may see which mail, even here: a mail is shown only to the browser whose request sent it, and only
when every recipient is an address that browser itself signed up with (or the user signed in on it). A
password-reset or "someone used your address" mail for another person's address goes to the console
alone, so the outbox never hands anyone a link to an account that is not theirs. The mails live in a
signed cookie of that browser, nowhere on the server, and go with it.
"""

import contextvars

from django.conf import settings
from django.core import signing
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .models import PendingSignup

BACKEND = "gallery.dev_outbox.OutboxBackend"
COOKIE = "fta_dev_outbox"
SALT = "facetoanimals.dev-outbox"
KEPT_MAILS = 5  # a cookie holds about 4 KB: the newest few are plenty to sign up and reset a password
LONGEST_BODY = 2000
COOKIE_SECONDS = 24 * 3600

# The outbox of the browser whose request is running now (None outside a request, or when it is off).
_current = contextvars.ContextVar("dev_outbox", default=None)


def enabled():
    return settings.FTA_ENV == "development" and settings.EMAIL_BACKEND == BACKEND


class OutboxBackend(ConsoleBackend):
    """The console backend, which also puts each mail in the outbox of the browser that caused it."""

    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        outbox = _current.get()
        if outbox is not None:
            for message in email_messages:
                outbox.keep(message)
        return sent


class Outbox:
    """One browser's outbox: the accounts it signed up, and the mails to them (newest first)."""

    def __init__(self, data, request):
        self.accounts = [address for address in data.get("accounts", []) if isinstance(address, str)]
        self.mails = [mail for mail in data.get("mails", []) if isinstance(mail, dict) and _is_mail(mail)]
        self.request = request
        self.changed = False

    def adopt(self, email):
        """An account this browser has just signed up: mail to its address is this browser's to see."""
        if email and email.lower() not in self.accounts:
            self.accounts.append(email.lower())
            self.changed = True

    def keep(self, message):
        """Keep a mail sent during this browser's request, if every recipient is this browser's own account."""
        user = getattr(self.request, "user", None)
        own = set(self.accounts) | ({user.email.lower()} if user is not None and user.is_authenticated and user.email else set())
        recipients = [address.lower() for address in message.recipients()]
        if not recipients or not set(recipients) <= own:
            return
        mail = {"to": ", ".join(recipients), "subject": str(message.subject), "body": str(message.body)[:LONGEST_BODY]}
        self.mails = [mail, *self.mails][:KEPT_MAILS]
        self.changed = True

    def cookie_value(self):
        return signing.dumps({"accounts": self.accounts[-KEPT_MAILS:], "mails": self.mails}, salt=SALT, compress=True)


def _is_mail(mail):
    return all(isinstance(mail.get(key), str) for key in ("to", "subject", "body"))


def read_outbox(request):
    """The browser's outbox from its signed cookie; an empty one for a missing, stale or tampered cookie."""
    try:
        data = signing.loads(request.COOKIES.get(COOKIE, ""), salt=SALT, max_age=COOKIE_SECONDS)
    except signing.BadSignature:
        data = {}
    return Outbox(data if isinstance(data, dict) else {}, request)


class DevOutboxMiddleware:
    """Gives each request its browser's outbox, and writes the outbox back when a mail was kept."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not enabled():
            return self.get_response(request)
        outbox = read_outbox(request)
        token = _current.set(outbox)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        if outbox.changed:
            response.set_cookie(
                COOKIE, outbox.cookie_value(), max_age=COOKIE_SECONDS, httponly=True, samesite="Lax", secure=request.is_secure()
            )
        return response


@receiver(post_save, sender=PendingSignup)
def adopt_new_sign_up(sender, instance, created, **kwargs):
    """A sign-up made in this browser's request: its activation mail is this browser's to see."""
    outbox = _current.get()
    if created and outbox is not None:
        outbox.adopt(instance.email)


@never_cache
@require_GET
def outbox(request):
    """This browser's mail, newest first (development only)."""
    if not enabled():
        raise Http404
    return render(request, "registration/dev_outbox.html", {"mails": read_outbox(request).mails})


def context(request):
    """Templates say where the mail went ("Check your email" links to the outbox) when the outbox is on."""
    return {"dev_outbox": enabled()}
