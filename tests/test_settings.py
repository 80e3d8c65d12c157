"""Start-up behaviour that only shows in a fresh process: production checks and the web's imports."""

import os
import subprocess
import sys
from pathlib import Path

from django.test import SimpleTestCase

from .processes import run_python

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    return run_python(
        f"import sys; sys.argv = {['manage.py', *args]!r}; import runpy; runpy.run_path('manage.py', run_name='__main__')", **env
    )


class ProductionSettingsTests(SimpleTestCase):
    def test_check_deploy_passes_with_debug_off_and_a_real_secret_key(self):
        secret = "k" * 20 + "9f8a7sd6f5a4s3d2f1gh0jk-lq_wer!ty"
        for https in ("0", "1"):
            with self.subTest(FTA_HTTPS=https):
                result = manage(
                    "check",
                    "--deploy",
                    "--fail-level",
                    "WARNING",
                    DJANGO_DEBUG="0",
                    DJANGO_SECRET_KEY=secret,
                    FTA_HTTPS=https,
                    FTA_ENV="production",
                )
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_https_mode_switches_on_secure_cookies_hsts_and_redirects(self):
        result = run_python(
            "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
            " s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0)",
            FTA_HTTPS="1",
        )
        self.assertEqual(result.stdout.split(), ["True"] * 4, result.stderr)

    def test_a_missing_secret_key_in_production_stops_start_up_with_one_line(self):
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
        result = subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={**env, "FTA_ENV": "production", "DJANGO_SETTINGS_MODULE": "facetoanimals.settings"},
        )
        self.assertEqual(result.returncode, 1)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("DJANGO_SECRET_KEY must be set", result.stderr)
        self.assertNotIn("Traceback", result.stderr)

    def test_a_misspelt_boolean_stops_start_up_with_one_line_naming_it(self):
        result = manage("check", FTA_HTTPS="ture")
        self.assertNotEqual(result.returncode, 0)
        last_line = result.stderr.strip().splitlines()[-1]
        self.assertIn("ImproperlyConfigured: FTA_HTTPS='ture' is not a boolean", last_line)


class TestSettingsTests(SimpleTestCase):
    def test_the_test_settings_keep_out_of_the_checkout_and_remove_their_folder(self):
        fresh = {k: v for k, v in os.environ.items() if k not in ("FTA_TEST_DIR", "FTA_VAR_DIR", "FTA_MEDIA_ROOT")}
        fresh.pop("DJANGO_SECRET_KEY", None)
        code = "from django.conf import settings as s; print(s.SECRET_KEY and s.VAR_DIR, s.MEDIA_ROOT, s.STATIC_ROOT)"
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**fresh, "DJANGO_SETTINGS_MODULE": "tests.settings"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        folders = [Path(folder) for folder in result.stdout.split()]
        self.assertEqual(len(folders), 3)
        for folder in folders:
            self.assertNotIn(ROOT, folder.parents)
            self.assertFalse(folder.exists(), f"{folder} outlived the process")


class StorageSettingsTests(SimpleTestCase):
    def test_an_unknown_storage_stops_start_up_with_one_line(self):
        result = manage("check", FTA_STORAGE="s4")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.strip(), "Facetoanimals: FTA_STORAGE must be one of local, s3, not 's4'.")

    def test_s3_storage_without_a_bucket_stops_start_up_with_one_line(self):
        result = manage("check", FTA_STORAGE="s3", FTA_S3_BUCKET="")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.strip(), "Facetoanimals: FTA_S3_BUCKET must be set when FTA_STORAGE=s3.")

    def test_apache_sendfile_with_s3_storage_stops_start_up_with_one_line(self):
        result = manage("check", FTA_STORAGE="s3", FTA_S3_BUCKET="media", FTA_SENDFILE="apache")
        self.assertEqual(result.returncode, 1)
        self.assertIn("FTA_SENDFILE=apache needs files on local disk", result.stderr)

    def test_a_metrics_address_that_is_not_one_stops_start_up_with_one_line(self):
        result = manage("check", FTA_METRICS_ALLOWED="10.0.0.0/8,prometheus.internal")
        self.assertEqual(result.returncode, 1)
        self.assertIn("FTA_METRICS_ALLOWED: 'prometheus.internal' is not an address or network.", result.stderr)


WEB_IMPORTS_PROBE = """
import sys
from django.core.wsgi import get_wsgi_application
from django.test import Client
application = get_wsgi_application()
from django.contrib.auth.models import User
from django.core.management import call_command
call_command("migrate", verbosity=0)
user = User.objects.create_user("probe", password="pw")
client = Client(HTTP_HOST="localhost")
for url in ("/", "/accounts/login/", "/accounts/signup/"):
    assert client.get(url).status_code == 200, url
client.force_login(user)
for url in URLS:
    assert client.get(url).status_code in (200, 404), url
from django.core.files.uploadedfile import SimpleUploadedFile
from tests import sample_images
photo_page = client.post("/photos/new/", {"image": SimpleUploadedFile("me.jpg", sample_images.portrait_jpeg())})["Location"]
assert client.get(photo_page).status_code == 200
generation_page = client.post(photo_page + "generate/", {"face": 0, "breed": "auto"})["Location"]
assert client.get(generation_page).status_code == 200
assert client.get(generation_page + "status.json").status_code == 200
group_page = client.post(photo_page + "generate-group/")["Location"]
assert client.get(group_page).status_code == 200
heavy = sorted(name for name in ("torch", "diffusers", "transformers", "controlnet_aux") if name in sys.modules)
print("HEAVY:", ",".join(heavy))
"""


class WebProcessImportsTests(SimpleTestCase):
    def test_serving_pages_never_imports_torch_diffusers_or_controlnet_aux(self):
        """Upload (faces, breed suggestion), photo page, generate, group and status: the web's whole path."""
        urls = ["/gallery/", "/accounts/", "/showcase/"]
        result = run_python(
            f"URLS = {urls!r}\n" + WEB_IMPORTS_PROBE,
            DJANGO_SETTINGS_MODULE="tests.settings",
            DATABASE_URL="sqlite:///:memory:",
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertIn("HEAVY: \n", result.stdout)


class DocumentationTests(SimpleTestCase):
    def test_every_environment_variable_the_settings_read_is_documented_in_the_readme(self):
        import re

        settings_source = (ROOT / "facetoanimals" / "settings.py").read_text()
        # \s* so that a read spread over several lines counts too.
        read = set(re.findall(r'(?:env_\w+|os\.environ\.get)\(\s*"([A-Z_]+)"', settings_source))
        self.assertIn("FTA_EMAIL_BACKEND", read)
        readme = (ROOT / "README.md").read_text()
        self.assertEqual({name for name in read if f"`{name}`" not in readme}, set())
