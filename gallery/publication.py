"""What may leave the app, and to whom: the one place that decides (docs/SECURITY.md, "Round 3").

Views ask this module for the rows and files they may hand out; none of them decides on its own.

| audience | may have |
| --- | --- |
| the owner | everything of their own: photos, face crops, control images, dogs, group results, the ZIP download, the data export |
| a reviewer | every owner's files of a model whose view permission they hold (the Reviewers group), to review them; turning links off |
| anyone holding a link | one single dog's PNG and its breed, while link_refusal() has nothing against it |
| the showcase | single dogs their owners shared and a reviewer approved |

A group result is the owner's photo with some faces made into dogs: everyone else in it (a face
left out or too small to make, a name tag) is a real person as they were. So it is never public,
whatever its rows say: no link, no showcase, no Open Graph image.

Moderation reaches links. A dog a reviewer rejected, or whose link they turned off, is not public by
link. Neither is any other dog of the same photo until a reviewer approves that dog: what a reviewer
turns down (a photo of someone who did not agree, a hurtful prompt, a dog too close to a face) comes
from the photo and its settings, which "Again with a new seed", "Another breed or settings" and a
retry all reuse.
"""

import dataclasses

from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from .models import Generation, ShareLink

Review = Generation.Review


def is_reviewer(user, model):
    """Staff holding `model`'s view permission (the Reviewers group) see every owner's `model` files.

    `is_staff` alone opens the admin's door, not people's faces."""
    return user.is_staff and user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")


def may_turn_off_links(user):
    """Reviewers (who hold the permission to decide reviews) see every share link and turn any off."""
    return user.is_staff and user.has_perm("gallery.change_generation")


def own(user, model):
    """The user's own rows of `model`: theirs to see, download and export, and nobody else's."""
    return model.objects.filter(owner=user)


def files_for(user, model):
    """The rows whose files (photos, face crops, control images, dogs, group results) `user` may fetch."""
    return model.objects.all() if is_reviewer(user, model) else own(user, model)


# Links: one rule for making a link and for answering one.


def link_refusal(generation):
    """Why this dog may not be public by link, as a sentence for its owner; None when it may."""
    if generation.status != Generation.Status.SUCCEEDED:
        return _("Only a finished dog can have a link.")
    if generation.is_group:
        return _("A group photo shows real people, so it never gets a public link.")
    if generation.review_state == Review.REJECTED:
        return _("Our team did not approve this dog, so it cannot have a link.")
    if generation.share_links.filter(disabled=True).exists():
        return _("Our team has turned off links for this dog.")
    if generation.review_state != Review.APPROVED and photo_under_moderation(generation.photo_id):
        return _("Our team turned down another dog of this photo: this one can have a link once our team has approved it.")
    return None


def photo_under_moderation(photo_id):
    """Whether a reviewer rejected a dog of this photo, or turned off one of its links."""
    turned_down = Q(review_state=Review.REJECTED) | Q(share_links__disabled=True)
    return Generation.objects.filter(turned_down, photo_id=photo_id).exists()


@dataclasses.dataclass(frozen=True)
class PublicDog:
    """All that a visitor holding a link learns: the dog's picture, its breed and its size."""

    breed_name: str
    width: int | None
    height: int | None
    image: FieldFile


def linked_dog(token):
    """The dog behind a link, for anyone; 404 for an unknown, revoked or disabled link, and for any
    dog that link_refusal() refuses now (links made before a rejection, or on a group result)."""
    link = get_object_or_404(ShareLink.objects.select_related("generation"), token=token, disabled=False)
    generation = link.generation
    if link_refusal(generation):
        raise Http404
    return PublicDog(generation.breed_name, generation.params.get("width"), generation.params.get("height"), generation.result)


# The showcase.


def showcased():
    """Dogs on the public showcase: finished single dogs, shared by their owners and approved by a reviewer."""
    return Generation.objects.filter(
        shared=True, review_state=Review.APPROVED, status=Generation.Status.SUCCEEDED, group_faces=[]
    )


def on_showcase(generation):
    return showcased().filter(pk=generation.pk).exists()


def showcase_refusal(generation):
    """Why the owner may not offer this dog to the showcase; None when they may (reviewers still decide)."""
    if generation.is_group:
        return _("A group photo shows real people, so it is never shown on the showcase.")
    return None


def showcase_file(pk, kind):
    generation = get_object_or_404(showcased(), pk=pk)
    return generation.thumbnail if kind == "thumb" else generation.result
