"""Django settings for Facetoanimals.

Every setting that differs between machines comes from an environment variable with a safe
local default; README.md documents each one in its "Configuration" table.
"""

import ipaddress
import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FTA_VAR_DIR", BASE_DIR / "var"))


BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def env_bool(name, default=False):
    """Strict: a misspelt value stops start-up instead of silently meaning "off"."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in BOOLEANS:
        raise ImproperlyConfigured(f"{name}={os.environ[name]!r} is not a boolean; use one of {', '.join(BOOLEANS)}.")
    return BOOLEANS[value]


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def stop_start_up(message):
    """A one-line reason instead of a traceback: start-up stops here."""
    sys.stderr.write(f"Facetoanimals: {message}\n")
    raise SystemExit(1)


def env_choice(name, default, choices):
    value = os.environ.get(name) or default
    if value not in choices:
        stop_start_up(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def env_list(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# "development" (the default) generates a secret key under var/; "production" requires one.
FTA_ENV = os.environ.get("FTA_ENV", "development")
DEBUG = env_bool("DJANGO_DEBUG")
HTTPS = env_bool("FTA_HTTPS")


def _secret_key():
    key = os.environ.get("DJANGO_SECRET_KEY")
    if key:
        return key
    if FTA_ENV == "production":
        stop_start_up(
            "DJANGO_SECRET_KEY must be set when FTA_ENV=production "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_rq",
    "axes",
    "transform",
    "gallery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files come precompressed); BREACH: see docs/SECURITY.md.
    "facetoanimals.middleware.TextGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Development without a mail server only: hands each browser the mail it caused (gallery.dev_outbox).
    "gallery.dev_outbox.DevOutboxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "facetoanimals.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "facetoanimals.urls"
WSGI_APPLICATION = "facetoanimals.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "gallery.dev_outbox.context",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("FTA_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker processes write at once: WAL lets readers go on while one writes, IMMEDIATE
    # transactions take the write lock up front instead of failing on an upgrade, and writers wait.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # Counts failed logins per username and per address, and refuses them after FTA_LOGIN_FAILURE_LIMIT.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("FTA_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("FTA_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
# Lock the (user name, address) pair, not either alone: a stranger's wrong passwords never lock the
# real user out from their own address, and one address can't lock out everyone (docs/SECURITY.md).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "facetoanimals.client_address.client_address"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "gallery:index"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "한국어")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("FTA_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"

# Users' photos and dogs are private: MEDIA_ROOT is never served under a public URL.
MEDIA_ROOT = Path(os.environ.get("FTA_MEDIA_ROOT", VAR_DIR / "media")).resolve()
MEDIA_URL = None

# Where photos and dogs are kept: "local" (MEDIA_ROOT) or "s3" (any S3-compatible bucket: AWS S3,
# Cloudflare R2, MinIO, Ceph RGW), so web and GPU machines need to share no disk.
FTA_STORAGE = env_choice("FTA_STORAGE", "local", ("local", "s3"))
FTA_S3_BUCKET = os.environ.get("FTA_S3_BUCKET", "")
FTA_S3_ENDPOINT_URL = os.environ.get("FTA_S3_ENDPOINT_URL", "") or None
FTA_S3_REGION = os.environ.get("FTA_S3_REGION", "") or None
FTA_S3_ACCESS_KEY_ID = os.environ.get("FTA_S3_ACCESS_KEY_ID", "") or None
FTA_S3_SECRET_ACCESS_KEY = os.environ.get("FTA_S3_SECRET_ACCESS_KEY", "") or None
# Lifetime of the presigned URLs the app hands to nginx (FTA_SENDFILE=nginx); browsers never see them.
FTA_S3_URL_SECONDS = env_int("FTA_S3_URL_SECONDS", 60)
if FTA_STORAGE == "s3" and not FTA_S3_BUCKET:
    stop_start_up("FTA_S3_BUCKET must be set when FTA_STORAGE=s3.")


def s3_storage(bucket, endpoint_url, region, access_key, secret_key, url_seconds):
    """django-storages' S3 backend on one bucket of any S3-compatible service."""
    from botocore.config import Config

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region,
            "access_key": access_key,
            "secret_key": secret_key,
            # Private objects (the bucket's own default, never public-read), never overwritten.
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": url_seconds,
            # Short timeouts and few retries: with the endpoint down an upload answers 503 quickly.
            "client_config": Config(
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                signature_version="s3v4",
                connect_timeout=2,
                read_timeout=10,
                retries={"total_max_attempts": 2, "mode": "standard"},
            ),
        },
    }


if FTA_STORAGE == "s3":
    MEDIA_STORAGE = s3_storage(
        FTA_S3_BUCKET, FTA_S3_ENDPOINT_URL, FTA_S3_REGION, FTA_S3_ACCESS_KEY_ID, FTA_S3_SECRET_ACCESS_KEY, FTA_S3_URL_SECONDS
    )
else:
    MEDIA_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Without a mail server, mail goes to the console; in development it also goes to the development
# outbox (gallery.dev_outbox): the browser that caused a mail sees it at /dev/outbox/. Never in production.
EMAIL_BACKEND = os.environ.get("FTA_EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("FTA_EMAIL_HOST")
    else "gallery.dev_outbox.OutboxBackend"
    if FTA_ENV == "development"
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("FTA_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("FTA_EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("FTA_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("FTA_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("FTA_EMAIL_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("FTA_EMAIL_FROM", "Facetoanimals <noreply@localhost>")

# Content-Security-Policy (django-csp): no inline script anywhere in the app.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Django's admin sets inline style attributes; scripts stay strict.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Security headers that hold on plain HTTP too.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# FTA_HTTPS=1 behind TLS: secure cookies, HSTS and redirects to https.
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
BEHIND_PROXY = env_bool("FTA_BEHIND_PROXY")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not HTTPS:
    # Plain-HTTP mode is a deliberate choice (local runs); the HTTPS-only checks would only nag.
    SILENCED_SYSTEM_CHECKS = ["security.W004", "security.W008", "security.W012", "security.W016"]

# The generation queue (RQ through django-rq).
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
FTA_JOB_TIMEOUT = env_int("FTA_JOB_TIMEOUT", 600)
RQ_QUEUES = {
    "gpu": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": FTA_JOB_TIMEOUT},
}
RQ = {
    # No fork per job: the worker keeps the pipeline loaded (CUDA does not survive a fork).
    "WORKER_CLASS": "gallery.generations.worker.PipelineWorker",
    # "auto": enqueue when asked. gallery.generations.lifecycle asks only once the row's transaction has
    # committed, and keeps the generation queued (for the reconcile pass) when Redis is down.
    "COMMIT_MODE": "auto",
}
# Load the pipeline when the worker starts rather than on its first job.
FTA_PRELOAD_PIPELINE = env_bool("FTA_PRELOAD_PIPELINE", True)
# How often a worker looks for generations lost by dead workers or an emptied Redis.
FTA_RECONCILE_INTERVAL = env_int("FTA_RECONCILE_INTERVAL", 30)
# A worker that has not said it is alive for this long is dead, and its generation is re-queued once.
FTA_WORKER_HEARTBEAT_TTL = env_int("FTA_WORKER_HEARTBEAT_TTL", 20)

# Models and the device (used by the worker only).
FTA_SD_MODEL = os.environ.get("FTA_SD_MODEL", "stable-diffusion-v1-5/stable-diffusion-v1-5")
FTA_CONTROLNET_MODEL = os.environ.get("FTA_CONTROLNET_MODEL", "CrucibleAI/ControlNetMediaPipeFace")
# SD 1.5 inpainting weights for group photos (only their UNet is loaded); empty: the base model with the mask.
FTA_SD_INPAINT_MODEL = os.environ.get("FTA_SD_INPAINT_MODEL", "")
FTA_DEVICE = os.environ.get("FTA_DEVICE", "auto")
# How the pipeline runs (transform.pipeline.LoadOptions; docs/ENGINE.md says which are exact and why the defaults).
# auto: fp16 on CUDA, fp32 on the CPU.
FTA_PRECISION = env_choice("FTA_PRECISION", "auto", ("auto", "fp16", "bf16", "fp32"))
# auto: on for CUDA, off for the CPU.
FTA_CHANNELS_LAST = env_choice("FTA_CHANNELS_LAST", "auto", ("auto", "1", "0"))
FTA_FUSE_QKV = env_choice("FTA_FUSE_QKV", "auto", ("auto", "1", "0"))
# torch.compile UNet, ControlNet and VAE decoder (static shapes): slower first job of each size, faster later ones.
FTA_TORCH_COMPILE = env_bool("FTA_TORCH_COMPILE")
# With FTA_TORCH_COMPILE on CUDA: CUDA graphs too (compile mode "reduce-overhead").
FTA_CUDA_GRAPHS = env_bool("FTA_CUDA_GRAPHS")
# Prompt embeddings kept per (prompt, negative prompt); 0 turns the cache off.
FTA_PROMPT_CACHE = env_int("FTA_PROMPT_CACHE", 64)
# At most this many compatible queued generations (same size, steps, sampler, mode, CFG, control) in one pipeline call.
FTA_MAX_BATCH = env_int("FTA_MAX_BATCH", 4)
# CPU threads per worker process (0: PyTorch's default, every core); set cores / workers when several share a CPU.
FTA_TORCH_THREADS = env_int("FTA_TORCH_THREADS", 0)
# The SD safety checker is tuned for NSFW images and needs extra weights; off by default.
FTA_SAFETY_CHECKER = env_bool("FTA_SAFETY_CHECKER")

# Uploads: refused before decoding when over these limits.
FTA_UPLOAD_MAX_BYTES = env_int("FTA_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
FTA_UPLOAD_MAX_PIXELS = env_int("FTA_UPLOAD_MAX_PIXELS", 40_000_000)
FTA_UPLOAD_MIN_SIDE = env_int("FTA_UPLOAD_MIN_SIDE", 64)
# A PNG read for its A1111 settings on the generate form (never stored); at most FTA_UPLOAD_MAX_BYTES.
FTA_PARAMS_PNG_MAX_BYTES = env_int("FTA_PARAMS_PNG_MAX_BYTES", 10 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "gallery.upload_size.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Private media is handed to the front server instead of streamed from Python:
# "" streams from Django, "nginx" answers X-Accel-Redirect under FTA_SENDFILE_PREFIX, "apache" X-Sendfile.
FTA_SENDFILE = os.environ.get("FTA_SENDFILE", "")
FTA_SENDFILE_PREFIX = os.environ.get("FTA_SENDFILE_PREFIX", "/protected-media/")
if FTA_SENDFILE == "apache" and FTA_STORAGE == "s3":
    stop_start_up("FTA_SENDFILE=apache needs files on local disk: use nginx or Django streaming with FTA_STORAGE=s3.")

# Who may read /metrics besides staff: addresses or networks (CIDR), comma-separated; empty: staff only.
FTA_METRICS_ALLOWED = env_list("FTA_METRICS_ALLOWED", "")
for _network in FTA_METRICS_ALLOWED:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        stop_start_up(f"FTA_METRICS_ALLOWED: {_network!r} is not an address or network.")

# Per-user limits.
FTA_MAX_ACTIVE_GENERATIONS = env_int("FTA_MAX_ACTIVE_GENERATIONS", 8)
FTA_UPLOADS_PER_HOUR = env_int("FTA_UPLOADS_PER_HOUR", 60)
FTA_GENERATIONS_PER_HOUR = env_int("FTA_GENERATIONS_PER_HOUR", 120)
# Per client address (facetoanimals.client_address): new accounts and password reset mails.
FTA_SIGNUPS_PER_HOUR = env_int("FTA_SIGNUPS_PER_HOUR", 5)
FTA_PASSWORD_RESETS_PER_HOUR = env_int("FTA_PASSWORD_RESETS_PER_HOUR", 5)
# Faces one group photo ("make everyone a dog") may turn into dogs; each counts as a dog for the limits above.
FTA_MAX_FACES_PER_GROUP = env_int("FTA_MAX_FACES_PER_GROUP", 8)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FTA_LOG_LEVEL", "INFO")},
    # django-axes logs every successful login at INFO; lockouts are warnings.
    "loggers": {"axes": {"level": "WARNING"}},
}
