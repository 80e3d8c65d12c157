"""Serving private files: only through views that checked the owner, never from a public URL."""

from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils.translation import gettext as _

from .storage import STORAGE_ERRORS, storage_fault

# Only image types we wrote ourselves; anything else is served as an opaque download.
SAFE_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp", ".zip": "application/zip"}

# Faces (photos, face crops, control images drawn from the landmarks) are never kept by the browser,
# so nothing remains on a shared device after logging out or deleting. A dog may stay a minute, so a
# gallery page does not fetch every thumbnail again (docs/SECURITY.md).
NO_STORE = "no-store"
DOG_CACHE = "private, max-age=60"


def serve_file(field_file, *, download_name=None, cache_control=NO_STORE):
    """A response for a stored file: X-Accel-Redirect / X-Sendfile in production, streamed otherwise."""
    if not field_file:
        raise Http404
    suffix = PurePosixPath(field_file.name).suffix.lower()
    content_type = SAFE_TYPES.get(suffix, "application/octet-stream")
    disposition = "attachment" if download_name else "inline"
    filename = download_name or PurePosixPath(field_file.name).name

    if settings.FTA_SENDFILE:
        response = HttpResponse(content_type=content_type)
        if settings.FTA_SENDFILE == "nginx":
            response["X-Accel-Redirect"] = settings.FTA_SENDFILE_PREFIX + stored_location(field_file)
        else:
            response["X-Sendfile"] = field_file.path
        response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    else:
        try:
            handle = field_file.open("rb")
        except FileNotFoundError:
            if storage_fault():  # the bucket itself is gone (or the folder unreadable): not this file alone
                return storage_unavailable_response()
            raise Http404 from None
        except STORAGE_ERRORS:
            return storage_unavailable_response()
        response = FileResponse(handle, content_type=content_type, as_attachment=bool(download_name), filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = cache_control
    # An image opened directly runs nothing, even if it were to contain markup.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response


def stored_location(field_file):
    """What nginx fetches, under FTA_SENDFILE_PREFIX: the file's name on local disk; on S3 "s3/" and the
    path and query of a presigned URL living FTA_S3_URL_SECONDS, which nginx proxies to the bucket."""
    if settings.FTA_STORAGE == "local":
        return field_file.name
    url = urlsplit(field_file.storage.url(field_file.name))
    return f"s3{url.path}?{url.query}"


# Seconds a client should wait before asking again while storage is down.
STORAGE_RETRY_AFTER = 60


def storage_unavailable_response():
    message = _("Your pictures are out of reach for a moment. Please try again in a minute.")
    response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(STORAGE_RETRY_AFTER)
    return response
