from django.test import TestCase, override_settings
from django.urls import reverse

from gallery.models import Generation

from .factories import make_generation, make_photo, make_user


class StatusEndpointTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.generation = make_generation(make_photo(self.user), status="running", step=5, steps=20)
        self.client.force_login(self.user)
        self.url = reverse("gallery:generation-status", args=[self.generation.pk])

    def test_status_json_matches_the_contract(self):
        response = self.client.get(self.url)
        self.assertEqual(
            response.json(),
            {"status": "running", "progress": 0.25, "step": 5, "steps": 20, "breed": "pug", "error": None},
        )

    def test_status_is_one_query_beyond_the_session(self):
        self.client.get(self.url)
        with self.assertNumQueries(3):  # session, user, generation
            self.client.get(self.url)

    def test_a_finished_generation_reports_full_progress(self):
        Generation.objects.filter(pk=self.generation.pk).update(status="succeeded", step=20)
        self.assertEqual(self.client.get(self.url).json()["progress"], 1.0)

    def test_another_user_gets_404_like_a_missing_one(self):
        self.client.force_login(make_user("joon"))
        self.assertEqual(self.client.get(self.url).status_code, 404)

    def test_anonymous_is_sent_to_log_in(self):
        self.client.logout()
        self.assertRedirects(self.client.get(self.url), reverse("login") + "?next=" + self.url)


class CancelAndRetryTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = make_photo(self.user)
        self.client.force_login(self.user)

    def test_cancelling_a_queued_generation_stops_it_at_once(self):
        generation = make_generation(self.photo)
        self.client.post(reverse("gallery:generation-cancel", args=[generation.pk]))
        generation.refresh_from_db()
        self.assertEqual(generation.status, "cancelled")

    def test_cancelling_a_running_generation_asks_the_worker_to_stop(self):
        generation = make_generation(self.photo, status="running")
        self.client.post(reverse("gallery:generation-cancel", args=[generation.pk]))
        generation.refresh_from_db()
        self.assertEqual((generation.status, generation.cancel_requested), ("running", True))

    def test_a_failed_generation_can_be_retried_with_the_same_seed(self):
        generation = make_generation(self.photo, status="failed", error="boom", step=3)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("gallery:generation-retry", args=[generation.pk]))
        self.assertRedirects(response, reverse("gallery:generation", args=[generation.pk]))
        generation.refresh_from_db()
        self.assertEqual((generation.status, generation.error, generation.step, generation.seed), ("queued", "", 0, 1))
        self.assertTrue(generation.job_id.startswith(str(generation.pk)))

    def test_a_succeeded_generation_is_not_retried(self):
        generation = make_generation(self.photo, status="succeeded", step=20)
        self.client.post(reverse("gallery:generation-retry", args=[generation.pk]))
        generation.refresh_from_db()
        self.assertEqual(generation.status, "succeeded")

    def test_the_failure_message_is_shown_with_a_retry_button(self):
        generation = make_generation(self.photo, status="failed", error="Something went wrong while making this dog. Please retry.")
        response = self.client.get(reverse("gallery:generation", args=[generation.pk]))
        self.assertContains(response, "Something went wrong while making this dog.")
        self.assertContains(response, reverse("gallery:generation-retry", args=[generation.pk]))


class GenerateLimitTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = make_photo(self.user)
        self.client.force_login(self.user)
        self.url = reverse("gallery:generate", args=[self.photo.pk])

    @override_settings(FTA_MAX_ACTIVE_GENERATIONS=2)
    def test_too_many_active_generations_answer_429_and_queue_nothing(self):
        make_generation(self.photo)
        make_generation(self.photo, status="running")
        response = self.client.post(self.url, {"face": 0, "breed": "pug"})
        self.assertContains(response, "at most 2 at once", status_code=429)
        self.assertEqual(Generation.objects.count(), 2)

    @override_settings(FTA_GENERATIONS_PER_HOUR=4)
    def test_make_4_counts_against_the_hourly_limit(self):
        make_generation(self.photo, status="succeeded")
        response = self.client.post(self.url, {"face": 0, "breed": "pug", "count": 4})
        self.assertEqual(response.status_code, 429)
        self.assertEqual(Generation.objects.count(), 1)

    def test_make_4_queues_four_consecutive_seeds(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(self.url, {"face": 0, "breed": "pug", "count": 4, "seed": 41, "steps": 12})
        seeds = sorted(Generation.objects.values_list("seed", flat=True))
        self.assertEqual(seeds, [41, 42, 43, 44])
        self.assertEqual(set(Generation.objects.values_list("steps", flat=True)), {12})

    def test_invalid_parameters_show_the_form_again_with_reasons(self):
        response = self.client.post(self.url, {"face": 0, "breed": "pug", "steps": 500, "cfg_scale": 0})
        self.assertContains(response, "Must be between 1 and 100.", status_code=400)
        self.assertFalse(Generation.objects.exists())

    def test_unknown_breed_and_face_are_refused(self):
        response = self.client.post(self.url, {"face": 3, "breed": "cat"})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(Generation.objects.exists())
