"""Refuse an over-large upload before its body is parsed or stored.

Django's CSRF middleware reads request.POST before any view runs, so the limit must sit in a
global upload handler rather than in the view.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

# Room for the other form fields and the multipart boundaries around the file.
ENVELOPE_BYTES = 64 * 1024


class SizeLimitUploadHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > settings.FTA_UPLOAD_MAX_BYTES + ENVELOPE_BYTES:
            self._refuse()

    def new_file(self, *args, **kwargs):
        self.received = 0
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        # Chunked requests carry no Content-Length: count as the bytes arrive.
        self.received += len(raw_data)
        if self.received > settings.FTA_UPLOAD_MAX_BYTES:
            self._refuse()
        return raw_data

    def file_complete(self, file_size):
        return None

    def _refuse(self):
        self.request.upload_too_large = True
        # Consume and discard the rest so the browser gets our page, not a reset connection.
        raise StopUpload(connection_reset=False)
