"""Sign up, the account page and deleting an account; Django's password views with hourly limits."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import rate_limits
from .deletion import delete_user
from .export import export_user_data
from .forms import DeleteAccountForm, SignupForm


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
            send_signup_mail(request, form)
            return redirect("signup-sent")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)


def send_signup_mail(request, form):
    """A new, inactive account and a link to activate it; or, when the email is taken, a warning to its owner."""
    user = form.save(commit=False)  # hashes the password in both cases, so both answers take as long
    existing = User.objects.filter(email__iexact=user.email).order_by("pk").first()
    if existing is not None and existing.is_active:
        template, user = "registration/signup_taken_email.txt", existing
    else:
        template = "registration/signup_activate_email.txt"
        if existing is None:
            user.is_active = False
            user.save()
        else:
            user = existing  # signed up before and never activated: the same link again
    context = {
        "user": user,
        "link": request.build_absolute_uri(activation_path(user)),
        "login": request.build_absolute_uri(reverse("login")),
        "reset": request.build_absolute_uri(reverse("password_reset")),
    }
    send_mail(_("Your Facetoanimals sign-up"), render_to_string(template, context, request), None, [user.email])


def activation_path(user):
    """The one-time link that activates `user` and logs them in (valid until they log in)."""
    token = default_token_generator.make_token(user)
    return reverse("signup-activate", args=[urlsafe_base64_encode(force_bytes(user.pk)), token])


@require_GET
def signup_sent(request):
    return render(request, "registration/signup_sent.html")


@require_GET
def signup_activate(request, uidb64, token):
    """The link from the sign-up mail: activates the account and logs in, once."""
    try:
        user = User.objects.get(pk=int(urlsafe_base64_decode(uidb64)))
    except (ValueError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        context = {"sentence": _("This sign-up link is not valid any more; log in, or sign up again.")}
        return render(request, "registration/link_invalid.html", context, status=400)
    user.is_active = True
    user.save(update_fields=["is_active"])
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("Welcome, %(name)s! Upload a photo to meet your dog.") % {"name": user.username})
    return redirect("gallery:index")


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
