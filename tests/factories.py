"""Small builders for rows the tests need, with real (tiny) files behind them."""

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from gallery.models import Generation, Photo


def make_user(username="mina", **extra):
    return User.objects.create_user(username, f"{username}@example.com", "dog-portrait-42", **extra)


def fake_face(box=(100, 100, 300, 300)):
    """A face entry of the landmark JSON with plausible, not real, landmarks."""
    x0, y0, x1, y1 = box
    landmarks = [[(x0 + (x1 - x0) * (i % 22) / 21) / 512, (y0 + (y1 - y0) * (i // 22) / 21) / 512, 0.0] for i in range(478)]
    return {"box": list(box), "landmarks": landmarks, "pose": {"yaw": 0.0, "pitch": 0.0, "roll": 0.0}}


def make_photo(owner, faces=1):
    photo = Photo(
        owner=owner,
        width=512,
        height=512,
        original_name="me.jpg",
        landmarks={"version": 1, "image_size": [512, 512], "faces": [fake_face() for _ in range(faces)]},
        face_count=faces,
    )
    photo.image.save("photo.jpg", ContentFile(b"not really a jpeg"), save=False)
    photo.thumbnail.save("thumb.webp", ContentFile(b"not really a webp"), save=False)
    photo.save()
    return photo


def make_uploaded_photo(username="mina"):
    """A user with the astronaut portrait uploaded: cleaned and analysed exactly like a web upload."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from transform.photo_analysis import analyze_photo
    from transform.uploads import clean_upload

    from .sample_images import portrait_jpeg

    upload = SimpleUploadedFile("me.jpg", portrait_jpeg())
    cleaned = clean_upload(upload, upload.name, max_bytes=10**8, max_pixels=10**8, min_side=64)
    return Photo.create_from_upload(make_user(username), cleaned, analyze_photo(cleaned.image))


def make_generation(photo, **fields):
    fields = {"breed": "pug", "steps": 20, "params": {"steps": 20, "seed": 1}, "seed": 1, **fields}
    return Generation.objects.create(owner=photo.owner, photo=photo, **fields)


def stored_names():
    """Every file in the media storage (folder or bucket), read through the storage API."""

    def walk(folder):
        try:
            folders, files = default_storage.listdir(folder)
        except FileNotFoundError:
            return
        for name in files:
            yield f"{folder}{name}"
        for name in folders:
            yield from walk(f"{folder}{name}/")

    return sorted(walk(""))


def signed_in_session_key(user):
    """The key of a database session of `user`, as if they had logged in (for real HTTP clients)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
    )
    session.create()
    return session.session_key


def finished(photo, **fields):
    generation = make_generation(photo, status="succeeded", step=20, **fields)
    for field, name in (("result", "dog.png"), ("thumbnail", "dog.webp"), ("face_crop", "face.webp")):
        getattr(generation, field).save(name, ContentFile(b"image bytes"), save=False)
    generation.save()
    return generation


def make_group_photo(owner, faces):
    """A photo of `faces` people in rows of four (each face 100 px, large enough to make), each with a suggested breed."""
    photo = make_photo(owner, faces=0)
    boxes = [(10 + 125 * (i % 4), 10 + 125 * (i // 4), 110 + 125 * (i % 4), 110 + 125 * (i // 4)) for i in range(faces)]
    suggestion = [{"slug": "beagle", "score": 0.9, "reasons": []}]
    photo.landmarks = {**photo.landmarks, "faces": [{**fake_face(box), "suggested_breeds": suggestion} for box in boxes]}
    photo.face_count = faces
    photo.save()
    return photo


def finished_group(photo, **fields):
    """A finished group result of every face of the photo: the whole photo, its faces made dogs."""
    group_faces = [{"index": i, "breed": "beagle", "coat": ""} for i in range(photo.face_count)]
    return finished(photo, group_faces=group_faces, faces=len(group_faces), **fields)
