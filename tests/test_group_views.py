"""Group photos on the web: "Make everyone a dog" on the photo page, its limits, progress and result page."""

from django.core.files.base import ContentFile
from django.test import TestCase, override_settings
from django.urls import reverse

from gallery.models import Generation

from .factories import fake_face, make_generation, make_photo, make_user


def with_faces(photo, *faces):
    photo.landmarks = {**photo.landmarks, "faces": list(faces)}
    photo.face_count = len(faces)
    photo.save()
    return photo


def suggested(face, slug):
    return {**face, "suggested_breeds": [{"slug": slug, "score": 0.9, "reasons": []}]}


class GroupFormTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = with_faces(
            make_photo(self.user),
            suggested(fake_face((40, 100, 200, 260)), "beagle"),
            suggested(fake_face((300, 100, 460, 260)), "pug"),
        )
        self.client.force_login(self.user)
        self.url = reverse("gallery:generate-group", args=[self.photo.pk])

    def test_the_photo_page_offers_to_make_everyone_a_dog_with_each_faces_match(self):
        page = self.client.get(reverse("gallery:photo", args=[self.photo.pk])).content.decode()
        self.assertIn(f'action="{self.url}"', page)
        self.assertIn('name="breed_1"', page)
        self.assertIn('<option value="auto" selected>', page)

    def test_the_photo_page_sent_back_for_a_wrong_setting_still_offers_the_group_form(self):
        generate = reverse("gallery:generate", args=[self.photo.pk])
        response = self.client.post(generate, {"face": 0, "breed": "pug", "steps": 500})
        self.assertContains(response, "Must be between 1 and 100.", status_code=400)
        self.assertContains(response, f'action="{self.url}"', status_code=400)

    def test_the_photo_page_filled_from_a_png_without_javascript_still_offers_the_group_form(self):
        from django.core.files.uploadedfile import SimpleUploadedFile
        from PIL import Image

        from transform.infotext import png_bytes

        settings = png_bytes(Image.new("RGB", (8, 8)), "dog, pug\nSteps: 23, Seed: 77, Size: 512x512")
        png = SimpleUploadedFile("found.png", settings, content_type="image/png")
        response = self.client.post(reverse("gallery:params-from-png"), {"png": png, "photo": str(self.photo.pk)})
        self.assertContains(response, "The form is filled with the settings from this PNG.")
        self.assertContains(response, f'action="{self.url}"')

    def test_the_photo_page_refusing_a_png_without_javascript_still_offers_the_group_form(self):
        from django.core.files.uploadedfile import SimpleUploadedFile

        png = SimpleUploadedFile("x.png", b"GIF89a nope")
        response = self.client.post(reverse("gallery:params-from-png"), {"png": png, "photo": str(self.photo.pk)})
        self.assertContains(response, "This file is not a PNG image.", status_code=400)
        self.assertContains(response, f'action="{self.url}"', status_code=400)

    def test_a_group_is_made_at_the_size_the_workers_pipeline_draws_best(self):
        from gallery.generations import readiness
        from gallery.generations.queue import get_queue

        connection = get_queue().connection
        readiness.announce(connection, "tiny:1", readiness.READY, "", {"width": 256, "height": 256})
        self.addCleanup(readiness.withdraw, connection, "tiny:1")
        self.client.post(self.url)
        self.assertEqual(Generation.objects.get().params["width"], 256)

    def test_a_photo_with_one_face_does_not_offer_to_make_everyone_a_dog(self):
        with_faces(self.photo, suggested(fake_face((40, 100, 200, 260)), "beagle"))
        page = self.client.get(reverse("gallery:photo", args=[self.photo.pk])).content.decode()
        self.assertNotIn(f'action="{self.url}"', page)
        self.assertNotIn("Make everyone a dog", page)

    def test_every_face_with_its_suggested_breed_by_default_makes_one_group_generation(self):
        response = self.client.post(self.url)
        generation = Generation.objects.get()
        self.assertRedirects(response, reverse("gallery:generation", args=[generation.pk]), fetch_redirect_response=False)
        self.assertEqual([(f["index"], f["breed"]) for f in generation.group_faces], [(0, "beagle"), (1, "pug")])
        self.assertEqual((generation.faces, generation.is_group, generation.status), (2, True, "queued"))

    def test_chosen_faces_and_breeds_are_kept(self):
        self.client.post(self.url, {"faces": ["1"], "breed_1": "shiba-inu"})
        self.assertEqual(Generation.objects.get().group_faces, [{"index": 1, "breed": "shiba-inu", "coat": ""}])

    def test_an_unknown_breed_is_refused_with_a_sentence_and_nothing_made(self):
        response = self.client.post(self.url, {"breed_0": "unicorn"})
        self.assertContains(response, "Pick a breed for face 1.", status_code=400)
        self.assertFalse(Generation.objects.exists())

    def test_a_face_not_in_the_photo_is_refused(self):
        response = self.client.post(self.url, {"faces": ["2"]})
        self.assertContains(response, "Choose faces of this photo.", status_code=400)
        self.assertFalse(Generation.objects.exists())

    @override_settings(FTA_MAX_FACES_PER_GROUP=1)
    def test_more_faces_than_the_setting_allows_are_refused(self):
        response = self.client.post(self.url)
        self.assertContains(response, "A group can have at most 1 faces", status_code=400)
        self.assertFalse(Generation.objects.exists())

    @override_settings(FTA_MAX_ACTIVE_GENERATIONS=2)
    def test_each_face_counts_as_one_dog_for_the_limits(self):
        make_generation(self.photo)
        response = self.client.post(self.url)
        self.assertEqual(response.status_code, 429)
        self.assertEqual(Generation.objects.count(), 1)

    def test_each_face_is_recorded_as_one_dog_for_the_hourly_limit(self):
        from gallery.rate_limits import Kind, recent

        self.client.post(self.url)
        self.assertEqual(recent(Kind.GENERATION, user=self.user), 2)

    @override_settings(FTA_GENERATIONS_PER_HOUR=3)
    def test_a_group_with_more_faces_than_the_hour_has_left_is_refused(self):
        from gallery.rate_limits import record_generations

        record_generations(self.user, 2)
        response = self.client.post(self.url)
        self.assertEqual(response.status_code, 429)
        self.assertFalse(Generation.objects.exists())

    def test_a_face_too_small_to_make_is_skipped_and_named(self):
        with_faces(self.photo, *self.photo.faces, suggested(fake_face((470, 10, 490, 30)), "pug"))
        page = self.client.get(reverse("gallery:photo", args=[self.photo.pk])).content.decode()
        self.assertIn("Face 3 is smaller than 32 pixels", page)
        self.client.post(self.url)
        generation = Generation.objects.get()
        self.assertEqual([f["index"] for f in generation.group_faces], [0, 1])
        self.assertEqual(generation.skipped_faces, [{"index": 2, "reason": "too_small"}])


class GroupProgressAndResultTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = with_faces(make_photo(self.user), fake_face((40, 100, 200, 260)), fake_face((300, 100, 460, 260)))
        self.client.force_login(self.user)
        faces = [{"index": 0, "breed": "pug", "coat": ""}, {"index": 1, "breed": "beagle", "coat": ""}]
        self.generation = make_generation(self.photo, group_faces=faces, faces=2, status="running", face=2, step=25, steps=40)

    def test_status_json_says_which_face_of_how_many(self):
        status = self.client.get(reverse("gallery:generation-status", args=[self.generation.pk])).json()
        self.assertEqual((status["face"], status["faces"], status["step"], status["steps"]), (2, 2, 25, 40))

    def test_the_running_page_shows_the_faces_being_made_in_its_one_status_line(self):
        page = self.client.get(reverse("gallery:generation", args=[self.generation.pk])).content.decode()
        # Both faces fit one batch (FTA_MAX_BATCH 4): they are made together from the first step.
        self.assertIn(">Faces 1–2 of 2 · Step 25 of 40</p>", page)

    @override_settings(FTA_MAX_BATCH=1)
    def test_status_json_step_text_says_the_face_for_the_live_region(self):
        status = self.client.get(reverse("gallery:generation-status", args=[self.generation.pk])).json()
        self.assertEqual(status["step_text"], "Face 2 of 2 · Step 25 of 40")

    def test_a_group_announces_its_dogs_in_the_plural_when_they_are_ready(self):
        page = self.client.get(reverse("gallery:generation", args=[self.generation.pk])).content.decode()
        self.assertIn('data-ready-text="Your dogs are ready."', page)

    def test_the_result_page_headings_go_down_one_level_at_a_time(self):
        import re

        self.generation.result.save("dog.png", ContentFile(b"png"), save=False)
        Generation.objects.filter(pk=self.generation.pk).update(
            status="succeeded", result=self.generation.result.name, timings={"inference": 1.0}, infotext="Steps: 20"
        )
        page = self.client.get(reverse("gallery:generation", args=[self.generation.pk])).content.decode()
        main = page[page.index("<main") : page.index("</main>")]
        levels = [int(level) for level in re.findall(r"<h([1-6])\b", main)]
        self.assertEqual(levels[0], 1)
        self.assertTrue(all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels)

    def test_the_result_page_shows_the_photo_before_and_after_and_the_skipped_faces(self):
        self.generation.result.save("dog.png", ContentFile(b"png"), save=False)
        Generation.objects.filter(pk=self.generation.pk).update(
            status="succeeded", step=40, result=self.generation.result.name, skipped_faces=[{"index": 2, "reason": "too_small"}]
        )
        page = self.client.get(reverse("gallery:generation", args=[self.generation.pk])).content.decode()
        self.assertIn(reverse("gallery:photo-image", args=[self.photo.pk]), page)
        self.assertIn(reverse("gallery:generation-display", args=[self.generation.pk]), page)
        self.assertIn("data-before-after", page)
        self.assertIn("Face 3 was too small to make into a dog", page)
        self.assertIn("1: Pug, 2: Beagle", page)

    def test_the_gallery_shows_a_group_like_a_single_dog(self):
        Generation.objects.filter(pk=self.generation.pk).update(status="succeeded", step=40)
        page = self.client.get(reverse("gallery:index")).content.decode()
        self.assertIn("Everyone as dogs (2)", page)

    def test_a_failed_group_is_retried_counting_each_face(self):
        Generation.objects.filter(pk=self.generation.pk).update(status="failed", error="x")
        with override_settings(FTA_MAX_ACTIVE_GENERATIONS=1):
            response = self.client.post(reverse("gallery:generation-retry", args=[self.generation.pk]))
        self.assertEqual(response.status_code, 429)
        self.client.post(reverse("gallery:generation-retry", args=[self.generation.pk]))
        self.generation.refresh_from_db()
        self.assertEqual((self.generation.status, self.generation.face), ("queued", 0))
