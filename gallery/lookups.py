"""Finding a user's objects by id: theirs, or a 404 exactly like a missing one."""

import uuid
from typing import TypeVar

from django.db.models import Model
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from . import publication

M = TypeVar("M", bound=Model)


def owned(model: type[M], request: HttpRequest, pk: object) -> M:
    """The user's own object; anyone else's answers 404 exactly like a missing one."""
    return get_object_or_404(publication.own(request.user, model), pk=pk)


def with_files_for(model: type[M], request: HttpRequest, pk: object) -> M:
    """An object whose files the user may fetch (gallery.publication): their own, or anyone's for a reviewer."""
    return get_object_or_404(publication.files_for(request.user, model), pk=pk)


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
