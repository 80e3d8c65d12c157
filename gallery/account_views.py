"""Sign up, the account page and deleting an account; Django's password views with hourly limits."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import rate_limits, signups
from .deletion import delete_user
from .export import export_user_data
from .forms import ActivationForm, DeleteAccountForm, SignupForm


def too_many(request, sentence):
    return render(request, "registration/too_many.html", {"sentence": sentence}, status=429)


@require_http_methods(["GET", "POST"])
def signup(request):
    """The same answer whether or not the email has an account: "check your mail"; the mail says which."""
    if request.user.is_authenticated:
        return redirect("gallery:index")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        with rate_limits.holding(request=request):
            refusal = rate_limits.signup_limit_message(request)
            accepted = not refusal and form.is_valid()
            if accepted:
                rate_limits.record_signup(request)
        if refusal:
            return too_many(request, refusal)
        if accepted:
            send_signup_mail(request, form.cleaned_data)
            return redirect("signup-sent")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)


def send_signup_mail(request, data):
    """A sign-up and the link that opens it; or, when the address has an account, a warning to its owner.

    The password is hashed first in both cases, so both answers take as long."""
    password_hash = make_password(data["password1"])
    existing = User.objects.filter(email__iexact=data["email"]).order_by("pk").first()
    if existing is not None:
        to, template = existing.email, "registration/signup_taken_email.txt"
        context = {"name": existing.username}
    else:
        pending = signups.start(data["username"], data["email"], password_hash)
        to, template = pending.email, "registration/signup_activate_email.txt"
        context = {"name": pending.username, "link": request.build_absolute_uri(signups.activation_path(pending))}
    context |= {
        "login": request.build_absolute_uri(reverse("login")),
        "reset": request.build_absolute_uri(reverse("password_reset")),
    }
    send_mail(_("Your Facetoanimals sign-up"), render_to_string(template, context, request), None, [to])


@require_GET
def signup_sent(request):
    return render(request, "registration/signup_sent.html")


ACTIVATION_REFUSALS = {
    "cancelled": gettext_lazy("Too many wrong passwords: this sign-up is cancelled. Please sign up again."),
    "gone": gettext_lazy("This sign-up link is not valid any more; log in, or sign up again."),
    "address_taken": gettext_lazy("This address has an account already: log in, or reset your password."),
    "name_taken": gettext_lazy("The name “%(name)s” was taken while this sign-up waited. Please sign up again with another."),
}


@require_http_methods(["GET", "POST"])
def signup_activate(request, token):
    """The link from the sign-up mail: with the password chosen in that sign-up, it makes the account and logs in.

    Following the link alone changes nothing (mail scanners follow links), and opens nothing: whoever has the
    mailbox but not the password (the owner of an address someone else signed up with) cannot get in."""
    pending = signups.waiting(token)
    if pending is None:
        return link_invalid(request, ACTIVATION_REFUSALS["gone"])
    form = ActivationForm(request.POST or None)
    if form.is_valid():
        try:
            user = signups.activate(pending, form.cleaned_data["password"])
        except signups.ActivationRefused as refusal:
            if refusal.code != "wrong_password":
                return link_invalid(request, str(ACTIVATION_REFUSALS[refusal.code]) % {"name": pending.username})
            wrong = _("That is not the password chosen when signing up as %(name)s.") % {"name": pending.username}
            form.add_error("password", wrong)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome, %(name)s! Upload a photo to meet your dog.") % {"name": user.username})
            return redirect("gallery:index")
    context = {"form": form, "name": pending.username}
    return render(request, "registration/signup_activate.html", context, status=400 if form.errors else 200)


def link_invalid(request, sentence):
    return render(request, "registration/link_invalid.html", {"sentence": sentence}, status=400)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with at most FTA_PASSWORD_RESETS_PER_HOUR requests (mails) per address."""

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        with rate_limits.holding(request=request):
            refusal = rate_limits.password_reset_limit_message(request)
            if not refusal and form.is_valid():
                rate_limits.record_password_reset(request)
        if refusal:
            return too_many(request, refusal)
        return self.form_valid(form) if form.is_valid() else self.form_invalid(form)  # the mail goes outside the lock


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's, refusing once the current password was wrong FTA_LOGIN_FAILURE_LIMIT times in an hour."""

    def post(self, request, *args, **kwargs):
        refusal, self.attempt = rate_limits.take_password_attempt(request.user)
        if refusal:
            return too_many(request, refusal)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        self.attempt.delete()  # the current password was right
        return super().form_valid(form)

    def form_invalid(self, form):
        if not form.has_error("old_password", "password_incorrect"):
            self.attempt.delete()
        return super().form_invalid(form)


@login_required
def account(request):
    return render(request, "accounts/account.html", {"usage": usage(request.user)})


def usage(user):
    Kind = rate_limits.Kind
    return [
        (_("Dogs waiting or in the making"), rate_limits.active_dogs(user), settings.FTA_MAX_ACTIVE_GENERATIONS),
        (_("Dogs made in the last hour"), rate_limits.recent(Kind.GENERATION, user=user), settings.FTA_GENERATIONS_PER_HOUR),
        (_("Photos uploaded in the last hour"), rate_limits.recent(Kind.UPLOAD, user=user), settings.FTA_UPLOADS_PER_HOUR),
    ]


@login_required
@require_POST
def export(request):
    return export_user_data(request.user)


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST":
        refusal, attempt = rate_limits.take_password_attempt(request.user)
        if refusal:
            return too_many(request, refusal)
        if form.is_valid():
            user = request.user
            logout(request)
            delete_user(user)  # the attempt goes with the account
            messages.success(request, _("Your account, photos and dogs have been deleted."))
            return redirect("home")
        if not form.has_error("password", "password_incorrect"):
            attempt.delete()
    return render(request, "accounts/delete.html", {"form": form}, status=400 if form.errors else 200)
