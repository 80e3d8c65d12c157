"""Round 3, finding 9: an hourly limit is charged only when something actually happens (docs/SECURITY.md).

One test per action that records a gallery.LimitedAction: what is charged, and what is not.
"""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from gallery.models import Generation, LimitedAction

from .factories import finished, make_generation, make_group_photo, make_photo, make_user

Kind = LimitedAction.Kind


def charged(kind):
    return LimitedAction.objects.filter(kind=kind).count()


class RetryTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = make_photo(self.user)
        self.client.force_login(self.user)

    def retry(self, generation):
        return self.client.post(reverse("gallery:generation-retry", args=[generation.pk]))

    def test_retrying_a_finished_dog_three_times_does_nothing_and_charges_nothing(self):
        dog = finished(self.photo)
        for _ in range(3):
            self.assertContains(self.retry(dog), "Only a failed or cancelled dog can be tried again.", status_code=400)
        dog.refresh_from_db()
        self.assertEqual(dog.status, Generation.Status.SUCCEEDED)
        self.assertEqual(charged(Kind.GENERATION), 0)

    def test_retrying_a_failed_group_charges_each_of_its_dogs_once(self):
        faces = [{"index": i, "breed": "beagle", "coat": ""} for i in range(3)]
        group = make_generation(make_group_photo(self.user, 3), status="failed", group_faces=faces, faces=3)
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(self.retry(group).status_code, 302)
        self.assertEqual(charged(Kind.GENERATION), 3)

    def test_a_second_retry_of_a_dog_already_queued_again_charges_nothing(self):
        failed = make_generation(self.photo, status="failed")
        self.retry(failed)
        self.assertEqual(self.retry(failed).status_code, 400)
        self.assertEqual(charged(Kind.GENERATION), 1)


class NewDogsTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.client.force_login(self.user)

    def test_make_4_charges_four(self):
        photo = make_photo(self.user)
        self.client.post(reverse("gallery:generate", args=[photo.pk]), {"face": 0, "breed": "pug", "count": 4})
        self.assertEqual((Generation.objects.count(), charged(Kind.GENERATION)), (4, 4))

    def test_an_invalid_form_charges_nothing(self):
        photo = make_photo(self.user)
        self.client.post(reverse("gallery:generate", args=[photo.pk]), {"face": 0, "breed": "unicorn"})
        self.assertEqual(charged(Kind.GENERATION), 0)

    def test_a_group_charges_each_face_it_makes(self):
        photo = make_group_photo(self.user, 3)
        self.client.post(reverse("gallery:generate-group", args=[photo.pk]))
        self.assertEqual(charged(Kind.GENERATION), 3)

    def test_again_with_a_new_seed_charges_the_dogs_it_queues(self):
        dog = finished(make_photo(self.user))
        self.client.post(reverse("gallery:generation-regenerate", args=[dog.pk]))
        self.assertEqual((Generation.objects.count(), charged(Kind.GENERATION)), (2, 1))


class UploadTests(TestCase):
    def test_every_upload_attempt_is_charged_even_a_refused_file_since_it_was_read(self):
        self.client.force_login(make_user())
        self.client.post(reverse("gallery:upload"), {"image": SimpleUploadedFile("me.jpg", b"not an image")})
        self.assertEqual(charged(Kind.UPLOAD), 1)


class PasswordFormTests(TestCase):
    """The current password asked by signed-in forms: only a wrong one stays charged."""

    def setUp(self):
        self.user = make_user()
        self.client.force_login(self.user)

    def change(self, old, new="new-dog-portrait-7", again="new-dog-portrait-7"):
        return self.client.post(reverse("password_change"), {"old_password": old, "new_password1": new, "new_password2": again})

    def test_a_wrong_current_password_is_charged(self):
        self.change("guess")
        self.assertEqual(charged(Kind.WRONG_PASSWORD), 1)

    def test_the_right_current_password_is_not_charged(self):
        self.change("dog-portrait-42")
        self.assertEqual(charged(Kind.WRONG_PASSWORD), 0)

    def test_the_right_password_with_new_ones_that_differ_is_not_charged(self):
        self.assertEqual(self.change("dog-portrait-42", again="other-dog-portrait-8").status_code, 200)
        self.assertEqual(charged(Kind.WRONG_PASSWORD), 0)

    def test_a_wrong_password_to_delete_the_account_is_charged_and_a_missing_one_is_not(self):
        self.client.post(reverse("account-delete"), {"password": "guess"})
        self.client.post(reverse("account-delete"), {})
        self.assertEqual(charged(Kind.WRONG_PASSWORD), 1)


class AddressLimitTests(TestCase):
    def test_a_sign_up_form_with_errors_is_not_charged(self):
        self.client.post(reverse("signup"), {"username": "newcomer", "email": "not an address"})
        self.assertEqual(charged(Kind.SIGNUP), 0)

    def test_a_password_reset_for_a_malformed_address_is_not_charged(self):
        self.client.post(reverse("password_reset"), {"email": "not an address"})
        self.assertEqual(charged(Kind.PASSWORD_RESET), 0)

    def test_a_password_reset_is_charged_whether_or_not_the_address_has_an_account(self):
        self.client.post(reverse("password_reset"), {"email": "nobody@example.com"})
        self.assertEqual(charged(Kind.PASSWORD_RESET), 1)
