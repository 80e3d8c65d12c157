"""Dogs asked for together ("Make 4", "Make all five") land on one lineup page, each with its own progress,
star and result; the five top breeds are made as one batched call where the worker can."""

import uuid

import pytest
from django.test import TestCase, override_settings
from django.urls import reverse
from rq import SimpleWorker

from gallery.generations import readiness
from gallery.generations.job_steps import ENGINE, WORKER_NAME
from gallery.generations.queue import get_queue
from gallery.models import Generation

from .factories import make_generation, make_photo, make_uploaded_photo, make_user

TOP_FIVE = ["pug", "shiba-inu", "beagle", "poodle", "whippet"]


def photo_with_top_five(user):
    photo = make_photo(user)
    face = photo.landmarks["faces"][0]
    face["hair"] = "black"
    face["suggested_breeds"] = [{"slug": slug, "score": 0.9 - i / 10, "reasons": []} for i, slug in enumerate(TOP_FIVE)]
    photo.save()
    return photo


class MakeFourTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = make_photo(self.user)
        self.client.force_login(self.user)

    def test_make_4_lands_on_one_page_that_shows_all_four(self):
        response = self.client.post(reverse("gallery:generate", args=[self.photo.pk]), {"face": 0, "breed": "pug", "count": 4})
        lineup = Generation.objects.values_list("lineup", flat=True).distinct().get()
        self.assertRedirects(response, reverse("gallery:lineup", args=[lineup]))
        page = self.client.get(response["Location"])
        self.assertContains(page, "4 dogs asked for together")
        self.assertContains(page, "<progress", count=4)
        self.assertContains(page, 'class="star-button"', count=4)
        for generation in Generation.objects.all():
            self.assertContains(page, reverse("gallery:generation", args=[generation.pk]))

    def test_one_dog_still_opens_its_own_page(self):
        response = self.client.post(reverse("gallery:generate", args=[self.photo.pk]), {"face": 0, "breed": "pug"})
        generation = Generation.objects.get()
        self.assertRedirects(response, reverse("gallery:generation", args=[generation.pk]))
        self.assertIsNone(generation.lineup)

    def test_each_dog_of_a_lineup_links_back_to_it(self):
        self.client.post(reverse("gallery:generate", args=[self.photo.pk]), {"face": 0, "breed": "pug", "count": 4})
        generation = Generation.objects.first()
        page = self.client.get(reverse("gallery:generation", args=[generation.pk]))
        self.assertContains(page, "See all 4 dogs asked for together")
        self.assertContains(page, reverse("gallery:lineup", args=[generation.lineup]))


class LineupPageTests(TestCase):
    def setUp(self):
        self.user = make_user()
        photo = make_photo(self.user)
        self.lineup = uuid.uuid4()
        self.done = make_generation(photo, lineup=self.lineup, status="succeeded", step=20, thumbnail="dogs/t.webp")
        self.running = make_generation(photo, lineup=self.lineup, status="running", step=5, breed="beagle")
        self.failed = make_generation(
            photo,
            lineup=self.lineup,
            status="failed",
            breed="poodle",
            error="Something went wrong while making this dog. Please retry.",
        )
        self.client.force_login(self.user)

    def test_the_status_json_gives_each_dog_its_own_progress_and_result(self):
        dogs = self.client.get(reverse("gallery:lineup-status", args=[self.lineup])).json()["dogs"]
        by_id = {dog["id"]: dog for dog in dogs}
        self.assertEqual(by_id[str(self.done.pk)]["thumbnail"], reverse("gallery:generation-thumbnail", args=[self.done.pk]))
        self.assertEqual(
            (by_id[str(self.running.pk)]["step_text"], by_id[str(self.running.pk)]["thumbnail"]), ("Step 5 of 20", None)
        )
        self.assertEqual(by_id[str(self.failed.pk)]["error"], "Something went wrong while making this dog. Please retry.")

    def test_the_status_json_is_one_query_beyond_the_session(self):
        url = reverse("gallery:lineup-status", args=[self.lineup])
        self.client.get(url)
        with self.assertNumQueries(3):  # session, user, the lineup's dogs
            self.client.get(url)

    def test_the_page_shows_the_finished_picture_the_bar_and_the_failure(self):
        page = self.client.get(reverse("gallery:lineup", args=[self.lineup]))
        self.assertContains(page, reverse("gallery:generation-thumbnail", args=[self.done.pk]))
        self.assertContains(page, "Step 5 of 20")
        self.assertContains(page, "Something went wrong while making this dog.")

    def test_someone_elses_lineup_is_not_found(self):
        self.client.force_login(make_user("joon"))
        self.assertEqual(self.client.get(reverse("gallery:lineup", args=[self.lineup])).status_code, 404)
        self.assertEqual(self.client.get(reverse("gallery:lineup-status", args=[self.lineup])).status_code, 404)

    def test_deleting_one_dog_goes_back_to_the_rest_of_the_lineup(self):
        response = self.client.post(reverse("gallery:generation-delete", args=[self.running.pk]))
        self.assertRedirects(response, reverse("gallery:lineup", args=[self.lineup]))
        self.assertEqual(Generation.objects.filter(lineup=self.lineup).count(), 2)


class MakeAllFiveTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = photo_with_top_five(self.user)
        self.url = reverse("gallery:generate-lineup", args=[self.photo.pk])
        self.client.force_login(self.user)

    def test_the_photo_page_offers_all_five_at_once(self):
        page = self.client.get(reverse("gallery:photo", args=[self.photo.pk]))
        self.assertContains(page, f'action="{self.url}"')
        self.assertContains(page, "Make all 5 at once")

    def test_all_five_are_one_lineup_of_the_suggested_breeds_with_one_seed(self):
        response = self.client.post(self.url, {"face": 0})
        dogs = list(Generation.objects.order_by("created_at"))
        self.assertRedirects(response, reverse("gallery:lineup", args=[dogs[0].lineup]))
        self.assertEqual([dog.breed for dog in dogs], TOP_FIVE)
        self.assertEqual(len({dog.lineup for dog in dogs}), 1)
        self.assertEqual(len({dog.seed for dog in dogs}), 1)
        self.assertEqual(dogs[3].coat, "black")  # a poodle in the coat that matches the hair

    def test_all_five_count_against_the_limits(self):
        with override_settings(FTA_GENERATIONS_PER_HOUR=4):
            response = self.client.post(self.url, {"face": 0})
        self.assertEqual(response.status_code, 429)
        self.assertFalse(Generation.objects.exists())

    def test_a_face_that_is_not_in_the_photo_is_refused_with_a_sentence(self):
        for face in ("1", "-1", "²", "٣", "", "0x0", "9" * 40):
            with self.subTest(face=face):
                response = self.client.post(self.url, {"face": face})
                self.assertContains(response, "Choose a face of this photo.", status_code=400)
        self.assertFalse(Generation.objects.exists())

    def test_a_face_without_suggestions_is_refused(self):
        response = self.client.post(reverse("gallery:generate-lineup", args=[make_photo(self.user).pk]), {"face": 0})
        self.assertContains(response, "We have no suggestion for this face", status_code=400)

    def test_someone_elses_photo_is_not_found(self):
        self.client.force_login(make_user("joon"))
        self.assertEqual(self.client.post(self.url, {"face": 0}).status_code, 404)
        self.assertFalse(Generation.objects.exists())


@pytest.mark.django_db(transaction=True)
def test_the_five_are_made_in_one_batched_call_at_the_pipelines_own_size(tiny_pipeline_dir, settings, client):
    from gallery.generations.worker import PipelineWorker

    settings.FTA_SD_MODEL, settings.FTA_CONTROLNET_MODEL = str(tiny_pipeline_dir / "sd"), str(tiny_pipeline_dir / "controlnet")
    settings.FTA_DEVICE, settings.FTA_MAX_BATCH, settings.FTA_TORCH_THREADS = "cpu", 5, 1
    connection = get_queue().connection
    connection.flushdb()
    ENGINE.forget()
    try:
        ENGINE.get().load()
        worker = PipelineWorker([get_queue()], connection=connection)
        worker.announce_pipeline()  # what the worker says at start-up, once its pipeline is loaded
        photo = make_uploaded_photo()
        client.force_login(photo.owner)
        client.post(reverse("gallery:generate-lineup", args=[photo.pk]), {"face": 0})
        SimpleWorker([get_queue()], connection=connection).work(burst=True)
    finally:
        ENGINE.forget()
        readiness.withdraw(connection, WORKER_NAME)
    dogs = Generation.objects.all()
    assert dogs.count() == 5
    for dog in dogs:
        assert dog.status == "succeeded", dog.traceback
        assert dog.timings["batch_size"] == 5
        assert (dog.params["width"], dog.params["height"]) == (256, 256)
