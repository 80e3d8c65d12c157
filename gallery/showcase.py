"""The public showcase: approved dogs their owners chose to share. Never a human photo."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .media import DOG_CACHE, serve_file
from .models import Generation


def showcased():
    return Generation.objects.filter(shared=True, review_state=Generation.Review.APPROVED, status=Generation.Status.SUCCEEDED)


@require_GET
def showcase(request):
    page = Paginator(
        showcased().select_related("owner").only("id", "breed", "shared", "show_username", "owner__username", "created_at"), 24
    ).get_page(request.GET.get("page"))
    return render(request, "gallery/showcase.html", {"page": page})


@require_GET
def showcase_image(request, pk, kind):
    generation = get_object_or_404(showcased(), pk=pk)
    return serve_file(generation.thumbnail if kind == "thumb" else generation.result, cache_control=DOG_CACHE)
