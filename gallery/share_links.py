"""Unlisted public links to one dog (/d/<token>/): the dog alone, its breed and a preview card for chat apps.
The owner creates and revokes them; reviewers can turn any off. Whether a dog may be public by link
is gallery.publication's to say, for making a link and for every visit."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import publication
from .lookups import owned
from .media import DOG_CACHE, serve_file
from .models import Generation
from .pages import generation_page


@login_required
@require_POST
def generation_link(request, pk):
    """POST action=create makes (or keeps) the dog's link; action=revoke deletes it."""
    generation = owned(Generation, request, pk)
    action = request.POST.get("action")
    refused = None
    if action == "create":
        refused = publication.link_refusal(generation)
        if not refused:
            generation.share_links.get_or_create(disabled=False)
    elif action == "revoke":
        generation.share_links.filter(disabled=False).delete()
        messages.success(request, _("The link no longer works."))
    else:
        refused = _("Unknown link action.")
    if refused:
        return generation_page(request, generation, 400, sentence=refused)
    return redirect("gallery:generation", pk=generation.pk)


@require_GET
def dog_link(request, token):
    context = {
        "dog": publication.linked_dog(token),
        "image_url": request.build_absolute_uri(reverse("dog-link-image", args=[token])),
        "page_url": request.build_absolute_uri(),
    }
    response = render(request, "gallery/dog_link.html", context)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def dog_link_image(request, token):
    response = serve_file(publication.linked_dog(token).image, cache_control=DOG_CACHE)
    response["Cache-Control"] = "no-cache"  # a revoked link stops showing the dog at once
    return response
