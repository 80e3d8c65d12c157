import io
from datetime import timedelta

from django.test import TestCase, TransactionTestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from gallery.generations.preview_store import delete_preview, store_preview
from gallery.models import Generation, LimitedAction
from gallery.rate_limits import record_generations

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
            {
                "status": "running",
                "progress": 0.25,
                "step": 5,
                "steps": 20,
                "breed": "pug",
                "error": None,
                "label": "Running",
                "step_text": "Step 5 of 20",
                "queue_text": "",
                "face": 0,
                "faces": 1,
                "preview": False,
            },
        )

    def test_it_says_a_preview_exists_only_once_the_worker_stored_one(self):
        from PIL import Image

        from gallery.generations.preview_store import delete_preview, store_preview

        self.assertIs(self.client.get(self.url).json()["preview"], False)
        store_preview(self.generation.pk, Image.new("RGB", (8, 8)))
        try:
            self.assertIs(self.client.get(self.url).json()["preview"], True)
        finally:
            delete_preview(self.generation.pk)

    def test_a_queued_dog_reports_its_place_in_the_queue_in_words(self):
        Generation.objects.filter(pk=self.generation.pk).update(status="queued", enqueued_at=timezone.now())
        status = self.client.get(self.url).json()
        self.assertEqual((status["label"], status["queue_text"]), ("Queued", "Waiting in the queue: number 1."))
        # The live line says the same while it waits, not "Step 0 of 20".
        self.assertEqual(status["step_text"], "Waiting in the queue: number 1.")

    def queue_behind(self, count, status="queued"):
        """`count` generations of someone else enqueued before this one, which is then queued."""
        earlier = timezone.now() - timedelta(minutes=10)
        if not hasattr(self, "strangers_photo"):
            self.strangers_photo = make_photo(make_user("sam"))
        photo = self.strangers_photo
        Generation.objects.bulk_create(
            Generation(owner=photo.owner, photo=photo, breed="pug", status=status, enqueued_at=earlier + timedelta(seconds=i))
            for i in range(count)
        )
        Generation.objects.filter(pk=self.generation.pk).update(status="queued", enqueued_at=timezone.now())

    def test_only_dogs_still_waiting_ahead_count_for_the_place(self):
        self.queue_behind(2)
        self.queue_behind(3, status="running")  # taken from further back by a batch
        self.queue_behind(4, status="cancelled")
        later = make_generation(make_photo(self.user), status="queued", enqueued_at=timezone.now() + timedelta(seconds=1))
        self.assertEqual(self.client.get(self.url).json()["queue_text"], "Waiting in the queue: number 3.")
        self.assertEqual(
            self.client.get(f"/generations/{later.pk}/status.json").json()["queue_text"], "Waiting in the queue: number 4."
        )

    def test_the_place_is_counted_up_to_a_hundred_dogs_ahead(self):
        self.queue_behind(100)
        self.assertEqual(self.client.get(self.url).json()["queue_text"], "Waiting in the queue: number 101.")

    def test_further_back_the_place_says_more_than_a_hundred_dogs_ahead(self):
        self.queue_behind(101)
        self.assertEqual(self.client.get(self.url).json()["queue_text"], "Waiting in the queue: more than 100 dogs ahead.")

    def test_a_queued_dog_deleted_while_its_page_renders_has_no_place(self):
        Generation.objects.filter(pk=self.generation.pk).update(status="queued", enqueued_at=timezone.now())
        self.generation.refresh_from_db()
        Generation.objects.filter(pk=self.generation.pk).delete()
        self.assertIsNone(self.generation.places_ahead())

    def test_status_is_one_query_beyond_the_session_running_or_queued(self):
        self.client.get(self.url)
        with self.assertNumQueries(3):  # session, user, generation
            self.client.get(self.url)
        self.queue_behind(150)
        for queued_at in (timezone.now() - timedelta(hours=1), timezone.now()):  # first in the queue, then far back
            Generation.objects.filter(pk=self.generation.pk).update(enqueued_at=queued_at)
            with self.assertNumQueries(3):
                self.assertTrue(self.client.get(self.url).json()["queue_text"])

    def test_a_finished_generation_reports_full_progress(self):
        Generation.objects.filter(pk=self.generation.pk).update(status="succeeded", step=20)
        self.assertEqual(self.client.get(self.url).json()["progress"], 1.0)

    def test_another_user_gets_404_like_a_missing_one(self):
        self.client.force_login(make_user("joon"))
        self.assertEqual(self.client.get(self.url).status_code, 404)

    def test_anonymous_is_sent_to_log_in(self):
        self.client.logout()
        self.assertRedirects(self.client.get(self.url), reverse("login") + "?next=" + self.url)


class ParametersTableTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.client.force_login(self.user)
        self.photo = make_photo(self.user)

    def rows(self, mode):
        params = {"steps": 20, "seed": 1, "mode": mode, "strength": 0.75}
        generation = make_generation(self.photo, status="succeeded", params=params)
        return self.client.get(reverse("gallery:generation", args=[generation.pk])).content.decode()

    def test_a_txt2img_dog_lists_no_img2img_strength(self):
        self.assertNotIn("img2img strength", self.rows("txt2img"))

    def test_an_img2img_dog_lists_its_strength(self):
        self.assertIn("img2img strength</th><td>0.75</td>", self.rows("img2img"))


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
        self.assertEqual(LimitedAction.objects.filter(kind="generation").count(), 1)

    def test_a_succeeded_generation_is_not_retried(self):
        generation = make_generation(self.photo, status="succeeded", step=20)
        self.client.post(reverse("gallery:generation-retry", args=[generation.pk]))
        generation.refresh_from_db()
        self.assertEqual(generation.status, "succeeded")

    def test_the_failure_message_is_shown_with_a_retry_button(self):
        generation = make_generation(
            self.photo, status="failed", error="Something went wrong while making this dog. Please retry."
        )
        response = self.client.get(reverse("gallery:generation", args=[generation.pk]))
        self.assertContains(response, "Something went wrong while making this dog.")
        self.assertContains(response, reverse("gallery:generation-retry", args=[generation.pk]))


@override_settings(FTA_MAX_ACTIVE_GENERATIONS=1)
class RetryAndRegenerateLimitTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = make_photo(self.user)
        self.client.force_login(self.user)
        make_generation(self.photo, status="running")
        self.failed = make_generation(self.photo, status="failed", error="boom")

    def test_retry_over_the_limit_answers_429_and_leaves_it_failed(self):
        response = self.client.post(reverse("gallery:generation-retry", args=[self.failed.pk]))
        self.assertContains(response, "at most 1 at once", status_code=429)
        self.failed.refresh_from_db()
        self.assertEqual(self.failed.status, "failed")
        self.assertFalse(LimitedAction.objects.exists())

    def test_regenerate_over_the_limit_answers_429_and_makes_nothing(self):
        response = self.client.post(reverse("gallery:generation-regenerate", args=[self.failed.pk]))
        self.assertContains(response, "at most 1 at once", status_code=429)
        self.assertEqual(Generation.objects.count(), 2)


class LivePreviewTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.generation = make_generation(make_photo(self.user), status="running", step=3)
        self.url = reverse("gallery:generation-preview", args=[self.generation.pk])
        store_preview(self.generation.pk, Image.new("RGB", (32, 32), "orange"))
        self.addCleanup(delete_preview, self.generation.pk)

    def test_the_owner_gets_the_running_generations_latest_preview(self):
        self.client.force_login(self.user)
        response = self.client.get(self.url)
        self.assertEqual((response.status_code, response["Content-Type"]), (200, "image/webp"))
        self.assertEqual(response["Cache-Control"], "no-store")
        self.assertGreater(Image.open(io.BytesIO(response.content)).getpixel((16, 16))[0], 200)  # orange

    def test_another_user_gets_404(self):
        self.client.force_login(make_user("joon"))
        self.assertEqual(self.client.get(self.url).status_code, 404)

    def test_a_finished_generation_has_no_preview(self):
        Generation.objects.filter(pk=self.generation.pk).update(status="succeeded")
        self.client.force_login(self.user)
        self.assertEqual(self.client.get(self.url).status_code, 404)


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
        record_generations(self.user)
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

    def test_an_unknown_breed_is_refused(self):
        response = self.client.post(self.url, {"face": 0, "breed": "cat"})
        self.assertContains(response, "Select a valid choice. cat is not one of the available choices.", status_code=400)
        self.assertFalse(Generation.objects.exists())

    def test_a_face_the_photo_does_not_have_is_refused(self):
        response = self.client.post(self.url, {"face": 3, "breed": "pug"})
        self.assertEqual(response.status_code, 400)
        # A one-face photo's page shows no face choice, so the reason is the form's alone.
        self.assertEqual(list(response.context["form"].errors), ["face"])
        self.assertFalse(Generation.objects.exists())


class RedisDownTests(TransactionTestCase):
    """Redis unreachable: uploads and pages work, generations wait in the database for the reconcile pass.

    Committed for real, as in production: the page says the queue is busy once the job could not be pushed,
    which happens when the generation's transaction commits, inside the request."""

    def setUp(self):
        self.user = make_user()
        self.photo = make_photo(self.user)
        self.client.force_login(self.user)

    def test_generate_records_the_generation_and_says_the_queue_is_busy(self):
        with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
            response = self.client.post(
                reverse("gallery:generate", args=[self.photo.pk]), {"face": 0, "breed": "pug"}, follow=True
            )
            self.assertEqual(response.status_code, 200)
            self.assertContains(response, "The queue is busy right now")
            generation = Generation.objects.get()
            self.assertEqual(generation.status, "queued")
            self.assertEqual(
                self.client.get(reverse("gallery:generation-status", args=[generation.pk])).json()["status"], "queued"
            )

    def test_once_redis_is_back_the_reconcile_pass_enqueues_it(self):
        from rq.job import Job

        from gallery.generations.queue import get_queue
        from gallery.generations.reconcile import ENQUEUE_GRACE, reconcile

        with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
            self.client.post(reverse("gallery:generate", args=[self.photo.pk]), {"face": 0, "breed": "pug"})
        generation = Generation.objects.get()
        Generation.objects.filter(pk=generation.pk).update(created_at=generation.created_at - ENQUEUE_GRACE * 2)
        requeued, failed = reconcile()
        self.assertEqual((requeued, failed), (1, 0))
        generation.refresh_from_db()
        self.assertEqual(Job.fetch(generation.job_id, connection=get_queue().connection).args, (str(generation.pk),))
        get_queue().remove(generation.job_id)

    @override_settings(REDIS_URL="redis://127.0.0.1:1/0")
    def test_uploads_and_pages_work_without_redis(self):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from . import sample_images

        response = self.client.post(
            reverse("gallery:upload"), {"image": SimpleUploadedFile("me.jpg", sample_images.portrait_jpeg())}
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(self.client.get(response["Location"]).status_code, 200)
        self.assertEqual(self.client.get(reverse("gallery:index")).status_code, 200)


class MatchMeTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = make_photo(self.user)
        face = self.photo.landmarks["faces"][0]
        face["hair"] = "black"
        face["suggested_breeds"] = [
            {"slug": "poodle", "score": 0.9, "reasons": ["long_face"], "coat": "black"},
            {"slug": "beagle", "score": 0.5, "reasons": [], "coat": None},
        ]
        self.photo.save()
        self.client.force_login(self.user)

    def test_match_me_makes_the_top_suggested_breed_in_the_coat_that_matches_the_hair(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("gallery:generate", args=[self.photo.pk]), {"face": 0, "breed": "auto"})
        generation = Generation.objects.get()
        self.assertEqual((generation.breed, generation.coat), ("poodle", "black"))

    def test_a_single_coat_breed_keeps_its_own_colour(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("gallery:generate", args=[self.photo.pk]), {"face": 0, "breed": "golden-retriever"})
        self.assertEqual(Generation.objects.get().coat, "")

    def test_the_photo_page_says_who_you_look_like_with_reasons(self):
        response = self.client.get(reverse("gallery:photo", args=[self.photo.pk]))
        self.assertContains(response, "You look like a Poodle")
        self.assertContains(response, "long face")


class GalleryQueryTests(TestCase):
    def test_the_gallery_query_count_does_not_grow_with_the_items(self):
        user = make_user()
        self.client.force_login(user)
        photo = make_photo(user)
        make_generation(photo, status="succeeded")
        self.client.get(reverse("gallery:index"))
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            self.client.get(reverse("gallery:index"))
        for _ in range(20):
            make_generation(make_photo(user), status="succeeded")
        with CaptureQueriesContext(connection) as many:
            response = self.client.get(reverse("gallery:index"))
        self.assertEqual(len(response.context["page"].object_list), 21)
        self.assertEqual(len(few), len(many))

    def test_filters_by_breed_and_status(self):
        user = make_user()
        self.client.force_login(user)
        photo = make_photo(user)
        pug = make_generation(photo, breed="pug", status="succeeded")
        make_generation(photo, breed="beagle", status="succeeded")
        make_generation(photo, breed="pug", status="failed")
        response = self.client.get(reverse("gallery:index"), {"breed": "pug", "status": "succeeded"})
        self.assertEqual(list(response.context["page"].object_list), [pug])


class DownloadTests(TestCase):
    def test_the_download_is_an_attachment_that_cannot_be_sniffed(self):
        from django.core.files.base import ContentFile

        user = make_user()
        generation = make_generation(make_photo(user), status="succeeded", seed=42)
        generation.result.save("dog.png", ContentFile(b"\x89PNG fake"))
        self.client.force_login(user)
        response = self.client.get(reverse("gallery:generation-download", args=[generation.pk]))
        self.assertEqual(response["Content-Type"], "image/png")
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="facetoanimals-pug-42.png"')
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertIn("sandbox", response["Content-Security-Policy"])
