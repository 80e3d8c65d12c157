"""The live latent preview of a running generation, kept briefly in Redis (never in the database)."""

import io

from redis.exceptions import RedisError

from gallery.generations.queue import get_queue

PREVIEW_TTL_SECONDS = 600


def preview_key(generation_id):
    return f"fta:preview:{generation_id}"


def store_preview(generation_id, image):
    """Best effort: a preview lost to a Redis hiccup must not fail the generation."""
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=70)
    try:
        get_queue().connection.set(preview_key(generation_id), buffer.getvalue(), ex=PREVIEW_TTL_SECONDS)
    except RedisError:
        pass


def load_preview(generation_id):
    """The latest preview as WebP bytes, or None."""
    return get_queue().connection.get(preview_key(generation_id))


def has_preview(generation_id):
    """Whether a preview is stored (False when Redis cannot say: the page then simply shows none)."""
    try:
        return bool(get_queue().connection.exists(preview_key(generation_id)))
    except RedisError:
        return False


def delete_preview(generation_id):
    """Once the generation ends or is deleted (best effort: the key expires anyway)."""
    try:
        get_queue().connection.delete(preview_key(generation_id))
    except RedisError:
        pass
