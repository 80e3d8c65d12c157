"""The "Reviewers" group: staff who review dogs, see people's photos to do so (gallery.publication
decides which files) and watch the queue.

`is_staff` alone opens the admin's door, not people's faces.
"""

from functools import wraps

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied

REVIEWERS_GROUP = "Reviewers"
# What the group holds (created by migration 0003): seeing photos and generations, deciding reviews.
REVIEWER_PERMISSIONS = ("view_photo", "view_generation", "change_generation")
QUEUE_PERMISSION = "gallery.view_generation"  # the queue dashboard lists generation ids


def reviewers_only(view):
    """Staff with QUEUE_PERMISSION; other staff get 403, everyone else the admin log-in."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not request.user.has_perm(QUEUE_PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return staff_member_required(guarded)
