"""The live latent preview of a running generation, kept briefly in Redis (never in the database)."""

import io

from facetoanimals.queue import get_queue

PREVIEW_TTL_SECONDS = 600

def preview_key(generation_id):
    return f"fta:preview:{generation_id}"

def store_preview(generation_id, image):
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=70)
    get_queue().connection.set(preview_key(generation_id), buffer.getvalue(), ex=PREVIEW_TTL_SECONDS)

def load_preview(generation_id):
    """The latest preview as WebP bytes, or None."""
    return get_queue().connection.get(preview_key(generation_id))

