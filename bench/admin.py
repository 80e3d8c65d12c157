"""The staff changelist of generations with 10,000 rows: time and queries per page.

Run from the repository root: python -m bench.admin [--rows 10000]
"""

import argparse
import statistics
import time

# The bench set-up (environment, django.setup(), migrations) must run before any app import.
from bench import setup  # noqa: F401

# isort: split
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402

from gallery.models import Generation  # noqa: E402
from tests.factories import make_uploaded_photo, make_user  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    photo = make_uploaded_photo("owner")
    breeds = ["pug", "beagle", "poodle", "jindo", "husky"]
    Generation.objects.bulk_create(
        Generation(
            owner=photo.owner,
            photo=photo,
            breed=breeds[i % 5],
            status="succeeded",
            steps=20,
            step=20,
            review_state=["pending", "approved", "rejected"][i % 3],
            thumbnail=f"u/x/dogs/{i}.webp",
            face_crop=f"u/x/faces/{i}.webp",
        )
        for i in range(args.rows)
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(make_user("staff", is_staff=True, is_superuser=True))
    pages = {
        "changelist (pending first)": reverse("admin:gallery_generation_changelist"),
        "filtered: pending, pug": reverse("admin:gallery_generation_changelist") + "?review_state__exact=pending&breed=pug",
        "search by username": reverse("admin:gallery_generation_changelist") + "?q=owner",
        "review view": reverse("admin:gallery_generation_review"),
    }
    print(f"\nAdmin with {Generation.objects.count()} generations (SQLite, 50 rows a page)")
    print(f"{'page':<30}{'median ms':>12}{'max ms':>10}{'queries':>9}")
    for name, url in pages.items():
        times = []
        for _ in range(6):
            with override_settings(DEBUG=True):
                reset_queries()
                start = time.perf_counter()
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code, response.get("Location"))
                times.append((time.perf_counter() - start) * 1000)
                queries = len(connection.queries)
        times = times[1:]  # the first request compiles templates
        print(f"{name:<30}{statistics.median(times):>12.1f}{max(times):>10.1f}{queries:>9}")


if __name__ == "__main__":
    main()
