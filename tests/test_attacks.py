"""What a hostile user tried against the running app, and what they get now (docs/SECURITY.md).

Each test class is one attack from the hardening round; each test name says the outcome.
"""

import io
import re
import socket
import struct
import time
import zlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from gallery.forms import upload_refusal_message
from gallery.models import Generation, Photo
from gallery.slow_bodies import GRACE_SECONDS
from transform.uploads import UploadRejected, clean_upload

from . import sample_images as samples
from .factories import finished, make_photo, make_user
from .processes import gunicorn

ROOT = Path(__file__).resolve().parent.parent


class StaffWithoutPermissionTests(TestCase):
    """1. A staff account with no permissions asks for other users' photos, face crops and the queue."""

    def setUp(self):
        self.photo = make_photo(make_user("owner"))
        self.generation = finished(self.photo)
        self.files = [
            reverse("gallery:photo-image", args=[self.photo.pk]),
            reverse("gallery:photo-thumbnail", args=[self.photo.pk]),
            reverse("gallery:generation-face", args=[self.generation.pk]),
            reverse("gallery:generation-result", args=[self.generation.pk]),
        ]

    def test_bare_staff_get_404_for_every_persons_file(self):
        self.client.force_login(make_user("staff", is_staff=True))
        for url in self.files:
            self.assertEqual(self.client.get(url).status_code, 404, url)

    def test_staff_in_the_reviewers_group_see_them(self):
        reviewer = make_user("reviewer", is_staff=True)
        reviewer.groups.add(Group.objects.get(name="Reviewers"))
        self.client.force_login(reviewer)
        for url in self.files:
            self.assertEqual(self.client.get(url).status_code, 200, url)

    def test_bare_staff_get_403_from_the_queue_dashboard(self):
        self.client.force_login(make_user("staff", is_staff=True))
        self.assertEqual(self.client.get(reverse("django_rq:home")).status_code, 403)
        self.assertEqual(self.client.get(reverse("django_rq:home_json")).status_code, 403)

    def test_reviewers_see_the_queue_dashboard(self):
        reviewer = make_user("reviewer", is_staff=True)
        reviewer.groups.add(Group.objects.get(name="Reviewers"))
        self.client.force_login(reviewer)
        self.assertEqual(self.client.get(reverse("django_rq:home")).status_code, 200)


class DeleteAndUploadAgainTests(TestCase):
    """2. Delete what was made to get the hourly allowance back; sign up many accounts to multiply it."""

    def setUp(self):
        self.user = make_user()
        self.client.force_login(self.user)

    @override_settings(FTA_UPLOADS_PER_HOUR=2)
    def test_deleted_photos_still_count_against_the_hourly_upload_limit(self):
        for _ in range(2):
            self.client.post(reverse("gallery:upload"), {"image": SimpleUploadedFile("me.jpg", samples.portrait_jpeg())})
            Photo.objects.get().delete()
        response = self.client.post(reverse("gallery:upload"), {"image": SimpleUploadedFile("me.jpg", samples.portrait_jpeg())})
        self.assertContains(response, "the most we allow", status_code=429)
        self.assertFalse(Photo.objects.exists())

    @override_settings(FTA_GENERATIONS_PER_HOUR=2)
    def test_deleted_dogs_still_count_against_the_hourly_generation_limit(self):
        photo = make_photo(self.user)
        url = reverse("gallery:generate", args=[photo.pk])
        for _ in range(2):
            self.client.post(url, {"face": 0, "breed": "pug"})
            Generation.objects.all().delete()
        response = self.client.post(url, {"face": 0, "breed": "pug"})
        self.assertContains(response, "the most we allow", status_code=429)
        self.assertFalse(Generation.objects.exists())

    @override_settings(FTA_SIGNUPS_PER_HOUR=3)
    def test_sign_ups_from_one_address_stop_at_the_hourly_limit(self):
        self.client.logout()
        for i in range(3):
            self.assertEqual(signup(self.client, f"bot{i}", "10.5.5.5").status_code, 302)
        response = signup(self.client, "bot3", "10.5.5.5")
        self.assertContains(response, "Too many sign-ups", status_code=429)
        self.assertFalse(User.objects.filter(username="bot3").exists())
        self.assertEqual(signup(self.client, "neighbour", "10.6.6.6").status_code, 302)


def signup(client, username, address, email=None):
    data = {
        "username": username,
        "email": email or f"{username}@example.com",
        "password1": "dog-portrait-42",
        "password2": "dog-portrait-42",
    }
    return client.post(reverse("signup"), data, REMOTE_ADDR=address)


@override_settings(FTA_PASSWORD_RESETS_PER_HOUR=3)
class UnthrottledPasswordFormsTests(TestCase):
    """3. Twenty password resets in a row; guessing the current password on signed-in forms."""

    def setUp(self):
        self.user = make_user("mina")

    def test_twenty_reset_requests_send_only_the_hourly_limit_of_mails(self):
        for _ in range(20):
            response = self.client.post(reverse("password_reset"), {"email": "mina@example.com"})
        self.assertContains(response, "Too many password reset requests", status_code=429)
        self.assertEqual(len(mail.outbox), 3)

    def test_guessing_the_current_password_to_change_it_answers_429(self):
        self.client.force_login(self.user)
        for i in range(5):
            self.client.post(
                reverse("password_change"),
                {"old_password": f"guess{i}", "new_password1": "new-dog-portrait-7", "new_password2": "new-dog-portrait-7"},
            )
        response = self.client.post(
            reverse("password_change"),
            {"old_password": "dog-portrait-42", "new_password1": "new-dog-portrait-7", "new_password2": "new-dog-portrait-7"},
        )
        self.assertContains(response, "Too many wrong passwords", status_code=429)
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password("dog-portrait-42"))

    def test_guessing_the_password_to_delete_the_account_answers_429(self):
        self.client.force_login(self.user)
        for i in range(5):
            self.client.post(reverse("account-delete"), {"password": f"guess{i}"})
        response = self.client.post(reverse("account-delete"), {"password": "dog-portrait-42"})
        self.assertContains(response, "Too many wrong passwords", status_code=429)
        self.assertTrue(User.objects.filter(pk=self.user.pk).exists())


class LockOutSomeoneElseTests(TestCase):
    """4. Five wrong passwords for someone else's user name, to lock them (and an address) out."""

    def setUp(self):
        make_user("mina")

    def fail(self, username, address):
        return self.client.post(reverse("login"), {"username": username, "password": "wrong"}, REMOTE_ADDR=address)

    def log_in(self, address):
        return self.client.post(reverse("login"), {"username": "mina", "password": "dog-portrait-42"}, REMOTE_ADDR=address)

    def test_a_strangers_failures_do_not_lock_the_user_out_of_their_own_address(self):
        for _ in range(5):
            self.fail("mina", "10.9.9.9")
        self.assertEqual(self.fail("mina", "10.9.9.9").status_code, 429)
        self.assertEqual(self.log_in("10.1.1.1").status_code, 302)

    def test_failures_for_other_names_do_not_lock_out_everyone_at_that_address(self):
        for i in range(5):
            self.fail(f"guess{i}", "10.9.9.9")
        self.assertEqual(self.log_in("10.9.9.9").status_code, 302)


def png_header_only(width, height):
    """A PNG signature and IHDR chunk for any size, and no pixels: the header is all a check may read."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


def png_whole(width, height):
    buffer = io.BytesIO()
    Image.new("L", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_with_size(width, height):
    """A real small JPEG whose frame header claims width × height (a JPEG side is at most 65,535)."""
    data = bytearray(samples.encode(Image.new("RGB", (8, 8)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def webp_with_size(width, height):
    """A VP8X (extended) WebP header for any size up to 2^24, and no image data."""
    vp8x = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


LONG_SIDES = (65_535, 65_536)
SHAPES = [shape for n in LONG_SIDES for shape in ((1, n), (n, 1), (64, n), (n, 64))]


class HugeSideTests(TestCase):
    """5. A PNG of 64 × 70,000 pixels: 4.5 megapixels, under the pixel limit, but too long for JPEG."""

    def test_the_upload_is_refused_with_a_sentence(self):
        self.client.force_login(make_user())
        upload = SimpleUploadedFile("long.png", png_whole(64, 70_000))
        response = self.client.post(reverse("gallery:upload"), {"image": upload})
        self.assertContains(response, "more than 65500 pixels long on one side", status_code=400)
        self.assertFalse(Photo.objects.exists())


# 5, continued: every refusal path (pixel count, smallest side, longest side, damaged data) against
# one-pixel-wide and 65,535/65,536-long shapes, whole files and bare headers alike.
@settings(max_examples=40, deadline=None)
@given(
    shape=st.sampled_from(SHAPES),
    make=st.sampled_from([png_header_only, png_whole, jpeg_with_size, webp_with_size]),
    max_pixels=st.sampled_from([1_000_000, 40_000_000]),
    min_side=st.sampled_from([1, 64]),
)
def test_every_refusal_path_refuses_one_pixel_wide_and_sixty_five_thousand_long_shapes(shape, make, max_pixels, min_side):
    width, height = shape
    if make is jpeg_with_size and max(shape) > 65_535:
        shape = (min(width, 65_535), min(height, 65_535))
    data = make(*shape)
    with pytest.raises(UploadRejected) as refused:
        clean_upload(io.BytesIO(data), "x", max_bytes=20 * 2**20, max_pixels=max_pixels, min_side=min_side)
    assert re.fullmatch(r"[^\n]+\.", upload_refusal_message(refused.value))


class BarePageTests(TestCase):
    """6. Requests Django cannot parse: a 5000-character file name, 150 file parts, a 22 MB form."""

    def setUp(self):
        self.client.force_login(make_user())

    def test_a_five_thousand_character_file_name_gets_our_400_page_with_a_sentence(self):
        # Built by hand: Django's own upload objects cut names to 255 characters.
        body = (
            b"--X\r\n"
            + b'Content-Disposition: form-data; name="image"; filename="'
            + b"a" * 5000
            + b'.jpg"\r\n'
            + b"Content-Type: image/jpeg\r\n\r\n"
            + samples.portrait_jpeg()
            + b"\r\n--X--\r\n"
        )
        response = self.client.generic("POST", reverse("gallery:upload"), body, content_type="multipart/form-data; boundary=X")
        self.assertContains(response, "with a shorter name", status_code=400)
        self.assertFalse(Photo.objects.exists())

    def test_a_hundred_and_fifty_file_parts_get_our_400_page_with_a_sentence(self):
        files = {f"image{i}": SimpleUploadedFile(f"{i}.jpg", b"x") for i in range(150)}
        response = self.client.post(reverse("gallery:upload"), files)
        self.assertContains(response, "too many files at once", status_code=400)

    def test_a_22_megabyte_form_gets_our_400_page_with_a_sentence(self):
        body = "note=" + "x" * (22 * 2**20)
        response = self.client.generic("POST", reverse("gallery:upload"), body, content_type="application/x-www-form-urlencoded")
        self.assertContains(response, "too large to read", status_code=400)


class MalformedInputTests(TestCase):
    """7. Malformed ids for the staff review page, and a non-ASCII token for the queue's JSON."""

    def setUp(self):
        self.client.force_login(make_user("boss", is_staff=True, is_superuser=True))

    def test_a_malformed_skipped_id_is_ignored(self):
        response = self.client.get(reverse("admin:gallery_generation_review") + "?skipped=not-a-uuid")
        self.assertEqual(response.status_code, 200)

    def test_a_malformed_generation_id_says_so_and_shows_the_next(self):
        response = self.client.post(
            reverse("admin:gallery_generation_review"), {"generation": "not-a-uuid", "decision": "approved"}, follow=True
        )
        self.assertContains(response, "no longer exists")

    def test_a_non_ascii_queue_token_sends_anonymous_visitors_to_log_in(self):
        self.client.logout()
        response = self.client.get("/admin/rq/stats.json/%C3%A9/")
        self.assertRedirects(response, "/admin/login/?next=/admin/rq/stats.json/%25C3%25A9/", fetch_redirect_response=False)

    def test_a_non_ascii_queue_token_is_404_for_staff(self):
        self.assertEqual(self.client.get("/admin/rq/stats.json/%C3%A9/").status_code, 404)


class SharedDeviceCacheTests(TestCase):
    """8. Log out (or delete) on a shared device, then look in the browser's cache."""

    def setUp(self):
        owner = make_user()
        self.client.force_login(owner)
        self.photo = make_photo(owner)
        self.generation = finished(self.photo)

    def test_photos_and_face_crops_are_never_stored(self):
        for url in (
            reverse("gallery:photo-image", args=[self.photo.pk]),
            reverse("gallery:photo-thumbnail", args=[self.photo.pk]),
            reverse("gallery:generation-face", args=[self.generation.pk]),
        ):
            self.assertEqual(self.client.get(url)["Cache-Control"], "no-store", url)

    def test_dogs_are_kept_privately_for_a_minute_at_most(self):
        response = self.client.get(reverse("gallery:generation-result", args=[self.generation.pk]))
        self.assertEqual(response["Cache-Control"], "private, max-age=60")


class EmailProbeTests(TestCase):
    """9. Sign up with someone's email address to learn whether it has an account."""

    def test_a_known_and_an_unknown_email_get_the_same_answer(self):
        make_user("mina")
        known = signup(self.client, "probe1", "10.0.0.1", email="MINA@example.com")
        unknown = signup(self.client, "probe2", "10.0.0.1", email="nobody@example.com")
        self.assertEqual((known.status_code, known["Location"]), (unknown.status_code, unknown["Location"]))
        self.assertFalse(User.objects.filter(username="probe1").exists())

    def test_the_owner_of_a_known_email_is_told_someone_tried(self):
        make_user("mina")
        signup(self.client, "probe1", "10.0.0.1", email="MINA@example.com")
        self.assertEqual(mail.outbox[0].to, ["mina@example.com"])
        self.assertIn("Someone tried to sign up", mail.outbox[0].body)

    def test_a_new_account_opens_only_through_the_link_in_its_mail(self):
        signup(self.client, "newcomer", "10.0.0.1")
        login = {"username": "newcomer", "password": "dog-portrait-42"}
        self.assertEqual(self.client.post(reverse("login"), login).status_code, 200)  # not active yet
        link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
        opened = self.client.post(link, {"password": "dog-portrait-42"})
        self.assertRedirects(opened, reverse("gallery:index"), fetch_redirect_response=False)
        self.client.logout()
        self.assertEqual(self.client.get(link).status_code, 400)  # a used link is no use again


class SlowBodyTests(TestCase):
    """10. Two connections trickle one byte every 2 s (measured by bench/slow_body.py, docs/SECURITY.md)."""

    def test_gunicorn_listens_on_loopback_only_with_threads_and_a_short_timeout(self):
        command = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
        self.assertIn("--bind 127.0.0.1:", command)
        self.assertIn("--worker-class gthread", command)
        self.assertRegex(command, r"--timeout [0-9]+\b")
        self.assertLessEqual(int(re.search(r"--timeout ([0-9]+)", command).group(1)), 15)


def test_a_trickled_body_the_app_leaves_unread_is_cut_off_at_once(tmp_path, transactional_db):
    """10, against gunicorn itself: a login POST without its CSRF cookie is refused unread; the trickle
    behind it used to hold the thread while gunicorn drained it, a byte every 2 s."""
    with gunicorn(tmp_path / "gunicorn.log", workers=1) as url:
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5) as conn:
            conn.sendall(
                b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
            )
            started = time.monotonic()
            with pytest.raises(OSError):
                while time.monotonic() - started < 20:
                    conn.sendall(b"a")
                    time.sleep(0.5)
            assert time.monotonic() - started < 10


def test_a_body_the_app_reads_is_cut_off_once_it_falls_below_the_minimum_rate(tmp_path, transactional_db):
    """10, continued: with a CSRF cookie the login form's body is read, a byte every 2 s, until the
    guard's grace runs out; the visitor gets the 400 page with its sentence."""
    with gunicorn(tmp_path / "gunicorn.log", workers=1) as url:
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5) as conn:
            conn.sendall(
                b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: csrftoken=" + b"a" * 32 + b"\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
            )
            started = time.monotonic()
            conn.settimeout(2.5)
            answer = b""
            while time.monotonic() - started < 30 and b"too slowly" not in answer:
                try:
                    conn.sendall(b"a")
                    answer += conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
            assert time.monotonic() - started < GRACE_SECONDS + 5
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"Your connection sent that too slowly" in answer
