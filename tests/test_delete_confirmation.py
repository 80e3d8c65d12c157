"""Deleting a dog or a photo asks first (nothing deleted can come back), and once confirmed it is complete:
files, the queued job and the live preview all go."""

from django.test import TestCase
from django.urls import reverse
from PIL import Image

from gallery.generations import service
from gallery.generations.preview_store import load_preview, store_preview
from gallery.generations.queue import get_queue
from gallery.models import Generation, Photo
from transform.params import GenerationParams

from .factories import finished, make_photo, make_user, stored_names


class DeleteADogTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = make_photo(self.user)
        self.client.force_login(self.user)

    def test_the_dogs_page_offers_a_link_to_confirm_not_a_one_click_button(self):
        dog = finished(self.photo)
        page = self.client.get(reverse("gallery:generation", args=[dog.pk]))
        url = reverse("gallery:generation-delete", args=[dog.pk])
        self.assertContains(page, f'href="{url}"')
        self.assertNotContains(page, f'action="{url}"')

    def test_asking_deletes_nothing_and_offers_to_keep_it(self):
        dog = finished(self.photo)
        page = self.client.get(reverse("gallery:generation-delete", args=[dog.pk]))
        self.assertContains(page, "Delete this dog?")
        self.assertContains(page, "This cannot be undone.")
        self.assertContains(page, f'href="{reverse("gallery:generation", args=[dog.pk])}"')
        self.assertTrue(Generation.objects.filter(pk=dog.pk).exists())

    def test_confirming_deletes_the_dog_and_its_files(self):
        dog = finished(self.photo)
        files = [dog.result.name, dog.thumbnail.name, dog.face_crop.name]
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("gallery:generation-delete", args=[dog.pk]))
        self.assertRedirects(response, reverse("gallery:index"))
        self.assertFalse(Generation.objects.exists())
        self.assertEqual(set(files) & set(stored_names()), set())

    def test_a_queued_dog_says_deleting_stops_it_and_confirming_takes_its_job_and_preview_too(self):
        params = GenerationParams.from_dict({"width": 256, "height": 256, "steps": 2})
        with self.captureOnCommitCallbacks(execute=True):
            (dog,) = service.make_dogs(self.user, self.photo, 0, "pug", params).generations
        store_preview(dog.pk, Image.new("RGB", (8, 8)))
        self.assertIn(dog.job_id, get_queue().job_ids)
        self.assertContains(self.client.get(reverse("gallery:generation-delete", args=[dog.pk])), "deleting it stops it")
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("gallery:generation-delete", args=[dog.pk]))
        self.assertNotIn(dog.job_id, get_queue().job_ids)
        self.assertIsNone(load_preview(dog.pk))

    def test_someone_else_cannot_even_ask(self):
        dog = finished(self.photo)
        self.client.force_login(make_user("joon"))
        self.assertEqual(self.client.get(reverse("gallery:generation-delete", args=[dog.pk])).status_code, 404)
        self.assertEqual(self.client.post(reverse("gallery:generation-delete", args=[dog.pk])).status_code, 404)
        self.assertTrue(Generation.objects.filter(pk=dog.pk).exists())


class DeleteAPhotoTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = make_photo(self.user)
        self.client.force_login(self.user)

    def test_asking_names_how_many_dogs_go_with_it_and_deletes_nothing(self):
        finished(self.photo), finished(self.photo)
        page = self.client.get(reverse("gallery:photo-delete", args=[self.photo.pk]))
        self.assertContains(page, "the 2 dogs made from it are deleted for good")
        self.assertEqual(Generation.objects.count(), 2)

    def test_confirming_deletes_the_photo_its_dogs_and_every_file(self):
        finished(self.photo)
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("gallery:photo-delete", args=[self.photo.pk]))
        self.assertFalse(Photo.objects.exists() or Generation.objects.exists())
        self.assertEqual(stored_names(), [])
