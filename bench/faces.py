"""Face analysis (alone, and with the breed suggestion's extra views) and upload cleaning times. Run from the repository root: python -m bench.faces"""

import io
import os
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from tests import sample_images as samples  # noqa: E402
from transform.faces import analyze_faces  # noqa: E402
from transform.photo_analysis import analyze_photo  # noqa: E402
from transform.uploads import UploadRejected, clean_upload  # noqa: E402

LIMITS = {"max_bytes": 20 * 2**20, "max_pixels": 50_000_000, "min_side": 64}


def timings_ms(work, runs):
    work()  # the first call loads models and warms caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[-1]


def clean(data):
    return clean_upload(io.BytesIO(data), **LIMITS)


def refuse(data):
    try:
        clean(data)
    except UploadRejected:
        return
    raise AssertionError("accepted a file that must be refused")


def main():
    portrait_jpeg = samples.portrait_jpeg()
    photo_12mp = samples.photo_with_face((4000, 3000), 1000, (2400, 1200))
    jpeg_12mp = samples.encode(photo_12mp, "JPEG", quality=90)
    portrait, photo_12mp = clean(portrait_jpeg).image, clean(jpeg_12mp).image
    faces_found = len(analyze_faces(photo_12mp)["faces"])
    assert faces_found == 1, f"the 12 MP photo should show 1 face, found {faces_found}"
    group = samples.group_photo()
    faces_found = len(analyze_faces(group)["faces"])
    assert faces_found == len(samples.group_members()), f"the group photo shows 5 faces, found {faces_found}"
    huge_png = samples.huge_png()
    cases = [
        ("analyze_faces, 512x512 portrait", lambda: analyze_faces(portrait), 50),
        ("analyze_faces, 4000x3000 photo", lambda: analyze_faces(photo_12mp), 20),
        ("analyze_photo (faces + breed views), 512x512 portrait", lambda: analyze_photo(portrait), 50),
        ("analyze_photo (faces + breed views), 4000x3000 photo", lambda: analyze_photo(photo_12mp), 20),
        ("analyze_faces, 1600x800 group of 5", lambda: analyze_faces(group), 5),
        ("clean_upload, 512x512 JPEG", lambda: clean(portrait_jpeg), 50),
        ("clean_upload, 4000x3000 JPEG", lambda: clean(jpeg_12mp), 20),
        ("clean_upload refusing a 12000x12000 PNG", lambda: refuse(huge_png), 50),
    ]
    print("| case | runs | median ms | p95 ms |\n| --- | --- | --- | --- |")
    for name, work, runs in cases:
        median, p95 = timings_ms(work, runs)
        print(f"| {name} | {runs} | {median:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
