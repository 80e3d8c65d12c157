"""Many dogs as one ZIP, streamed as it is written: each PNG as stored (its `parameters` chunk intact)
and a parameters.csv, never more than one chunk of one PNG in memory.

The answer starts only once storage has given the first bytes: storage down or hung (a bounded wait,
settings.S3_READ_TIMEOUT per try) answers 503 with a sentence. If it fails later, mid-stream, the
connection breaks off, and the browser reports an incomplete download rather than a ZIP missing dogs.
"""

import csv
import io
import itertools
import uuid
import zipfile

from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import publication
from .media import storage_unavailable_response
from .models import Generation
from .storage import STORAGE_ERRORS, storage_fault

CHUNK_BYTES = 256 * 1024
CSV_COLUMNS = ("file", "breed", "seed", "sampler", "steps", "cfg_scale", "controlnet_weight", "created")


class ChunkSink(io.RawIOBase):
    """The write end of the stream: zipfile writes into it, the response takes what has piled up."""

    def __init__(self):
        self.chunks = []

    def writable(self):
        return True

    def write(self, data):
        self.chunks.append(bytes(data))
        return len(data)

    def drain(self):
        """What has piled up, as one chunk; nothing at all when nothing has (an empty chunk ends some streams)."""
        if self.chunks:
            data, self.chunks = b"".join(self.chunks), []
            yield data


def zip_name(generation):
    return f"facetoanimals-{generation.breed}-{generation.seed}-{generation.pk.hex[:8]}.png"


def csv_row(name, generation):
    params = generation.params
    return (
        name,
        generation.breed,
        generation.seed,
        params.get("sampler", ""),
        params.get("steps", ""),
        params.get("cfg_scale", ""),
        params.get("controlnet_scale", ""),
        generation.created_at.isoformat(),
    )


def stream_dogs_zip(generations):
    """Yield the ZIP's bytes; a dog whose file has gone missing is left out of the PNGs and the CSV.
    Storage failing raises (a missing bucket too)."""
    sink = ChunkSink()
    rows = []
    # A non-seekable sink makes zipfile write each size after its data, so nothing is ever rewound.
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as archive:  # PNGs are compressed already
        for generation in generations:
            try:
                source = generation.result.open("rb")
            except FileNotFoundError:
                if storage_fault():  # the bucket is gone, not this dog's file alone
                    raise
                continue
            name = zip_name(generation)
            with source, archive.open(name, "w") as target:
                while chunk := source.read(CHUNK_BYTES):
                    target.write(chunk)
                    yield from sink.drain()
            rows.append(csv_row(name, generation))
        table = io.StringIO()
        csv.writer(table).writerows([CSV_COLUMNS, *rows])
        archive.writestr("parameters.csv", table.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
    yield from sink.drain()


def chosen_generations(request):
    """The owner's finished dogs the request names (`ids` repeated, or `starred=1`).

    404 when any id is not one of the user's own dogs, exactly as if none of them existed.
    """
    mine = publication.own(request.user, Generation)
    if request.POST.get("starred") == "1":
        chosen = list(mine.filter(starred=True))
    else:
        try:
            wanted = {uuid.UUID(pk) for pk in request.POST.getlist("ids")}
        except ValueError:
            raise Http404 from None
        chosen = list(mine.filter(pk__in=wanted))
        if len(chosen) != len(wanted):
            raise Http404
    return sorted((g for g in chosen if g.status == Generation.Status.SUCCEEDED and g.result), key=lambda g: g.created_at)


@login_required
@require_POST
def download(request):
    generations = chosen_generations(request)
    if not generations:
        message = _("Choose at least one finished dog to download.")
        return render(request, "gallery/download_refused.html", {"message": message}, status=400)
    stream = stream_dogs_zip(generations)
    try:
        first = next(stream)
    except STORAGE_ERRORS:
        return storage_unavailable_response()
    response = StreamingHttpResponse(itertools.chain([first], stream), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="facetoanimals-dogs.zip"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
