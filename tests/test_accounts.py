import re

from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.core.files.base import ContentFile
from django.test import TestCase
from django.urls import reverse

from gallery.models import Generation, Photo

from .factories import stored_names


class SignupTests(TestCase):
    def test_the_email_field_says_it_is_used_to_confirm_the_sign_up_too(self):
        self.assertContains(self.client.get(reverse("signup")), "Only used to confirm your sign-up and to reset your password.")

    def test_a_newcomer_signs_up_follows_the_mailed_link_and_lands_on_an_empty_gallery(self):
        response = self.client.post(
            reverse("signup"),
            {"username": "mina", "email": "mina@example.com", "password1": "dog-portrait-42", "password2": "dog-portrait-42"},
            follow=True,
        )
        self.assertContains(response, "Follow it to finish signing up")
        link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
        self.assertContains(self.client.get(link), "Type the password you chose when signing up as <strong>mina</strong>")
        response = self.client.post(link, {"password": "dog-portrait-42"}, follow=True)
        self.assertRedirects(response, reverse("gallery:index"))
        self.assertContains(response, "Signed in as mina")
        self.assertContains(response, "No dogs yet")
        self.assertTrue(User.objects.filter(username="mina", email="mina@example.com").exists())

    def test_weak_or_mismatched_passwords_show_the_form_again_with_reasons(self):
        response = self.client.post(
            reverse("signup"), {"username": "mina", "email": "not-an-email", "password1": "12345", "password2": "54321"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Enter a valid email address.", status_code=400)
        self.assertContains(response, "The two password fields didn", status_code=400)
        self.assertFalse(User.objects.exists())

    def test_common_password_is_refused(self):
        response = self.client.post(
            reverse("signup"), {"username": "mina", "email": "m@example.com", "password1": "password", "password2": "password"}
        )
        self.assertContains(response, "This password is too common.", status_code=400)

    def test_a_taken_email_makes_no_second_account(self):
        User.objects.create_user("first", "same@example.com", "x")
        response = self.client.post(
            reverse("signup"),
            {"username": "second", "email": "SAME@example.com", "password1": "dog-portrait-42", "password2": "dog-portrait-42"},
        )
        self.assertRedirects(response, reverse("signup-sent"))
        self.assertEqual(list(User.objects.values_list("username", flat=True)), ["first"])


class LoginLogoutTests(TestCase):
    def setUp(self):
        self.user = User.objects.create_user("mina", "mina@example.com", "dog-portrait-42")

    def test_login_lands_on_the_gallery(self):
        response = self.client.post(reverse("login"), {"username": "mina", "password": "dog-portrait-42"})
        self.assertRedirects(response, reverse("gallery:index"))

    def test_wrong_password_shows_the_form_again(self):
        response = self.client.post(reverse("login"), {"username": "mina", "password": "nope"})
        self.assertContains(response, "Please enter a correct username and password")

    def test_the_gallery_sends_anonymous_visitors_to_log_in(self):
        response = self.client.get(reverse("gallery:index"))
        self.assertRedirects(response, reverse("login") + "?next=" + reverse("gallery:index"))

    def test_logout_by_get_does_not_log_out(self):
        self.client.force_login(self.user)
        response = self.client.get(reverse("logout"))
        self.assertEqual(response.status_code, 405)
        self.assertEqual(self.client.get(reverse("gallery:index")).status_code, 200)

    def test_logout_by_post_logs_out(self):
        self.client.force_login(self.user)
        response = self.client.post(reverse("logout"))
        self.assertRedirects(response, reverse("home"))
        self.assertEqual(self.client.get(reverse("gallery:index")).status_code, 302)


class PasswordTests(TestCase):
    def setUp(self):
        self.user = User.objects.create_user("mina", "mina@example.com", "dog-portrait-42")

    def test_change_password(self):
        self.client.force_login(self.user)
        response = self.client.post(
            reverse("password_change"),
            {"old_password": "dog-portrait-42", "new_password1": "puppy-face-77", "new_password2": "puppy-face-77"},
        )
        self.assertRedirects(response, reverse("password_change_done"))
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password("puppy-face-77"))

    def test_reset_password_by_email(self):
        self.client.post(reverse("password_reset"), {"email": "mina@example.com"})
        self.assertEqual(len(mail.outbox), 1)
        link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/password/reset/" in line)
        path = link.split("testserver", 1)[1]
        response = self.client.get(path, follow=True)  # Django swaps the token for a session marker
        form_path = response.redirect_chain[-1][0]
        response = self.client.post(form_path, {"new_password1": "puppy-face-77", "new_password2": "puppy-face-77"})
        self.assertRedirects(response, reverse("password_reset_complete"))
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password("puppy-face-77"))


class DeleteAccountTests(TestCase):
    def setUp(self):
        self.user = User.objects.create_user("mina", "mina@example.com", "dog-portrait-42")
        self.other = User.objects.create_user("joon", "joon@example.com", "dog-portrait-42")
        self.files = [self._photo_with_generation(self.user), self._photo_with_generation(self.other)]

    def _photo_with_generation(self, user):
        photo = Photo(owner=user, width=10, height=10)
        photo.image.save("x.jpg", ContentFile(b"jpeg"), save=False)
        photo.save()
        generation = Generation(owner=user, photo=photo, breed="pug")
        generation.result.save("x.png", ContentFile(b"png"), save=False)
        generation.save()
        return photo.image.name, generation.result.name

    def test_deleting_the_account_removes_rows_and_every_file(self):
        self.client.force_login(self.user)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("account-delete"), {"password": "dog-portrait-42"})
        self.assertRedirects(response, reverse("home"))
        self.assertFalse(User.objects.filter(username="mina").exists())
        self.assertFalse(Photo.objects.filter(owner__username="mina").exists())
        self.assertEqual(stored_names(), sorted(self.files[1]), "only the other user's files stay")

    def test_a_wrong_password_deletes_nothing(self):
        self.client.force_login(self.user)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("account-delete"), {"password": "wrong"})
        self.assertContains(response, "That is not your password.", status_code=400)
        self.assertTrue(User.objects.filter(username="mina").exists())
        self.assertEqual(stored_names(), sorted(self.files[0] + self.files[1]))


class AccountPageTests(TestCase):
    def setUp(self):
        self.user = User.objects.create_user("mina", "mina@example.com", "dog-portrait-42")
        self.client.force_login(self.user)

    def test_the_account_page_shows_usage_against_the_limits(self):
        from .factories import make_generation, make_photo

        make_generation(make_photo(self.user), status="running")
        response = self.client.get(reverse("account"))
        self.assertContains(response, "Dogs waiting or in the making")
        self.assertEqual(response.context["usage"][0][1:], (1, settings.FTA_MAX_ACTIVE_GENERATIONS))

    def test_the_account_page_counts_each_face_of_a_waiting_group_photo_as_one_dog(self):
        from .factories import make_generation, make_photo

        make_generation(make_photo(self.user), status="queued", faces=3)
        response = self.client.get(reverse("account"))
        self.assertEqual(response.context["usage"][0][1], 3)

    def test_download_all_my_data_is_a_zip_of_photos_dogs_and_parameters(self):
        import io
        import json
        import zipfile

        from .factories import make_generation, make_photo

        photo = make_photo(self.user)
        generation = make_generation(photo, status="succeeded", params={"steps": 20, "sampler": "Euler a"})
        generation.result.save("dog.png", ContentFile(b"png bytes"))
        make_photo(User.objects.create_user("joon"))  # someone else's, must not be included
        response = self.client.post(reverse("account-export"))
        self.assertEqual(response["Content-Type"], "application/zip")
        self.assertIn("attachment", response["Content-Disposition"])
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        self.assertEqual(sorted(archive.namelist()), sorted(["data.json", f"photos/{photo.pk}.jpg", f"dogs/{generation.pk}.png"]))
        data = json.loads(archive.read("data.json"))
        self.assertEqual(data["dogs"][0]["parameters"]["sampler"], "Euler a")
        self.assertEqual(archive.read(f"dogs/{generation.pk}.png"), b"png bytes")
