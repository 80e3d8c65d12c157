"""Page weight: the bytes a browser transfers for each page on a first visit, for a user with one
photo and one finished dog, in English and Korean.

HTML is measured as the app sends it (gzipped by TextGZipMiddleware); the stylesheet, scripts and
icon as WhiteNoise serves them (its precompressed .gz, gzip level 9); images as stored. The dog is a
stand-in with a photo's detail (the face crop of the astronaut sample at 512x512), since the tiny
test pipeline paints noise, which no PNG compresses; it is stored exactly as the worker stores a
result: PNG for download, a DISPLAY_SIDE WebP for the page, a 320 px WebP thumbnail.

Run from the repository root: python -m bench.pages
"""

import gzip
from html.parser import HTMLParser

# The bench set-up (environment, django.setup(), migrations) must run before any app import.
from bench import setup  # noqa: F401

# isort: split
from django.contrib.staticfiles import finders  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from PIL import Image  # noqa: E402

from gallery.models import Generation  # noqa: E402
from tests.factories import make_uploaded_photo  # noqa: E402
from transform import head_crop  # noqa: E402
from transform.control import control_image  # noqa: E402
from transform.encoding import DISPLAY_SIDE, make_thumbnail  # noqa: E402
from transform.infotext import png_bytes  # noqa: E402
from transform.params import GenerationParams  # noqa: E402


class Resources(HTMLParser):
    """The URLs a browser fetches for a page: stylesheets, scripts, icons and eager images."""

    def __init__(self):
        super().__init__()
        self.static, self.images = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and attrs.get("rel") in ("stylesheet", "icon"):
            self.static.append(attrs["href"])
        elif tag == "script" and attrs.get("src"):
            self.static.append(attrs["src"])
        elif tag == "img" and attrs.get("src") and attrs.get("loading") != "lazy":
            self.images.append(attrs["src"])


def static_bytes(url):
    """What WhiteNoise sends for a static file: its gzipped form where that is smaller."""
    data = open(finders.find(url.removeprefix("/static/")), "rb").read()
    return min(len(data), len(gzip.compress(data, 9)))


def body_bytes(response):
    return len(b"".join(response.streaming_content) if response.streaming else response.content)


def make_dog(photo):
    """A finished generation whose files are stored the way jobs.save_result stores them."""
    params = GenerationParams(seed=1)
    image = Image.open(photo.image.open("rb")).convert("RGB")
    face = photo.faces[0]
    box = head_crop.face_crop_box(face, image.size)
    dog = head_crop.crop(image, box, (params.width, params.height))  # a stand-in with a photo's detail
    generation = Generation.objects.create(
        owner=photo.owner, photo=photo, breed="pug", params=params.to_dict(), status="succeeded", steps=20, step=20
    )
    files = {
        "result": ("dog.png", png_bytes(dog)),
        "display": ("dog.webp", make_thumbnail(dog, max_side=DISPLAY_SIDE)),
        "thumbnail": ("dog.webp", make_thumbnail(dog)),
        "control_image": ("control.png", png_bytes(control_image(face, image.size, box, dog.size))),
        "face_crop": ("face.webp", make_thumbnail(dog)),
    }
    for field, (name, data) in files.items():
        getattr(generation, field).save(name, ContentFile(data), save=False)
    generation.save()
    return generation


def weigh(client, url, language, status=200):
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == status, (url, response.status_code)
    html = response.content
    text = gzip.decompress(html) if response.get("Content-Encoding") == "gzip" else html
    found = Resources()
    found.feed(text.decode())
    images = sum(body_bytes(client.get(src)) for src in found.images)
    return {
        "html": len(text),
        "html_gz": len(html),
        "static": sum(static_bytes(src) for src in set(found.static)),
        "images": images,
    }


def main():
    photo = make_uploaded_photo("owner")
    generation = make_dog(photo)
    anonymous, client = Client(HTTP_HOST="localhost"), Client(HTTP_HOST="localhost")
    client.force_login(photo.owner)
    pages = [
        ("landing", anonymous, reverse("home"), 200),
        ("log in", anonymous, reverse("login"), 200),
        ("showcase", anonymous, reverse("showcase"), 200),
        ("404", anonymous, "/no-such-page/", 404),
        ("gallery", client, reverse("gallery:index"), 200),
        ("upload", client, reverse("gallery:upload"), 200),
        ("photo", client, reverse("gallery:photo", args=[photo.pk]), 200),
        ("result", client, reverse("gallery:generation", args=[generation.pk]), 200),
        ("account", client, reverse("account"), 200),
    ]
    png, webp = generation.result.size, generation.display.size
    print(f"\nPage weight, first visit, bytes (dog PNG {png:,} B, its display WebP {webp:,} B)")
    print(f"{'page':<10}{'lang':>5}{'HTML':>9}{'HTML gz':>9}{'CSS/JS/icon gz':>16}{'images':>10}{'total':>10}")
    for name, who, url, status in pages:
        for language in ("en", "ko"):
            w = weigh(who, url, language, status)
            total = w["html_gz"] + w["static"] + w["images"]
            print(f"{name:<10}{language:>5}{w['html']:>9,}{w['html_gz']:>9,}{w['static']:>16,}{w['images']:>10,}{total:>10,}")


if __name__ == "__main__":
    main()
