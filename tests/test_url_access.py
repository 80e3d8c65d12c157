"""Every URL of the app against every kind of visitor: anonymous, the owner, another user, staff;
and every URL that publishes (links, the showcase) against what is behind it (gallery.publication)."""

import uuid

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.test import TestCase
from django.urls import reverse

from gallery.models import Generation, ShareLink

from .factories import finished, finished_group, make_generation, make_group_photo, make_photo, make_user

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
    ("gallery:generation-retry", "generation", "post", LOGIN, 400, 404, 404),  # a finished dog is not retried
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


class VisitorMatrix(TestCase):
    """Asks one URL as one visitor, and checks the answer a row of a table expects."""

    def visit(self, user, method, url, data=None):
        self.client.logout()
        if user:
            self.client.force_login(user)
        return getattr(self.client, method)(url, data)

    def assert_answer(self, response, want):
        if want == LOGIN:
            self.assertEqual(response.status_code, 302)
            self.assertIn("login", response["Location"])
        else:
            self.assertEqual(response.status_code, want)


class UrlAccessTests(VisitorMatrix):
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
                    self.assert_answer(self.visit(user, method, url), want)

    def test_the_table_covers_every_named_url_of_the_app(self):
        from django.urls import get_resolver

        app_names = {n for n in get_resolver().reverse_dict if isinstance(n, str)}
        app_names |= {f"gallery:{n}" for n in get_resolver().namespace_dict["gallery"][1].reverse_dict if isinstance(n, str)}
        # Covered elsewhere: the reset flow (test_accounts), sign-up activation (test_signup_takeover), Django's set_language.
        skipped = {
            "signup-activate",
            "password_change_done",
            "password_reset_done",
            "password_reset_confirm",
            "password_reset_complete",
            "set_language",
        }
        covered = {row[0] for row in TABLE} | {name for name, _method, _data in PUBLIC_TABLE}
        self.assertEqual(app_names - covered - skipped, set())


# What is behind a public URL: each a finished dog with a link, as it may sit in a database.
OBJECTS = {
    "dog": "a single dog, not reviewed yet",
    "showcased": "a single dog, shared and approved",
    "group": "a group result, shared and approved, its link made before round 3",
    "rejected": "a single dog, shared, rejected in review",
    "sibling": "a single dog, not reviewed yet, of a photo with a rejected dog",
    "disabled": "a single dog whose link a reviewer turned off",
    "revoked": "a single dog whose owner deleted its link",
}
LISTED, ABSENT = "listed", "absent"  # whether the showcase page shows the object


def same_for_all(dog, showcased, group, rejected, sibling, disabled, revoked):
    """A row whose answer does not depend on who asks (anonymous, owner, other user, reviewer)."""
    answers = dict(zip(OBJECTS, (dog, showcased, group, rejected, sibling, disabled, revoked)))
    return {name: (answer,) * 4 for name, answer in answers.items()}


def for_each(anonymous, owner, other, reviewer):
    """A row whose answer depends on who asks, not on the object."""
    return dict.fromkeys(OBJECTS, (anonymous, owner, other, reviewer))


def owner_gets(dog, showcased, group, rejected, sibling, disabled, revoked):
    """An owner's action: anonymous visitors log in, other users and reviewers get 404."""
    answers = dict(zip(OBJECTS, (dog, showcased, group, rejected, sibling, disabled, revoked)))
    return {name: (LOGIN, answer, 404, 404) for name, answer in answers.items()}


# (URL name, method, POST data): {object: (anonymous, owner, other user, reviewer)}.
PUBLIC_TABLE = {
    ("dog-link", "get", None): same_for_all(200, 200, 404, 404, 404, 404, 404),
    ("dog-link-image", "get", None): same_for_all(200, 200, 404, 404, 404, 404, 404),
    ("showcase", "get", None): same_for_all(ABSENT, LISTED, ABSENT, ABSENT, ABSENT, ABSENT, ABSENT),
    ("showcase-image", "get", None): same_for_all(404, 200, 404, 404, 404, 404, 404),
    ("showcase-thumbnail", "get", None): same_for_all(404, 200, 404, 404, 404, 404, 404),
    ("gallery:generation-link", "post", "create"): owner_gets(302, 302, 400, 400, 400, 400, 302),
    ("gallery:generation-share", "post", "share"): owner_gets(302, 302, 400, 302, 302, 302, 302),
    # The owner and reviewers see every file, whatever the review said.
    ("gallery:generation-result", "get", None): for_each(LOGIN, 200, 404, 200),
    ("gallery:generation-face", "get", None): for_each(LOGIN, 200, 404, 200),
    ("admin:gallery_sharelink_change", "get", None): {
        **for_each(LOGIN, LOGIN, LOGIN, 200),
        "revoked": (LOGIN, LOGIN, LOGIN, 302),  # the admin's "no longer exists" redirect
    },
}
POST_DATA = {"create": {"action": "create"}, "share": {"shared": "1"}}


class PublicUrlAccessTests(VisitorMatrix):
    """The matrix of what may leave the app: every public URL × every object × every visitor."""

    def setUp(self):
        self.owner = make_user("owner")
        reviewer = make_user("reviewer", is_staff=True)
        reviewer.groups.add(Group.objects.get(name="Reviewers"))
        self.visitors = {"anonymous": None, "owner": self.owner, "other": make_user("other"), "reviewer": reviewer}

    def make(self, kind):
        """The object's dog and its link (a deleted one for "revoked")."""
        Review = Generation.Review
        photo = make_photo(self.owner)
        if kind == "group":
            dog = finished_group(make_group_photo(self.owner, 2), shared=True, review_state=Review.APPROVED)
        elif kind == "sibling":
            finished(photo, review_state=Review.REJECTED)
            dog = finished(photo)
        else:
            fields = {
                "showcased": {"shared": True, "review_state": Review.APPROVED},
                "rejected": {"shared": True, "review_state": Review.REJECTED},
            }
            dog = finished(photo, **fields.get(kind, {}))
        link = ShareLink.objects.create(generation=dog, disabled=kind == "disabled")
        if kind == "revoked":
            ShareLink.objects.filter(pk=link.pk).delete()
        return dog, link

    def test_every_public_url_for_every_object_and_visitor(self):
        for (name, method, data), rows in PUBLIC_TABLE.items():
            for kind, expected in rows.items():
                for (who, user), want in zip(self.visitors.items(), expected):
                    with self.subTest(url=name, object=kind, visitor=who):
                        dog, link = self.make(kind)
                        if name == "showcase":
                            url = reverse(name)
                        elif name.startswith("dog-link"):
                            url = reverse(name, args=[link.token])
                        else:
                            url = reverse(name, args=[link.pk if name.startswith("admin:") else dog.pk])
                        response = self.visit(user, method, url, POST_DATA.get(data))
                        if want in (LISTED, ABSENT):
                            listed = dog in response.context["page"].object_list
                            self.assertEqual(LISTED if listed else ABSENT, want)
                        else:
                            self.assert_answer(response, want)

    def test_every_public_url_has_a_row_for_every_object(self):
        for key, rows in PUBLIC_TABLE.items():
            self.assertEqual(set(rows), set(OBJECTS), key)

    def test_every_url_that_serves_a_dog_to_anyone_is_in_the_public_table(self):
        from django.urls import get_resolver

        public = {n for n in get_resolver().reverse_dict if isinstance(n, str) and n.startswith(("dog-link", "showcase"))}
        self.assertEqual(public - {name for name, _method, _data in PUBLIC_TABLE}, set())
