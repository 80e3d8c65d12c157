from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gallery.models import Generation

from .factories import finished, make_generation, make_photo, make_user


class AdminAccessTests(TestCase):
    def test_non_staff_users_reach_no_admin_or_review_url(self):
        self.client.force_login(make_user())
        for name in (
            "admin:index",
            "admin:gallery_generation_changelist",
            "admin:gallery_generation_review",
            "admin:gallery_photo_changelist",
            "django_rq:home",
        ):
            with self.subTest(name):
                response = self.client.get(reverse(name))
                self.assertEqual(response.status_code, 302)
                self.assertIn("/login/", response["Location"])


class ReviewTests(TestCase):
    def setUp(self):
        self.staff = make_user("reviewer", is_staff=True, is_superuser=True)
        self.photo = make_photo(make_user("owner"))
        self.client.force_login(self.staff)
        self.url = reverse("admin:gallery_generation_changelist")

    def test_bulk_approve_changes_exactly_the_selected_rows_and_logs_them(self):
        chosen = [finished(self.photo), finished(self.photo)]
        other = finished(self.photo)
        self.client.post(self.url, {"action": "approve", "_selected_action": [g.pk for g in chosen]})
        states = dict(Generation.objects.values_list("pk", "review_state"))
        self.assertEqual([states[g.pk] for g in chosen], ["approved", "approved"])
        self.assertEqual(states[other.pk], "pending")
        self.assertEqual(LogEntry.objects.filter(change_message="Review: approved").count(), 2)
        self.assertEqual(Generation.objects.get(pk=chosen[0].pk).reviewed_by, self.staff)

    def test_bulk_reject_asks_for_one_reason_then_applies_it(self):
        chosen = [finished(self.photo), finished(self.photo)]
        other = finished(self.photo)
        ids = [g.pk for g in chosen]
        response = self.client.post(self.url, {"action": "reject", "_selected_action": ids})
        self.assertContains(response, "Reason")
        self.assertFalse(Generation.objects.filter(review_state="rejected").exists())
        self.client.post(self.url, {"action": "reject", "_selected_action": ids, "apply": "1", "reason": "Not a dog"})
        rejected = Generation.objects.filter(review_state="rejected")
        self.assertEqual(set(rejected.values_list("pk", flat=True)), set(ids))
        self.assertEqual(set(rejected.values_list("review_note", flat=True)), {"Not a dog"})
        self.assertEqual(Generation.objects.get(pk=other.pk).review_state, "pending")

    def test_changelist_query_count_is_constant_in_the_number_of_rows(self):
        finished(self.photo)
        with CaptureQueriesContext(connection) as few:
            self.client.get(self.url)
        for _ in range(15):
            finished(make_photo(make_user(f"u{_}")))
        with CaptureQueriesContext(connection) as many:
            response = self.client.get(self.url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(few), len(many))

    def test_pending_generations_come_first_newest_first(self):
        old_pending = finished(self.photo)
        approved = finished(self.photo, review_state="approved")
        new_pending = finished(self.photo)
        response = self.client.get(self.url)
        order = [row.pk for row in response.context["cl"].result_list]
        self.assertEqual(order, [new_pending.pk, old_pending.pk, approved.pk])

    def test_the_review_view_walks_through_pending_generations(self):
        first, second = finished(self.photo), finished(self.photo)
        review = reverse("admin:gallery_generation_review")
        self.assertEqual(self.client.get(review).context["generation"], first)
        self.client.post(review, {"generation": first.pk, "decision": "approved"})
        self.assertEqual(self.client.get(review).context["generation"], second)
        response = self.client.post(review, {"generation": second.pk, "decision": "skip"}, follow=True)
        self.assertIsNone(response.context["generation"])
        self.assertEqual(Generation.objects.get(pk=second.pk).review_state, "pending")
        self.client.post(review, {"generation": second.pk, "decision": "rejected", "note": "blurry"})
        self.assertEqual(Generation.objects.get(pk=second.pk).review_note, "blurry")

    def test_the_change_page_shows_parameters_and_traceback(self):
        generation = make_generation(
            self.photo, status="failed", traceback="Traceback: boom", params={"steps": 20, "sampler": "Euler a"}
        )
        response = self.client.get(reverse("admin:gallery_generation_change", args=[generation.pk]))
        self.assertContains(response, "Euler a")
        self.assertContains(response, "Traceback: boom")


class ShowcaseTests(TestCase):
    def setUp(self):
        self.owner = make_user("owner")
        self.photo = make_photo(self.owner)

    def test_only_approved_and_shared_dogs_appear_and_never_a_human_photo(self):
        shown = finished(self.photo, review_state="approved", shared=True)
        hidden = [
            finished(self.photo, review_state="pending", shared=True),
            finished(self.photo, review_state="rejected", shared=True),
            finished(self.photo, review_state="approved", shared=False),
        ]
        response = self.client.get(reverse("showcase"))
        self.assertEqual([g.pk for g in response.context["page"].object_list], [shown.pk])
        self.assertNotContains(response, "/photos/")
        self.assertNotContains(response, "face.webp")
        self.assertNotContains(response, "owner")  # no username unless opted in
        self.assertEqual(self.client.get(reverse("showcase-thumbnail", args=[shown.pk])).status_code, 200)
        for generation in hidden:
            self.assertEqual(self.client.get(reverse("showcase-thumbnail", args=[generation.pk])).status_code, 404)

    def test_unsharing_or_rejecting_removes_it_at_once(self):
        generation = finished(self.photo, review_state="approved", shared=True)
        self.client.force_login(self.owner)
        self.client.post(reverse("gallery:generation-share", args=[generation.pk]), {"shared": "0"})
        self.assertFalse(self.client.get(reverse("showcase")).context["page"].object_list)
        Generation.objects.filter(pk=generation.pk).update(shared=True, review_state="rejected")
        self.assertFalse(self.client.get(reverse("showcase")).context["page"].object_list)

    def test_the_username_shows_only_when_the_owner_opts_in(self):
        generation = finished(self.photo, review_state="approved")
        self.client.force_login(self.owner)
        self.client.post(reverse("gallery:generation-share", args=[generation.pk]), {"shared": "1", "show_username": "1"})
        self.client.logout()
        self.assertContains(self.client.get(reverse("showcase")), "owner")

    def test_the_owner_sees_the_review_state_and_note_of_a_dog_they_shared(self):
        generation = finished(self.photo, review_state="rejected", review_note="Too blurry", shared=True)
        self.client.force_login(self.owner)
        response = self.client.get(reverse("gallery:generation", args=[generation.pk]))
        self.assertContains(response, "Rejected")
        self.assertContains(response, "Too blurry")

    def test_a_dog_nobody_shared_shows_no_review_state_on_its_page_or_in_the_gallery(self):
        generation = finished(self.photo)
        self.client.force_login(self.owner)
        for url in (reverse("gallery:generation", args=[generation.pk]), reverse("gallery:index")):
            with self.subTest(url):
                response = self.client.get(url)
                self.assertNotContains(response, "Pending review")
                self.assertNotContains(response, "Review:")

    def test_a_shared_dog_waiting_for_review_says_so_in_the_gallery(self):
        finished(self.photo, shared=True)
        self.client.force_login(self.owner)
        self.assertContains(self.client.get(reverse("gallery:index")), "Pending review")
