"""The development outbox: a newcomer with no mail server reaches the gallery by pages alone; each browser
sees only the mail its own requests sent to its own accounts; production has no outbox at all."""

import re

from django.contrib.auth.models import User
from django.core import signing
from django.test import Client, TestCase, override_settings

from gallery.dev_outbox import BACKEND, COOKIE

from .processes import run_python

SIGNUP = {"username": "mina", "email": "mina@example.com", "password1": "dog-portrait-42", "password2": "dog-portrait-42"}


def outbox_links(client):
    page = client.get("/dev/outbox/").content.decode()
    return re.findall(r'href="(https?://[^"]+)"', page)


@override_settings(FTA_ENV="development", EMAIL_BACKEND=BACKEND)
class DevelopmentOutboxTests(TestCase):
    def test_check_your_email_links_to_the_outbox_whose_link_activates_the_account(self):
        response = self.client.post("/accounts/signup/", SIGNUP, follow=True)
        self.assertContains(response, "Check your email")
        self.assertContains(response, 'href="/dev/outbox/"')
        (link,) = outbox_links(self.client)
        self.assertContains(self.client.get(link), "Finish signing up")
        response = self.client.post(link, {"password": SIGNUP["password1"]}, follow=True)
        self.assertContains(response, "Signed in as mina")
        self.assertContains(response, "No dogs yet")

    def test_the_outbox_lists_the_mail_with_its_subject_and_recipient(self):
        self.client.post("/accounts/signup/", SIGNUP)
        page = self.client.get("/dev/outbox/")
        self.assertContains(page, "Your Facetoanimals sign-up")
        self.assertContains(page, "mina@example.com")
        self.assertEqual(page["Cache-Control"], "max-age=0, no-cache, no-store, must-revalidate, private")

    def test_another_browser_sees_none_of_it(self):
        self.client.post("/accounts/signup/", SIGNUP)
        stranger = Client()
        page = stranger.get("/dev/outbox/")
        self.assertContains(page, "No mail for this browser yet.")
        self.assertNotContains(page, "mina@example.com")

    def test_a_password_reset_for_someone_elses_address_stays_out_of_the_requesters_outbox(self):
        User.objects.create_user("victim", "victim@example.com", "dog-portrait-42")
        self.client.post("/accounts/password/reset/", {"email": "victim@example.com"})
        self.assertEqual(outbox_links(self.client), [])
        self.assertNotIn(COOKIE, self.client.cookies)

    def test_signing_up_with_a_taken_address_shows_its_owners_warning_to_nobody(self):
        User.objects.create_user("victim", "mina@example.com", "dog-portrait-42")
        self.client.post("/accounts/signup/", {**SIGNUP, "username": "mallory"})
        self.assertContains(self.client.get("/dev/outbox/"), "No mail for this browser yet.")

    def test_a_password_reset_for_an_account_this_browser_made_is_shown(self):
        self.client.post("/accounts/signup/", SIGNUP)
        self.client.post("/accounts/password/reset/", {"email": "mina@example.com"})
        # No account exists before the sign-up is opened, so no reset mail was sent; open it, log out, then ask.
        (link,) = outbox_links(self.client)
        self.client.post(link, {"password": SIGNUP["password1"]})
        self.client.post("/accounts/logout/")
        self.client.post("/accounts/password/reset/", {"email": "mina@example.com"})
        links = outbox_links(self.client)
        self.assertEqual(len(links), 2)
        self.assertIn("/accounts/password/reset/", links[0])

    def test_a_forged_cookie_is_ignored(self):
        forged = signing.dumps({"mails": [{"to": "x", "subject": "Forged", "body": "http://evil.example/"}]}, salt="other")
        self.client.cookies[COOKIE] = forged
        page = self.client.get("/dev/outbox/")
        self.assertNotContains(page, "Forged")
        self.client.cookies[COOKIE] = "not even signed" * 500
        self.assertContains(self.client.get("/dev/outbox/"), "No mail for this browser yet.")

    def test_mail_bodies_are_shown_as_text_never_as_html(self):
        value = signing.dumps(
            {"mails": [{"to": "mina@example.com", "subject": "<b>s</b>", "body": "<script>alert(1)</script>"}]},
            salt="facetoanimals.dev-outbox",
            compress=True,
        )
        self.client.cookies[COOKIE] = value
        page = self.client.get("/dev/outbox/").content.decode()
        self.assertNotIn("<script>alert(1)</script>", page)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page)


@override_settings(FTA_ENV="production", EMAIL_BACKEND=BACKEND)
class ProductionHasNoOutboxTests(TestCase):
    def test_the_outbox_page_is_not_found(self):
        self.assertEqual(self.client.get("/dev/outbox/").status_code, 404)

    def test_signing_up_keeps_no_mail_for_the_browser_and_links_to_no_outbox(self):
        response = self.client.post("/accounts/signup/", SIGNUP, follow=True)
        self.assertContains(response, "Check your email")
        self.assertNotContains(response, "/dev/outbox/")
        self.assertNotIn(COOKIE, self.client.cookies)


def test_without_a_mail_server_development_uses_the_outbox_and_production_the_console_alone():
    code = "from django.conf import settings; import django; django.setup(); print(settings.EMAIL_BACKEND)"
    base = {"FTA_EMAIL_HOST": "", "FTA_EMAIL_BACKEND": "", "DJANGO_SECRET_KEY": "x" * 50}  # empty: unset
    development = run_python(code, **base, FTA_ENV="development")
    production = run_python(code, **base, FTA_ENV="production")
    assert development.stdout.strip() == BACKEND, development.stderr
    assert production.stdout.strip() == "django.core.mail.backends.console.EmailBackend", production.stderr
