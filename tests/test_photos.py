"""Uploading photos through the web: cleaning, faces, refusals that leave nothing behind, privacy."""

import io

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test import TestCase, override_settings
from django.urls import reverse
from PIL import Image

from gallery.models import Photo

from . import sample_images as samples
from .factories import make_user, stored_names
from .upload_refusals import EXPECTED_REFUSALS

WEB_REFUSALS = {
    **EXPECTED_REFUSALS,
    # The web's limit is 40 MP (the default), the unit tests' 50 MP.
    "png_header_30000": ("too_many_pixels", "This photo has more than 40 megapixels; please upload a smaller one."),
    "png_12000": ("too_many_pixels", "This photo has more than 40 megapixels; please upload a smaller one."),
}


COUNTING_HANDLER = "tests.test_photos.CountingUploadHandler"


class CountingUploadHandler(FileUploadHandler):
    """Counts the upload bytes that reach it, and passes them on."""

    received = 0

    def receive_data_chunk(self, raw_data, start):
        type(self).received += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return None


class UploadTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.client.force_login(self.user)
        self.url = reverse("gallery:upload")

    def upload(self, data, name="me.jpg"):
        return self.client.post(self.url, {"image": SimpleUploadedFile(name, data, content_type="image/jpeg")})

    def test_a_portrait_is_cleaned_stored_and_shown_with_its_face(self):
        response = self.upload(samples.portrait_jpeg(), "../../My Selfie\x00.jpg")
        photo = Photo.objects.get()
        self.assertRedirects(response, reverse("gallery:photo", args=[photo.pk]))
        self.assertEqual((photo.face_count, photo.width, photo.height), (1, 512, 512))
        self.assertNotIn("/", photo.original_name)
        self.assertNotIn("\x00", photo.original_name)
        self.assertNotIn("Selfie", photo.image.name)  # stored under a random name
        self.assertRegex(photo.image.name, r"^photos/[0-9a-f]{32}\.jpg$")  # naming no user either
        self.assertEqual(len(stored_names()), 2)  # the photo and its thumbnail
        page = self.client.get(reverse("gallery:photo", args=[photo.pk]))
        self.assertContains(page, "<circle", count=478)
        self.assertContains(page, 'alt="Your photo, with 1 face found"')

    def test_the_landmark_json_follows_the_contract(self):
        self.upload(samples.portrait_jpeg())
        photo = Photo.objects.get()
        data = self.client.get(reverse("gallery:photo-landmarks", args=[photo.pk])).json()
        self.assertEqual((data["version"], data["image_size"]), (1, [512, 512]))
        face = data["faces"][0]
        self.assertEqual(len(face["box"]), 4)
        self.assertEqual(len(face["landmarks"]), 478)
        self.assertTrue(all(0 <= x <= 1 and 0 <= y <= 1 for x, y, _ in face["landmarks"]))
        suggestions = face["suggested_breeds"]
        self.assertEqual(len(suggestions), 5)
        self.assertEqual(set(suggestions[0]), {"slug", "score", "reasons", "deciding", "tied_with_next", "coat"})
        self.assertEqual([s["score"] for s in suggestions], sorted((s["score"] for s in suggestions), reverse=True))

    def test_gps_and_camera_data_never_reach_the_disk(self):
        self.upload(samples.exif_rotated_jpeg())
        photo = Photo.objects.get()
        with photo.image.open("rb") as handle:
            data = handle.read()
        self.assertEqual(dict(Image.open(io.BytesIO(data)).getexif()), {})
        self.assertNotIn(b"GPS", data)
        self.assertEqual(photo.face_count, 1)  # upright again, so the face is found

    def test_two_people_give_two_selectable_faces(self):
        response = self.upload(samples.two_faces_jpeg())
        photo = Photo.objects.get()
        self.assertEqual(photo.face_count, 2)
        page = self.client.get(response["Location"])
        self.assertContains(page, 'type="radio" name="face"', count=2)
        self.assertContains(page, "You look like a", count=2)

    def test_every_hostile_file_is_refused_with_one_sentence_and_nothing_kept(self):
        for name, (data, filename) in samples.hostile_files().items():
            with self.subTest(name):
                response = self.upload(data, filename)
                code, message = WEB_REFUSALS[name]
                self.assertEqual(response.status_code, 413 if code == "too_big" else 400)
                self.assertContains(response, message, status_code=response.status_code)
                self.assertFalse(Photo.objects.exists())
                self.assertEqual(stored_names(), [])

    def test_a_photo_without_a_face_is_refused(self):
        response = self.upload(samples.no_face_jpeg())
        self.assertContains(response, "We couldn", status_code=400)
        self.assertFalse(Photo.objects.exists())
        self.assertEqual(stored_names(), [])

    @override_settings(FTA_UPLOAD_MAX_BYTES=100_000)
    def test_an_over_large_body_is_refused_before_it_is_parsed(self):
        # A real handler where Django's own memory and temporary-file handlers would get the bytes:
        # it must get none of them (without the size handler in the settings, it gets them all).
        handlers = list(settings.FILE_UPLOAD_HANDLERS)
        handlers.insert(handlers.index("django.core.files.uploadhandler.MemoryFileUploadHandler"), COUNTING_HANDLER)
        CountingUploadHandler.received = 0
        with self.settings(FILE_UPLOAD_HANDLERS=handlers):
            response = self.upload(samples.portrait_jpeg() + bytes(200_000))
        self.assertContains(response, "larger than 97.7 KB", status_code=413)
        self.assertEqual(CountingUploadHandler.received, 0)
        self.assertFalse(Photo.objects.exists())

    @override_settings(FTA_UPLOADS_PER_HOUR=1)
    def test_the_hourly_upload_limit_answers_429(self):
        self.upload(samples.portrait_jpeg())
        response = self.upload(samples.portrait_jpeg())
        self.assertContains(response, "the most we allow", status_code=429)
        self.assertEqual(Photo.objects.count(), 1)


class PhotoPrivacyTests(TestCase):
    def setUp(self):
        self.owner = make_user("owner")
        self.client.force_login(self.owner)
        self.client.post(reverse("gallery:upload"), {"image": SimpleUploadedFile("me.jpg", samples.portrait_jpeg())})
        self.photo = Photo.objects.get()
        self.urls = [
            reverse(name, args=[self.photo.pk])
            for name in ("gallery:photo", "gallery:photo-landmarks", "gallery:photo-image", "gallery:photo-thumbnail")
        ]

    def test_another_user_gets_404_everywhere_and_cannot_delete(self):
        self.client.force_login(make_user("stranger"))
        for url in self.urls:
            self.assertEqual(self.client.get(url).status_code, 404, url)
        self.assertEqual(self.client.post(reverse("gallery:photo-delete", args=[self.photo.pk])).status_code, 404)
        self.assertTrue(Photo.objects.filter(pk=self.photo.pk).exists())

    def test_images_are_served_with_safe_headers(self):
        response = self.client.get(reverse("gallery:photo-image", args=[self.photo.pk]))
        self.assertEqual(response["Content-Type"], "image/jpeg")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(response["Cache-Control"], "no-store")

    @override_settings(FTA_SENDFILE="nginx", FTA_STORAGE="local")
    def test_in_production_nginx_streams_the_file(self):
        response = self.client.get(reverse("gallery:photo-image", args=[self.photo.pk]))
        self.assertEqual(response["X-Accel-Redirect"], "/protected-media/" + self.photo.image.name)
        self.assertEqual(response.content, b"")

    def test_reviewers_may_see_the_image_but_not_the_page(self):
        reviewer = make_user("staff", is_staff=True)
        reviewer.groups.add(Group.objects.get(name="Reviewers"))
        self.client.force_login(reviewer)
        self.assertEqual(self.client.get(reverse("gallery:photo-image", args=[self.photo.pk])).status_code, 200)
        self.assertEqual(self.client.get(reverse("gallery:photo", args=[self.photo.pk])).status_code, 404)

    def test_deleting_a_photo_deletes_its_files(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("gallery:photo-delete", args=[self.photo.pk]))
        self.assertFalse(Photo.objects.exists())
        self.assertEqual(stored_names(), [])
