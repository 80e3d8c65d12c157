"""Sign up, the account page and deleting an account (login, logout and passwords are Django's views)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .deletion import delete_user
from .export import export_user_data
from .forms import DeleteAccountForm, SignupForm
from .models import Generation, Photo
from .rate_limits import made_in_last_hour


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("gallery:index")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome, %(name)s! Upload a photo to meet your dog.") % {"name": user.username})
        return redirect("gallery:index")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def account(request):
    return render(request, "accounts/account.html", {"usage": usage(request.user)})


def usage(user):
    return [
        (
            _("Dogs waiting or in the making"),
            Generation.objects.filter(owner=user, status__in=Generation.ACTIVE_STATUSES).count(),
            settings.FTA_MAX_ACTIVE_GENERATIONS,
        ),
        (_("Dogs made in the last hour"), made_in_last_hour(Generation, user), settings.FTA_GENERATIONS_PER_HOUR),
        (
            _("Photos uploaded in the last hour"),
            made_in_last_hour(Photo, user),
            settings.FTA_UPLOADS_PER_HOUR,
        ),
    ]


@login_required
@require_POST
def export(request):
    return export_user_data(request.user)


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        delete_user(user)
        messages.success(request, _("Your account, photos and dogs have been deleted."))
        return redirect("home")
    return render(request, "accounts/delete.html", {"form": form}, status=400 if form.errors else 200)
