import os
import subprocess
import sys
from pathlib import Path

from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import TestCase
from django.urls import reverse

from .factories import make_user

ROOT = Path(__file__).resolve().parent.parent
HTTPS_COOKIE_PROBE = """
import django
django.setup()
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
User.objects.create_user("mina", password="dog-portrait-42")
client = Client(HTTP_HOST="localhost")
page = client.get("/accounts/login/", secure=True)
response = client.post("/accounts/login/", {"username": "mina", "password": "dog-portrait-42"}, secure=True)
assert response.status_code == 302, response.status_code
for name, cookie in (("session", response.cookies["sessionid"]), ("csrf", page.cookies["csrftoken"])):
    print(name + ":", "secure" if cookie["secure"] else "", "httponly" if cookie["httponly"] and name == "session" else "")
"""


class LoginThrottlingTests(TestCase):
    def setUp(self):
        make_user("mina")

    def fail_logins(self, n, username="mina", ip="10.0.0.1"):
        for _ in range(n):
            response = self.client.post(reverse("login"), {"username": username, "password": "wrong"}, REMOTE_ADDR=ip)
        return response

    def test_repeated_failures_for_one_username_from_one_address_lock_that_pair_with_a_clear_message(self):
        response = self.fail_logins(5, ip="10.0.0.1")
        self.assertContains(response, "Too many failed log-ins", status_code=429)
        # Even the right password is refused from that address while locked.
        response = self.client.post(reverse("login"), {"username": "mina", "password": "dog-portrait-42"}, REMOTE_ADDR="10.0.0.1")
        self.assertEqual(response.status_code, 429)

    def test_staff_can_unlock_in_the_admin(self):
        self.fail_logins(5)
        self.assertTrue(AccessAttempt.objects.exists())
        admin = User.objects.create_superuser("boss", "boss@example.com", "pw")
        self.client.force_login(admin)
        changelist = reverse("admin:axes_accessattempt_changelist")
        self.assertContains(self.client.get(changelist), "mina")
        ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
        response = self.client.post(changelist, {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
        self.assertRedirects(response, changelist)
        self.client.logout()
        response = self.client.post(reverse("login"), {"username": "mina", "password": "dog-portrait-42"}, REMOTE_ADDR="10.0.0.1")
        self.assertEqual(response.status_code, 302)


class HeaderTests(TestCase):
    def test_every_page_carries_the_security_headers(self):
        response = self.client.get(reverse("home"))
        csp = response["Content-Security-Policy"]
        self.assertIn("script-src 'self'", csp)
        self.assertNotIn("unsafe-inline", csp.split("script-src")[1].split(";")[0])
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(response["X-Frame-Options"], "DENY")
        self.assertEqual(response["Referrer-Policy"], "same-origin")

    def test_no_template_has_an_inline_script(self):
        from pathlib import Path

        for template in Path(__file__).resolve().parent.parent.joinpath("templates").rglob("*.html"):
            text = template.read_text()
            self.assertNotRegex(text, r"<script(?![^>]*\bsrc=)[^>]*>", template.name)
            self.assertNotRegex(text, r"\son(click|load|submit|change)=", template.name)

    def test_cookies_are_secure_and_http_only_with_fta_https_on(self):
        """FTA_HTTPS=1 read by a fresh settings import, as at start-up (not settings overridden by the test)."""
        result = subprocess.run(
            [sys.executable, "-c", HTTPS_COOKIE_PROBE],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "DATABASE_URL": "sqlite:///:memory:",
                "FTA_HTTPS": "1",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertEqual(result.stdout.split(), ["session:", "secure", "httponly", "csrf:", "secure"])

    def test_forms_are_csrf_protected(self):
        client = self.client_class(enforce_csrf_checks=True)
        response = client.post(reverse("signup"), {"username": "x"})
        self.assertEqual(response.status_code, 403)
