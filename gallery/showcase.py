"""The public showcase: approved single dogs their owners chose to share (gallery.publication). Never a person."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .media import DOG_CACHE, serve_file
from .publication import showcase_file, showcased


@require_GET
def showcase(request):
    page = Paginator(
        showcased().select_related("owner").only("id", "breed", "shared", "show_username", "owner__username", "created_at"), 24
    ).get_page(request.GET.get("page"))
    return render(request, "gallery/showcase.html", {"page": page})


@require_GET
def showcase_image(request, pk, kind):
    return serve_file(showcase_file(pk, kind), cache_control=DOG_CACHE)
