"""The named transitions of a generation, each one conditional UPDATE that can lose its race on purpose."""

from django.core.files.base import ContentFile
from django.test import TestCase
from django.utils import timezone

from gallery.generations import lifecycle, service
from gallery.models import Generation

from .factories import make_generation, make_photo, make_user, stored_names


class TransitionTests(TestCase):
    def setUp(self):
        self.photo = make_photo(make_user())

    def status(self, generation):
        return Generation.objects.get(pk=generation.pk).status

    def test_a_stale_job_cannot_claim_a_generation_queued_again_under_a_new_job(self):
        generation = make_generation(self.photo, job_id="new")
        self.assertFalse(lifecycle.claim(generation.pk, "old", "worker"))
        self.assertTrue(lifecycle.claim(generation.pk, "new", "worker"))
        self.assertEqual(self.status(generation), "running")

    def test_progress_tells_the_worker_to_stop_once_its_owner_cancels(self):
        generation = make_generation(self.photo, status="running")
        self.assertTrue(lifecycle.progress(generation.pk, 3, 20))
        lifecycle.cancel(generation)
        self.assertFalse(lifecycle.progress(generation.pk, 4, 20))

    def test_progress_tells_the_worker_to_stop_once_the_generation_is_deleted(self):
        generation = make_generation(self.photo, status="running")
        service.delete(generation)
        self.assertFalse(lifecycle.progress(generation.pk, 4, 20))

    def test_a_group_moving_to_its_next_face_records_it_and_stops_once_its_owner_cancels(self):
        generation = make_generation(self.photo, status="running", faces=3)
        self.assertTrue(lifecycle.progress_face(generation.pk, 2))
        self.assertEqual(Generation.objects.get(pk=generation.pk).face, 2)
        lifecycle.cancel(generation)
        self.assertFalse(lifecycle.progress_face(generation.pk, 3))
        self.assertEqual(Generation.objects.get(pk=generation.pk).face, 2)

    def test_a_retried_group_starts_again_from_no_face(self):
        generation = make_generation(self.photo, status="failed", faces=3, face=2)
        with self.captureOnCommitCallbacks():
            self.assertTrue(lifecycle.retry(generation))
        self.assertEqual(Generation.objects.get(pk=generation.pk).face, 0)

    def test_faces_skipped_while_a_group_runs_are_added_to_those_skipped_before(self):
        generation = make_generation(self.photo, status="running", skipped_faces=[{"index": 4, "reason": "too_small"}])
        self.assertTrue(lifecycle.skip_faces(generation, [{"index": 1, "reason": "invalid"}]))
        self.assertEqual([f["index"] for f in Generation.objects.get(pk=generation.pk).skipped_faces], [4, 1])

    def test_a_cancelled_generation_is_not_queued_again(self):
        generation = make_generation(self.photo)
        lifecycle.cancel(generation)
        with self.captureOnCommitCallbacks() as pushes:
            self.assertFalse(lifecycle.queue(generation))
        self.assertEqual(pushes, [])

    def test_a_result_saved_after_a_cancel_request_is_removed_and_the_generation_ends_cancelled(self):
        generation = make_generation(self.photo, status="running")
        lifecycle.cancel(generation)
        generation.result.save("dog.png", ContentFile(b"png"), save=False)
        self.assertFalse(lifecycle.succeed(generation, [generation.result], seed=1, infotext="", timings={}))
        self.assertNotIn(generation.result.name, stored_names())
        self.assertEqual(self.status(generation), "cancelled")

    def test_a_generation_released_for_a_storage_outage_waits_queued_with_no_job_pushed(self):
        generation = make_generation(self.photo, status="running", step=5, started_at=timezone.now())
        with self.captureOnCommitCallbacks() as pushes:
            self.assertTrue(lifecycle.release_for_retry(generation.pk))
        self.assertEqual(pushes, [], "the reconcile pass pushes its job once storage may be back")
        row = Generation.objects.get(pk=generation.pk)
        self.assertEqual((row.status, row.step, row.started_at), ("queued", 0, None))

    def test_a_generation_its_owner_cancelled_is_not_released_for_retry(self):
        generation = make_generation(self.photo, status="running")
        lifecycle.cancel(generation)
        self.assertFalse(lifecycle.release_for_retry(generation.pk))
        self.assertEqual(self.status(generation), "running")

    def test_a_failure_is_not_recorded_over_a_generation_that_already_ended(self):
        generation = make_generation(self.photo, status="succeeded")
        self.assertFalse(lifecycle.fail(generation.pk, "boom", "", {}))
        self.assertEqual(self.status(generation), "succeeded")

    def test_only_failed_or_cancelled_generations_are_retried(self):
        finished = make_generation(self.photo, status="succeeded")
        failed = make_generation(self.photo, status="failed", error="boom")
        with self.captureOnCommitCallbacks() as pushes:
            self.assertFalse(lifecycle.retry(finished))
            self.assertTrue(lifecycle.retry(failed))
        self.assertEqual(len(pushes), 1)
        self.assertEqual((self.status(finished), self.status(failed)), ("succeeded", "queued"))

    def test_a_lost_generation_is_requeued_only_if_its_dead_worker_still_holds_it(self):
        generation = make_generation(self.photo, status="running", worker_name="dead")
        Generation.objects.filter(pk=generation.pk).update(worker_name="alive")
        self.assertFalse(lifecycle.requeue_lost(generation))
        self.assertEqual(self.status(generation), "running")
