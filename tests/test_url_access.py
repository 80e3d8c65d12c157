"""Every URL of the app against every kind of visitor: anonymous, the owner, another user, staff."""

import uuid

from django.core.files.base import ContentFile
from django.test import TestCase
from django.urls import reverse

from .factories import make_generation, make_photo, make_user

LOGIN = "login"  # anonymous visitors are redirected to log in
# name, args ("photo"/"generation"/None), method, then expected status for anonymous, owner, other user, staff.
TABLE = [
    ("home", None, "get", 200, 302, 302, 302),
    ("signup", None, "get", 200, 302, 302, 302),
    ("signup-sent", None, "get", 200, 200, 200, 200),
    ("dev-outbox", None, "get", 404, 404, 404, 404),  # development without a mail server only (test_dev_outbox)
    ("login", None, "get", 200, 302, 302, 302),
    ("showcase", None, "get", 200, 200, 200, 200),
    ("account", None, "get", LOGIN, 200, 200, 200),
    ("password_change", None, "get", LOGIN, 200, 200, 200),
    ("password_reset", None, "get", 200, 200, 200, 200),
    ("account-delete", None, "get", LOGIN, 200, 200, 200),
    ("logout", None, "get", 405, 405, 405, 405),
    ("gallery:index", None, "get", LOGIN, 200, 200, 200),
    ("gallery:upload", None, "get", LOGIN, 200, 200, 200),
    ("gallery:photo", "photo", "get", LOGIN, 200, 404, 404),
    ("gallery:photo-landmarks", "photo", "get", LOGIN, 200, 404, 404),
    ("gallery:photo-image", "photo", "get", LOGIN, 200, 404, 200),
    ("gallery:photo-thumbnail", "photo", "get", LOGIN, 200, 404, 200),
    ("gallery:photo-delete", "photo", "get", LOGIN, 200, 404, 404),  # asks to confirm; POST deletes
    ("gallery:generate-lineup", "photo", "post", LOGIN, 400, 404, 404),  # the test photo's face has no suggested breed
    ("gallery:lineup", "lineup", "get", LOGIN, 200, 404, 404),
    ("gallery:lineup-status", "lineup", "get", LOGIN, 200, 404, 404),
    ("gallery:generate", "photo", "get", LOGIN, 405, 405, 405),
    ("gallery:generate-group", "photo", "post", LOGIN, 400, 404, 404),  # the test photo's face has no suggested breed
    ("gallery:generation", "generation", "get", LOGIN, 200, 404, 404),
    ("gallery:generation-status", "generation", "get", LOGIN, 200, 404, 404),
    ("gallery:generation-preview", "generation", "get", LOGIN, 404, 404, 404),  # only while running
    ("gallery:generation-result", "generation", "get", LOGIN, 200, 404, 200),
    ("gallery:generation-display", "generation", "get", LOGIN, 200, 404, 200),
    ("gallery:generation-thumbnail", "generation", "get", LOGIN, 200, 404, 200),
    ("gallery:generation-control", "generation", "get", LOGIN, 200, 404, 200),
    ("gallery:generation-face", "generation", "get", LOGIN, 200, 404, 200),
    ("gallery:generation-download", "generation", "get", LOGIN, 200, 404, 200),
    ("gallery:generation-cancel", "generation", "post", LOGIN, 302, 404, 404),
    ("gallery:generation-retry", "generation", "post", LOGIN, 302, 404, 404),
    ("gallery:generation-share", "generation", "post", LOGIN, 302, 404, 404),
    ("gallery:generation-regenerate", "generation", "post", LOGIN, 302, 404, 404),
    ("gallery:generation-delete", "generation", "get", LOGIN, 200, 404, 404),  # asks to confirm; POST deletes
    ("gallery:generation-star", "generation", "post", LOGIN, 302, 404, 404),
    ("gallery:generation-link", "generation", "post", LOGIN, 400, 404, 404),  # no action given
    ("gallery:download", None, "post", LOGIN, 400, 400, 400),  # nothing chosen
    ("gallery:params-from-png", None, "post", LOGIN, 400, 400, 400),  # no PNG sent
    ("dog-link", "link", "get", 200, 200, 200, 200),
    ("dog-link-image", "link", "get", 200, 200, 200, 200),
    ("account-export", None, "post", LOGIN, 200, 200, 200),
    ("admin:index", None, "get", LOGIN, LOGIN, LOGIN, 200),
    ("admin:gallery_generation_changelist", None, "get", LOGIN, LOGIN, LOGIN, 200),
    ("admin:gallery_generation_review", None, "get", LOGIN, LOGIN, LOGIN, 200),
    ("django_rq:home", None, "get", LOGIN, LOGIN, LOGIN, 200),
    ("healthz", None, "get", 200, 200, 200, 200),
    ("readyz", None, "get", 200, 200, 200, 200),
    ("metrics", None, "get", 403, 403, 403, 200),  # staff, or an address in FTA_METRICS_ALLOWED
]


class UrlAccessTests(TestCase):
    def setUp(self):
        self.owner = make_user("owner")
        self.photo = make_photo(self.owner)
        self.visitors = {
            "anonymous": None,
            "owner": self.owner,
            "other": make_user("other"),
            "staff": make_user("staff", is_staff=True, is_superuser=True),
        }

    def fresh_generation(self):
        generation = make_generation(self.photo, status="succeeded", step=20, lineup=uuid.uuid4())
        for field, name in (
            ("result", "dog.png"),
            ("display", "d.webp"),
            ("thumbnail", "t.webp"),
            ("control_image", "c.png"),
            ("face_crop", "f.webp"),
        ):
            getattr(generation, field).save(name, ContentFile(b"x"), save=False)
        generation.save()
        return generation

    def test_every_url_for_every_visitor(self):
        for name, arg, method, *expected in TABLE:
            for (who, user), want in zip(self.visitors.items(), expected):
                with self.subTest(url=name, visitor=who):
                    generation = self.fresh_generation()
                    link = generation.share_links.create()
                    targets = {"photo": self.photo.pk, "generation": generation.pk, "lineup": generation.lineup}
                    target = {**targets, "link": link.token, None: None}[arg]
                    url = reverse(name, args=[target] if target else [])
                    self.client.logout()
                    if user:
                        self.client.force_login(user)
                    response = getattr(self.client, method)(url)
                    if want == LOGIN:
                        self.assertEqual(response.status_code, 302)
                        self.assertIn("login", response["Location"])
                    else:
                        self.assertEqual(response.status_code, want)

    def test_the_table_covers_every_named_url_of_the_app(self):
        from django.urls import get_resolver

        app_names = {n for n in get_resolver().reverse_dict if isinstance(n, str)}
        app_names |= {f"gallery:{n}" for n in get_resolver().namespace_dict["gallery"][1].reverse_dict if isinstance(n, str)}
        # Covered elsewhere: the reset flow (test_accounts), sign-up activation (test_attacks), showcase images
        # (test_review), Django's set_language.
        skipped = {
            "signup-activate",
            "password_change_done",
            "password_reset_done",
            "password_reset_confirm",
            "password_reset_complete",
            "set_language",
            "showcase-image",
            "showcase-thumbnail",
        }
        covered = {row[0] for row in TABLE}
        self.assertEqual(app_names - covered - skipped, set())
