"""Start-up behaviour that only shows in a fresh process: production checks and the web's imports."""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

from django.test import SimpleTestCase, override_settings

from facetoanimals import env
from facetoanimals.checks import refuse_start_up_on_errors
from facetoanimals.env import StartUpRefused

from .processes import free_port, run_python

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    return run_python(
        f"import sys; sys.argv = {['manage.py', *args]!r}; import runpy; runpy.run_path('manage.py', run_name='__main__')", **env
    )


class StartUpRefusals:
    def assertStartUpRefused(self, result, message):
        """Exactly one line on stderr, naming the variable and what it accepts; no traceback."""
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stderr.splitlines(), [f"Facetoanimals: {message}"])


class ProductionSettingsTests(StartUpRefusals, SimpleTestCase):
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

    def test_a_missing_secret_key_in_production_stops_start_up_and_writes_none(self):
        with tempfile.TemporaryDirectory() as var:
            result = manage("check", DJANGO_SECRET_KEY="", FTA_ENV="production", FTA_VAR_DIR=var)
            self.assertEqual(result.returncode, 1)
            self.assertIn("(facetoanimals.E001) DJANGO_SECRET_KEY must be set when FTA_ENV=production.", result.stderr)
            self.assertIn("HINT: Generate one with: python -c", result.stderr)
            self.assertNotIn("Traceback", result.stderr)
            self.assertFalse((Path(var) / "secret_key").exists())

    def test_a_misspelt_environment_stops_start_up_instead_of_running_as_development(self):
        with tempfile.TemporaryDirectory() as var:
            result = manage("check", DJANGO_SECRET_KEY="", FTA_ENV="prod", FTA_VAR_DIR=var)
            self.assertStartUpRefused(result, "FTA_ENV must be one of development, production, not 'prod'.")
            self.assertFalse((Path(var) / "secret_key").exists(), "a development key was written")

    def test_debug_pages_in_production_stop_start_up(self):
        result = manage("check", DJANGO_SECRET_KEY="x" * 50, FTA_ENV="production", DJANGO_DEBUG="1")
        self.assertEqual(result.returncode, 1)
        self.assertIn("(facetoanimals.E005) DJANGO_DEBUG is on with FTA_ENV=production", result.stderr)


class BadValueTests(StartUpRefusals, SimpleTestCase):
    """Values that were accepted, or refused with a 28-line traceback: one line each now."""

    def test_a_misspelt_boolean(self):
        self.assertStartUpRefused(
            manage("check", FTA_HTTPS="ture"),
            "FTA_HTTPS must be a boolean (1, true, yes, on, 0, false, no or off, any case), not 'ture'.",
        )

    def test_a_duration_with_a_unit(self):
        self.assertStartUpRefused(
            manage("check", FTA_JOB_TIMEOUT="10m"), "FTA_JOB_TIMEOUT must be a whole number of seconds, 1 or more, not '10m'."
        )

    def test_an_unknown_device(self):
        self.assertStartUpRefused(
            manage("check", FTA_DEVICE="gpu"), "FTA_DEVICE must be auto, cpu, cuda or cuda:N (N: a GPU's index), not 'gpu'."
        )

    def test_a_misspelt_front_server(self):
        self.assertStartUpRefused(
            manage("check", FTA_SENDFILE="ngnix"), "FTA_SENDFILE must be one of empty, nginx, apache, not 'ngnix'."
        )

    def test_a_batch_of_none(self):
        self.assertStartUpRefused(manage("check", FTA_MAX_BATCH="0"), "FTA_MAX_BATCH must be a whole number, 1 or more, not '0'.")

    def test_an_unknown_storage(self):
        self.assertStartUpRefused(manage("check", FTA_STORAGE="s4"), "FTA_STORAGE must be one of local, s3, not 's4'.")

    def test_a_metrics_address_that_is_not_one(self):
        self.assertStartUpRefused(
            manage("check", FTA_METRICS_ALLOWED="10.0.0.0/8,prometheus.internal"),
            "FTA_METRICS_ALLOWED must be comma-separated IP addresses or networks (CIDR), not 'prometheus.internal'.",
        )

    def test_a_database_url_is_refused_without_showing_its_password(self):
        result = manage("check", DATABASE_URL="mysqlx://app:hunter2@db.internal/fta")
        self.assertStartUpRefused(
            result,
            "DATABASE_URL must be a database URL such as postgres://user@host/db or sqlite:///path, not one starting mysqlx://.",
        )


class StartUpCommandsTests(StartUpRefusals, SimpleTestCase):
    """The same one line whichever way the app starts: the worker, and gunicorn as the Procfile runs it."""

    def test_the_worker_stops_with_one_line(self):
        self.assertStartUpRefused(
            manage("rqworker", "gpu", "--burst", FTA_JOB_TIMEOUT="10m"),
            "FTA_JOB_TIMEOUT must be a whole number of seconds, 1 or more, not '10m'.",
        )

    def web(self, **env):
        """The Procfile's web line, run as honcho runs it (a shell), on a free port; stops within a minute."""
        command = next(line[len("web:") :] for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
        with tempfile.TemporaryDirectory() as var:
            (Path(var) / "static").mkdir()  # as collectstatic leaves it: whitenoise warns otherwise
            env = {
                **os.environ,
                "DJANGO_SECRET_KEY": "",
                "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
                "DJANGO_SETTINGS_MODULE": "facetoanimals.settings",
                "FTA_VAR_DIR": var,
                "FTA_PORT": str(free_port()),
                **env,
            }
            return subprocess.run(
                ["bash", "-c", f"exec {command}"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
            )

    def test_gunicorn_stops_with_one_line_instead_of_restarting_its_workers(self):
        result = self.web(FTA_MAX_BATCH="0")
        self.assertEqual(result.returncode, 4, result.stderr)  # gunicorn's "app failed to load"
        self.assertEqual(result.stderr.splitlines(), ["Facetoanimals: FTA_MAX_BATCH must be a whole number, 1 or more, not '0'."])

    def test_gunicorn_runs_the_system_checks_and_stops_with_one_line_per_error(self):
        result = self.web(FTA_STORAGE="s3", FTA_S3_BUCKET="", FTA_SENDFILE="apache")
        self.assertEqual(result.returncode, 4, result.stderr)
        lines = result.stderr.splitlines()
        self.assertEqual(
            [line.split(")")[0] for line in lines], ["Facetoanimals: (facetoanimals.E002", "Facetoanimals: (facetoanimals.E003"]
        )
        self.assertTrue(all(" Hint: " in line for line in lines), lines)


class SystemChecksTests(SimpleTestCase):
    def test_every_problem_of_the_configuration_shows_at_once_each_with_a_hint(self):
        result = manage(
            "check",
            DJANGO_SECRET_KEY="",
            FTA_ENV="production",
            DJANGO_DEBUG="1",
            FTA_STORAGE="s3",
            FTA_S3_BUCKET="",
            FTA_SENDFILE="apache",
        )
        self.assertEqual(result.returncode, 1, result.stderr)
        found = re.findall(r"\((facetoanimals\.[EW]\d+)\)", result.stderr)
        self.assertEqual(found, ["facetoanimals.E001", "facetoanimals.E002", "facetoanimals.E003", "facetoanimals.E005"])
        self.assertEqual(result.stderr.count("HINT:"), 4)
        self.assertNotIn("Traceback", result.stderr)

    @override_settings(FTA_STORAGE="s3", FTA_S3_BUCKET="", EMAIL_BACKEND="gallery.no_such.Backend")
    def test_a_wsgi_start_up_refuses_on_any_error(self):
        with self.assertRaises(StartUpRefused) as refused:
            refuse_start_up_on_errors()
        self.assertEqual(
            [line.split(")")[0] for line in refused.exception.lines],
            ["Facetoanimals: (facetoanimals.E002", "Facetoanimals: (facetoanimals.E004"],
        )

    @override_settings(FTA_CUDA_GRAPHS=True, FTA_TORCH_COMPILE=False)
    def test_a_wsgi_start_up_goes_on_with_warnings_and_logs_them(self):
        with self.assertLogs("facetoanimals.checks", "WARNING") as logs:
            refuse_start_up_on_errors()
        self.assertEqual(len(logs.records), 1)
        self.assertIn("(facetoanimals.W002) FTA_CUDA_GRAPHS does nothing without FTA_TORCH_COMPILE.", logs.output[0])


class ReaderTests(SimpleTestCase):
    """facetoanimals.env's readers, in this process (start-up itself is tested above)."""

    def setUp(self):
        accepts = mock.patch.dict(env.ACCEPTS)  # FTA_PROBE is no setting: README need not list it
        accepts.start()
        self.addCleanup(accepts.stop)

    def refusal(self, reader, value, *args, **kwargs):
        with mock.patch.dict(os.environ, {"FTA_PROBE": value}), self.assertRaises(StartUpRefused) as refused:
            reader("FTA_PROBE", *args, **kwargs)
        self.assertEqual(len(refused.exception.lines), 1)
        return refused.exception.lines[0]

    def read(self, reader, value, *args, **kwargs):
        with mock.patch.dict(os.environ, {"FTA_PROBE": value}):
            return reader("FTA_PROBE", *args, **kwargs)

    def test_booleans_take_their_words_in_any_case_and_nothing_else(self):
        self.assertEqual(
            [self.read(env.env_bool, v) for v in ("YES", " on ", "0", "False", "")], [True, True, False, False, False]
        )
        for typo in ("ture", "2", "y", "enabled"):
            self.assertIn("FTA_PROBE must be a boolean", self.refusal(env.env_bool, typo))

    def test_a_number_is_refused_outside_its_range_at_either_end(self):
        self.assertEqual(self.read(env.env_int, "65535", 1, minimum=1, maximum=65535), 65535)
        self.assertEqual(self.read(env.env_int, "", 587, minimum=1, maximum=65535), 587)
        for wrong in ("0", "65536", "-1", "1.5", "1e3", "eight"):
            self.assertEqual(
                self.refusal(env.env_int, wrong, 1, minimum=1, maximum=65535),
                f"Facetoanimals: FTA_PROBE must be a whole number, from 1 to 65535, not {wrong!r}.",
            )

    def test_a_url_is_refused_without_repeating_it(self):
        for url in ("http://:hunter2@cache:6379/0", "hunter2@cache:6379", "redis://:hunter2@"):
            line = self.refusal(env.env_url, url, "", ("redis", "rediss", "unix"))
            self.assertIn("FTA_PROBE must be a redis://, rediss:// or unix:// URL, not", line)
            self.assertNotIn("hunter2", line)
        self.assertEqual(
            self.read(env.env_url, "rediss://:pw@cache:6380/1", "", ("redis", "rediss")), "rediss://:pw@cache:6380/1"
        )

    def test_a_time_zone_must_exist(self):
        self.assertEqual(self.read(env.env_time_zone, "Asia/Seoul", "UTC"), "Asia/Seoul")
        self.assertIn("IANA time zone name", self.refusal(env.env_time_zone, "Mars/Olympus_Mons", "UTC"))


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
    def test_readmes_table_names_every_variable_the_settings_read_with_what_it_accepts(self):
        self.assertIn("FTA_EMAIL_BACKEND", env.ACCEPTS)
        rows = {}
        for line in (ROOT / "README.md").read_text().splitlines():
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            if line.startswith("| `") and len(cells) == 4:
                for name in re.findall(r"`([A-Z0-9_]+)`", cells[0]):
                    rows[name] = cells[2]
        self.assertEqual({name: rows.get(name) for name in env.ACCEPTS}, env.ACCEPTS)

    def test_the_settings_read_the_environment_only_through_the_strict_readers(self):
        source = (ROOT / "facetoanimals" / "settings.py").read_text()
        self.assertNotRegex(source, r"os\.environ|getenv")
