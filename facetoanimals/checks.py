"""System checks of the settings that need several of them at once (one value alone is checked as it
is read: facetoanimals/env.py). Every problem shows at once, each with its ID and a hint.

manage.py runs them before its commands (check, migrate, runserver, rqworker…); a WSGI start-up runs
them through refuse_start_up_on_errors() (facetoanimals/wsgi.py), since a WSGI server runs none.
docs/API.md lists the IDs.
"""

import logging

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from facetoanimals.env import StartUpRefused

log = logging.getLogger(__name__)


def _secret_key_is_set():
    try:
        return bool(settings.SECRET_KEY)
    except ImproperlyConfigured:  # Django refuses to hand out an empty one
        return False


@checks.register(checks.Tags.security)
def check_production(app_configs=None, **kwargs):
    problems = []
    if settings.FTA_ENV == "production" and not _secret_key_is_set():
        problems.append(
            checks.Error(
                "DJANGO_SECRET_KEY must be set when FTA_ENV=production.",
                hint="Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'",
                id="facetoanimals.E001",
            )
        )
    if settings.FTA_ENV == "production" and settings.DEBUG:
        problems.append(
            checks.Error(
                "DJANGO_DEBUG is on with FTA_ENV=production: error pages would show settings and code to anyone.",
                hint="Unset DJANGO_DEBUG, or set FTA_ENV=development on a machine only you can reach.",
                id="facetoanimals.E005",
            )
        )
    return problems


@checks.register()
def check_media_storage(app_configs=None, **kwargs):
    problems = []
    if settings.FTA_STORAGE == "s3" and not settings.FTA_S3_BUCKET:
        problems.append(
            checks.Error(
                "FTA_S3_BUCKET must be set when FTA_STORAGE=s3.",
                hint="Set it to the bucket's name (docs/DEPLOYMENT.md), or set FTA_STORAGE=local.",
                id="facetoanimals.E002",
            )
        )
    if settings.FTA_STORAGE == "s3" and settings.FTA_SENDFILE == "apache":
        problems.append(
            checks.Error(
                "FTA_SENDFILE=apache needs files on local disk, and FTA_STORAGE=s3 keeps them in a bucket.",
                hint="Use FTA_SENDFILE=nginx (it fetches presigned URLs) or leave FTA_SENDFILE empty (Django streams).",
                id="facetoanimals.E003",
            )
        )
    return problems


@checks.register()
def check_mail_backend(app_configs=None, **kwargs):
    try:
        import_string(settings.EMAIL_BACKEND)
    except ImportError:
        return [
            checks.Error(
                f"FTA_EMAIL_BACKEND={settings.EMAIL_BACKEND} cannot be imported.",
                hint="Name a mail backend class, e.g. django.core.mail.backends.smtp.EmailBackend, or unset it.",
                id="facetoanimals.E004",
            )
        ]
    return []


@checks.register()
def check_ineffective_settings(app_configs=None, **kwargs):
    problems = []
    if settings.FTA_PARAMS_PNG_MAX_BYTES > settings.FTA_UPLOAD_MAX_BYTES:
        problems.append(
            checks.Warning(
                "FTA_PARAMS_PNG_MAX_BYTES is above FTA_UPLOAD_MAX_BYTES: a PNG between the two is refused by the upload limit.",
                hint="Set FTA_PARAMS_PNG_MAX_BYTES at most to FTA_UPLOAD_MAX_BYTES.",
                id="facetoanimals.W001",
            )
        )
    if settings.FTA_CUDA_GRAPHS and not settings.FTA_TORCH_COMPILE:
        problems.append(
            checks.Warning(
                "FTA_CUDA_GRAPHS does nothing without FTA_TORCH_COMPILE.",
                hint="Set FTA_TORCH_COMPILE=1 as well, or unset FTA_CUDA_GRAPHS.",
                id="facetoanimals.W002",
            )
        )
    return problems


def refuse_start_up_on_errors():
    """Run every system check, as manage.py does before a command: any error raises StartUpRefused
    with one line per problem found; warnings alone are logged, and start-up goes on."""
    found = [message for message in checks.run_checks() if not message.is_silenced()]
    if any(message.level >= checks.ERROR for message in found):
        raise StartUpRefused(*(_one_line(message) for message in found))
    for message in found:
        log.warning("%s", _one_line(message))


def _one_line(message):
    return f"({message.id}) {message.msg}" + (f" Hint: {message.hint}" if message.hint else "")
