"""Django settings for Facetoanimals.

Every setting that differs between machines comes from an environment variable with a safe
local default, read by one of facetoanimals.env's strict readers (a wrong value stops start-up with
one line); README.md documents each one in its "Configuration" table. Problems that need several
settings at once are system checks (facetoanimals/checks.py).
"""

import os
import secrets
from pathlib import Path

from facetoanimals.env import (
    env_bool,
    env_choice,
    env_database,
    env_int,
    env_list,
    env_match,
    env_networks,
    env_path,
    env_str,
    env_time_zone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("FTA_VAR_DIR", BASE_DIR / "var")

# "development" (the default) generates a secret key under var/; "production" requires one (check E001).
FTA_ENV = env_choice("FTA_ENV", "development", ("development", "production"))
DEBUG = env_bool("DJANGO_DEBUG")
HTTPS = env_bool("FTA_HTTPS")


def _secret_key():
    key = env_str("DJANGO_SECRET_KEY")
    if key or FTA_ENV == "production":
        return key
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
    "facetoanimals",  # its system checks of the settings
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

# Every wait for the database is bounded, so a database that restarts or hangs costs a request a few
# seconds and a 503 (gallery.errors), never a hung thread: connecting, FTA_DB_CONNECT_TIMEOUT; a query or
# a lock, FTA_DB_TIMEOUT (0: no bound, e.g. for a long `migrate`); on PostgreSQL a server that hangs
# outright is given FTA_DB_TIMEOUT + DB_WAIT_MARGIN before the connection is dropped (the server's own
# statement_timeout answers first when it can).
FTA_DB_CONNECT_TIMEOUT = env_int("FTA_DB_CONNECT_TIMEOUT", 3, minimum=2, unit="seconds")
FTA_DB_TIMEOUT = env_int("FTA_DB_TIMEOUT", 5, minimum=0, unit="seconds")
DB_WAIT_MARGIN = 2
DATABASES = {
    "default": env_database(
        "DATABASE_URL",
        f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("FTA_DB_CONN_MAX_AGE", 60, minimum=0, unit="seconds"),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker processes write at once: WAL lets readers go on while one writes, IMMEDIATE
    # transactions take the write lock up front instead of failing on an upgrade, and writers wait
    # for it up to FTA_DB_TIMEOUT (SQLite's busy timeout; "database is locked" after).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": FTA_DB_TIMEOUT or 365 * 24 * 3600,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "facetoanimals.postgresql"
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "connect_timeout": FTA_DB_CONNECT_TIMEOUT,
        "options": f"-c statement_timeout={FTA_DB_TIMEOUT * 1000}",
        "wait_limit": FTA_DB_TIMEOUT + DB_WAIT_MARGIN if FTA_DB_TIMEOUT else None,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # Counts failed logins per username and per address, and refuses them after FTA_LOGIN_FAILURE_LIMIT.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("FTA_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("FTA_LOGIN_COOLOFF_MINUTES", 15, minimum=1, unit="minutes") / 60  # hours
# Lock the (user name, address) pair, not either alone: a stranger's wrong passwords never lock the
# real user out from their own address, and one address can't lock out everyone (docs/SECURITY.md).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "gallery.client_address.client_address"

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
FORMAT_MODULE_PATH = ["facetoanimals.formats"]
TIME_ZONE = env_time_zone("FTA_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"

# Users' photos and dogs are private: MEDIA_ROOT is never served under a public URL.
MEDIA_ROOT = env_path("FTA_MEDIA_ROOT", VAR_DIR / "media").resolve()
MEDIA_URL = None

# Where photos and dogs are kept: "local" (MEDIA_ROOT) or "s3" (any S3-compatible bucket: AWS S3,
# Cloudflare R2, MinIO, Ceph RGW), so web and GPU machines need to share no disk.
FTA_STORAGE = env_choice("FTA_STORAGE", "local", ("local", "s3"))
# Required with FTA_STORAGE=s3 (check E002).
FTA_S3_BUCKET = env_str("FTA_S3_BUCKET")
FTA_S3_ENDPOINT_URL = env_url("FTA_S3_ENDPOINT_URL", "", ("https", "http")) or None
FTA_S3_REGION = env_str("FTA_S3_REGION") or None
FTA_S3_ACCESS_KEY_ID = env_str("FTA_S3_ACCESS_KEY_ID") or None
FTA_S3_SECRET_ACCESS_KEY = env_str("FTA_S3_SECRET_ACCESS_KEY") or None
# Lifetime of the presigned URLs the app hands to nginx (FTA_SENDFILE=nginx); browsers never see them.
# S3's signatures (v4) last at most 7 days.
FTA_S3_URL_SECONDS = env_int("FTA_S3_URL_SECONDS", 60, minimum=1, maximum=7 * 24 * 3600, unit="seconds")


# A call to S3 that hangs waits this long for each try (seconds without a byte moving, not the whole
# transfer: a large upload is not cut short), so S3_ATTEMPTS * S3_READ_TIMEOUT at most.
S3_CONNECT_TIMEOUT = 2
S3_READ_TIMEOUT = 5
S3_ATTEMPTS = 2


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
            # Short timeouts and one retry: with the endpoint down or hung an upload answers 503 quickly.
            "client_config": Config(
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                signature_version="s3v4",
                connect_timeout=S3_CONNECT_TIMEOUT,
                read_timeout=S3_READ_TIMEOUT,
                retries={"total_max_attempts": S3_ATTEMPTS, "mode": "standard"},
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

_smtp_host = env_str("FTA_EMAIL_HOST")
# Without a mail server, mail goes to the console; in development it also goes to the development
# outbox (gallery.dev_outbox): the browser that caused a mail sees it at /dev/outbox/. Never in production.
# A dotted path that must import (check E004).
EMAIL_BACKEND = env_match(
    "FTA_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if _smtp_host
    else "gallery.dev_outbox.OutboxBackend"
    if FTA_ENV == "development"
    else "django.core.mail.backends.console.EmailBackend",
    r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+",
    "dotted path of a Django mail backend",
)
EMAIL_HOST = _smtp_host or "localhost"
EMAIL_PORT = env_int("FTA_EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("FTA_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("FTA_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("FTA_EMAIL_TLS", True)
DEFAULT_FROM_EMAIL = env_str("FTA_EMAIL_FROM", "Facetoanimals <noreply@localhost>")

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
REDIS_URL = env_url("REDIS_URL", "redis://127.0.0.1:6379/0", ("redis", "rediss", "unix"))
FTA_JOB_TIMEOUT = env_int("FTA_JOB_TIMEOUT", 600, minimum=1, unit="seconds")
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
FTA_RECONCILE_INTERVAL = env_int("FTA_RECONCILE_INTERVAL", 30, minimum=1, unit="seconds")
# A worker that has not said it is alive for this long is dead, and its generation is re-queued once.
# At least 2: a worker says so every max(1, TTL / 4) seconds, so the key never lapses between two.
FTA_WORKER_HEARTBEAT_TTL = env_int("FTA_WORKER_HEARTBEAT_TTL", 20, minimum=2, unit="seconds")
# How often our own outages (a lost worker, database or storage, a stop) may send one generation back
# to the queue before it fails with a sentence; they never count against the dog's attempts.
FTA_MAX_REQUEUES = env_int("FTA_MAX_REQUEUES", 5, minimum=0)

# Models and the device (used by the worker only).
FTA_SD_MODEL = env_str("FTA_SD_MODEL", "stable-diffusion-v1-5/stable-diffusion-v1-5")
FTA_CONTROLNET_MODEL = env_str("FTA_CONTROLNET_MODEL", "CrucibleAI/ControlNetMediaPipeFace")
# SD 1.5 inpainting weights for group photos (only their UNet is loaded); empty: the base model with the mask.
FTA_SD_INPAINT_MODEL = env_str("FTA_SD_INPAINT_MODEL")
# A torch device: cuda:N is the Nth visible GPU.
FTA_DEVICE = env_match("FTA_DEVICE", "auto", r"auto|cpu|cuda(:[0-9]+)?", "`auto`, `cpu`, `cuda` or `cuda:N` (N: a GPU's index)")
# How the pipeline runs (transform.pipeline.LoadOptions; docs/ENGINE.md says which are exact and why the defaults).
# auto: fp16 on CUDA, fp32 on the CPU.
FTA_PRECISION = env_choice("FTA_PRECISION", "auto", ("auto", "fp16", "bf16", "fp32"))
# auto: on for CUDA, off for the CPU.
FTA_CHANNELS_LAST = env_choice("FTA_CHANNELS_LAST", "auto", ("auto", "1", "0"))
FTA_FUSE_QKV = env_choice("FTA_FUSE_QKV", "auto", ("auto", "1", "0"))
# torch.compile UNet, ControlNet and VAE decoder (static shapes): slower first job of each size, faster later ones.
FTA_TORCH_COMPILE = env_bool("FTA_TORCH_COMPILE")
# With FTA_TORCH_COMPILE on CUDA: CUDA graphs too (compile mode "reduce-overhead").
FTA_CUDA_GRAPHS = env_bool("FTA_CUDA_GRAPHS")  # no effect without FTA_TORCH_COMPILE (check W002)
# Prompt embeddings kept per (prompt, negative prompt); 0 turns the cache off.
FTA_PROMPT_CACHE = env_int("FTA_PROMPT_CACHE", 64, minimum=0)
# At most this many compatible queued generations (same size, steps, sampler, mode, CFG, control) in one pipeline call.
FTA_MAX_BATCH = env_int("FTA_MAX_BATCH", 4, minimum=1)
# CPU threads per worker process (0: PyTorch's default, every core); set cores / workers when several share a CPU.
FTA_TORCH_THREADS = env_int("FTA_TORCH_THREADS", 0, minimum=0)
# The SD safety checker is tuned for NSFW images and needs extra weights; off by default.
FTA_SAFETY_CHECKER = env_bool("FTA_SAFETY_CHECKER")

# Uploads: refused before decoding when over these limits.
FTA_UPLOAD_MAX_BYTES = env_int("FTA_UPLOAD_MAX_BYTES", 20 * 1024 * 1024, minimum=1, unit="bytes")
FTA_UPLOAD_MAX_PIXELS = env_int("FTA_UPLOAD_MAX_PIXELS", 40_000_000, minimum=1, unit="pixels")
FTA_UPLOAD_MIN_SIDE = env_int("FTA_UPLOAD_MIN_SIDE", 64, minimum=1, unit="pixels")
# A PNG read for its A1111 settings on the generate form (never stored); at most FTA_UPLOAD_MAX_BYTES (check W001).
FTA_PARAMS_PNG_MAX_BYTES = env_int("FTA_PARAMS_PNG_MAX_BYTES", 10 * 1024 * 1024, minimum=1, unit="bytes")
FILE_UPLOAD_HANDLERS = [
    "gallery.upload_size.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Private media is handed to the front server instead of streamed from Python:
# "" streams from Django, "nginx" answers X-Accel-Redirect under FTA_SENDFILE_PREFIX, "apache" X-Sendfile
# (local storage only: check E003).
FTA_SENDFILE = env_choice("FTA_SENDFILE", "", ("", "nginx", "apache"))
FTA_SENDFILE_PREFIX = env_match("FTA_SENDFILE_PREFIX", "/protected-media/", r"/(.*/)?", "a path that starts and ends with `/`")

# Who may read /metrics besides staff: addresses or networks (CIDR), comma-separated; empty: staff only.
FTA_METRICS_ALLOWED = env_networks("FTA_METRICS_ALLOWED")

# Per-user limits.
FTA_MAX_ACTIVE_GENERATIONS = env_int("FTA_MAX_ACTIVE_GENERATIONS", 8, minimum=1)
FTA_UPLOADS_PER_HOUR = env_int("FTA_UPLOADS_PER_HOUR", 60, minimum=1)
FTA_GENERATIONS_PER_HOUR = env_int("FTA_GENERATIONS_PER_HOUR", 120, minimum=1)
# PNGs read for their A1111 settings (gallery:params-from-png), each attempt counted.
FTA_PARAMS_PNG_READS_PER_HOUR = env_int("FTA_PARAMS_PNG_READS_PER_HOUR", 60, minimum=1)
# Per client address (gallery.client_address): new accounts and password reset mails.
FTA_SIGNUPS_PER_HOUR = env_int("FTA_SIGNUPS_PER_HOUR", 5, minimum=1)
FTA_PASSWORD_RESETS_PER_HOUR = env_int("FTA_PASSWORD_RESETS_PER_HOUR", 5, minimum=1)
# Faces one group photo ("make everyone a dog") may turn into dogs; each counts as a dog for the limits above.
FTA_MAX_FACES_PER_GROUP = env_int("FTA_MAX_FACES_PER_GROUP", 8, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("FTA_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    },
    # django-axes logs every successful login at INFO; lockouts are warnings.
    "loggers": {"axes": {"level": "WARNING"}},
}
