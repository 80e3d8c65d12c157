"""Refuse an over-large upload before its body is parsed or stored.

Django's CSRF middleware reads request.POST before any view runs, so the limit must sit in a
global upload handler rather than in the view. The small fields before the file (the CSRF token)
are still parsed, so the refusal is a normal page, not a CSRF failure.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

# Room for the other form fields and the multipart boundaries around the file.
ENVELOPE_BYTES = 64 * 1024


class SizeLimitUploadHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.declared_too_large = bool(content_length and content_length > settings.FTA_UPLOAD_MAX_BYTES + ENVELOPE_BYTES)

    def new_file(self, *args, **kwargs):
        self.received = 0
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        # Chunked requests carry no Content-Length: count as the bytes arrive too.
        self.received += len(raw_data)
        if self.declared_too_large or self.received > settings.FTA_UPLOAD_MAX_BYTES:
            self.request.upload_too_large = True
            # Read and discard the rest, so the browser gets our page rather than a reset connection.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None
