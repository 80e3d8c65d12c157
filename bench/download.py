"""Peak memory of the ZIP download for many dogs: streamed (gallery.bulk_download) against the whole
archive built in memory first, as a naive view would.

Run from the repository root: python -m bench.download [--dogs 500]
"""

import argparse
import io
import time
import zipfile

# The bench set-up (environment, django.setup(), migrations) must run before any app import.
from bench import setup  # noqa: F401

# isort: split
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from PIL import Image  # noqa: E402

from gallery.models import Generation  # noqa: E402
from tests.factories import make_generation, make_photo, make_user  # noqa: E402
from transform.infotext import png_bytes  # noqa: E402

INFOTEXT = "dog, close up, (face portrait:1.1), front face, pug\nNegative prompt: human\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1"


def dog_png():
    """A 512 x 512 PNG about as large as a real result (noise does not compress, like SD's fine detail)."""
    pixels = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    return png_bytes(Image.fromarray(pixels), INFOTEXT)


def peak_rss_reset():
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # resets VmHWM, the peak resident size, to the current size


def rss_kib(field):
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith(field + ":"))


def measure(label, run):
    peak_rss_reset()
    before = rss_kib("VmRSS")
    tracemalloc.start()
    start = time.perf_counter()
    size = run()
    seconds = time.perf_counter() - start
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = rss_kib("VmHWM") - before
    print(f"| {label} | {size / 2**20:.0f} MiB | {rss_peak / 1024:.1f} MiB | {heap_peak / 2**20:.1f} MiB | {seconds:.1f} s |")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dogs", type=int, default=500)
    args = parser.parse_args()
    user = make_user("owner")
    photo = make_photo(user)
    png = dog_png()
    ids = []
    for i in range(args.dogs):
        generation = make_generation(photo, status="succeeded", step=20, seed=i)
        generation.result.save("dog.png", ContentFile(png))
        ids.append(str(generation.pk))
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    url = reverse("gallery:download")
    client.post(url, {"ids": ids[:2]})  # warm-up: templates, URL resolver, first queries

    def streamed():
        response = client.post(url, {"ids": ids})
        total = 0
        with open("/dev/null", "wb") as sink:
            for chunk in response.streaming_content:
                total += len(chunk)
                sink.write(chunk)
        return total

    def in_memory():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for generation in Generation.objects.filter(pk__in=ids):
                with generation.result.open("rb") as handle:
                    archive.writestr(f"{generation.pk}.png", handle.read())
        return len(buffer.getvalue())

    print(f"\nZIP download of {args.dogs} dogs of {len(png) / 1024:.0f} KiB each")
    print("| method | zip | peak RSS growth | peak Python heap | time |")
    print("| --- | --- | --- | --- | --- |")
    measure("streamed (the view)", streamed)
    measure("built in memory (for comparison)", in_memory)


if __name__ == "__main__":
    main()
