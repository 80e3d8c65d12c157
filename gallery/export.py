""" "Download all my data": a ZIP of the user's photos, dogs and every generation's parameters."""

import json
import tempfile
import zipfile

from django.http import FileResponse

from . import publication
from .media import storage_unavailable_response
from .models import Generation, Photo
from .storage import STORAGE_ERRORS


def export_user_data(user):
    """A FileResponse streaming the ZIP from a temporary file (nothing kept on disk afterwards);
    503 with a sentence when storage cannot be read, rather than a ZIP missing pictures."""
    try:
        archive = build_archive(user)
    except STORAGE_ERRORS:
        return storage_unavailable_response()
    response = FileResponse(
        archive, as_attachment=True, filename=f"facetoanimals-{user.username}.zip", content_type="application/zip"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def build_archive(user):
    archive = tempfile.TemporaryFile()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:  # images are compressed already
        photos = []
        for photo in publication.own(user, Photo).order_by("created_at"):
            name = f"photos/{photo.pk}.jpg"
            write_file(zf, name, photo.image)
            photos.append(
                {
                    "id": str(photo.pk),
                    "file": name,
                    "original_name": photo.original_name,
                    "uploaded": photo.created_at.isoformat(),
                    "landmarks": photo.landmarks,
                }
            )
        dogs = []
        for generation in publication.own(user, Generation).order_by("created_at"):
            name = f"dogs/{generation.pk}.png" if generation.result else None
            if name:
                write_file(zf, name, generation.result)
            dogs.append(
                {
                    "id": str(generation.pk),
                    "file": name,
                    "photo": str(generation.photo_id),
                    "face": generation.face_index,
                    "breed": generation.breed,
                    "coat": generation.coat,
                    "status": generation.status,
                    "seed": generation.seed,
                    "parameters": generation.params,
                    "infotext": generation.infotext,
                    "created": generation.created_at.isoformat(),
                    "review_state": generation.review_state,
                    "shared": generation.shared,
                    "starred": generation.starred,
                }
            )
        account = {"username": user.username, "email": user.email, "joined": user.date_joined.isoformat()}
        zf.writestr("data.json", json.dumps({"account": account, "photos": photos, "dogs": dogs}, indent=2, ensure_ascii=False))
    archive.seek(0)
    return archive


def write_file(zf, name, field_file):
    try:
        with field_file.open("rb") as handle:
            zf.writestr(name, handle.read())
    except FileNotFoundError:
        pass
