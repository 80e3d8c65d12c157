"""Limits against requests sent at the same moment: how far past each limit one burst gets.

gunicorn (2 processes x 4 threads, as tests.processes starts it) on a throwaway database: SQLite,
or with --database-url a PostgreSQL server, where it makes and drops test_<name>. Its own Redis
on a free port. Each round sends --at-once requests together, as one user (one address for
sign-ups) starting from nothing, and counts what got through; the table gives the range over the
rounds. Log-in guesses (django-axes) first spend all but one allowed failure one at a time, the
worst start for a burst; a hasher that counts (bench.counted_passwords) tells the guesses checked.

Run from the repository root:
    python -m bench.limit_race [--rounds 10] [--at-once 8] [--database-url postgres://postgres@127.0.0.1:5432/fta_bench]
"""

import argparse
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

WORK = Path(tempfile.mkdtemp(prefix="fta-limit-race-"))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--at-once", type=int, default=8)
    parser.add_argument("--database-url", default=f"sqlite:///{WORK / 'db.sqlite3'}")
    return parser.parse_args()


ARGS = parse_args()
os.environ.update(
    DJANGO_SETTINGS_MODULE="tests.settings",
    FTA_TEST_DIR=str(WORK),
    DATABASE_URL=ARGS.database_url,
    PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
)

import django  # noqa: E402

django.setup()

# isort: split

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from gallery.models import Generation, LimitedAction  # noqa: E402
from tests.concurrent_requests import form_body, multipart_body, post_at_once  # noqa: E402
from tests.factories import make_group_photo, make_user, signed_in_session_key  # noqa: E402
from tests.processes import RedisServer, gunicorn  # noqa: E402

Kind = LimitedAction.Kind
SIGNUP_PASSWORD = "dog-portrait-42"


def group_of_eight(url, round_number, at_once):
    user = make_user(f"group{uuid.uuid4().hex[:12]}")
    photo = make_group_photo(user, 8)
    post_at_once(url, f"/photos/{photo.pk}/generate-group/", [form_body({})] * at_once, signed_in_session_key(user))
    return user


def active_dogs(url, round_number, at_once):
    user = group_of_eight(url, round_number, at_once)
    return sum(Generation.objects.filter(owner=user).values_list("faces", flat=True))


def hourly_dogs(url, round_number, at_once):
    user = group_of_eight(url, round_number, at_once)
    return LimitedAction.objects.filter(kind=Kind.GENERATION, user=user).count()


def uploads(url, round_number, at_once):
    user = make_user(f"uploader{round_number}")
    body = multipart_body({}, {"image": ("me.jpg", b"not an image")})
    post_at_once(url, "/photos/new/", [body] * at_once, signed_in_session_key(user))
    return LimitedAction.objects.filter(kind=Kind.UPLOAD, user=user).count()


def sign_ups(url, round_number, at_once):
    LimitedAction.objects.filter(kind=Kind.SIGNUP).delete()  # the address starts each round from nothing
    names = [f"bot{round_number}x{i}" for i in range(at_once)]
    bodies = [
        form_body({"username": n, "email": f"{n}@example.com", "password1": SIGNUP_PASSWORD, "password2": SIGNUP_PASSWORD})
        for n in names
    ]
    post_at_once(url, "/accounts/signup/", bodies)
    return User.objects.filter(username__in=names).count()


def wrong_passwords(url, round_number, at_once):
    user = make_user(f"guesser{round_number}")
    bodies = [form_body({"password": f"guess{i}"}) for i in range(at_once)]
    post_at_once(url, "/accounts/delete/", bodies, signed_in_session_key(user))
    return LimitedAction.objects.filter(kind=Kind.WRONG_PASSWORD, user=user).count()


def log_in_guesses(url, round_number, at_once):
    """django-axes' lock-out of a (user name, address) pair: how many guesses reached the password
    check, when the attacker first spends all but one of the allowed failures one at a time."""
    checks = WORK / "password-checks"
    before = len(checks.read_text().splitlines()) if checks.exists() else 0
    user = make_user(f"target{round_number}")
    guesses = [form_body({"username": user.username, "password": f"guess{i}"}) for i in range(LOG_IN_LIMIT - 1 + at_once)]
    for guess in guesses[: LOG_IN_LIMIT - 1]:
        post_at_once(url, "/accounts/login/", [guess])
    post_at_once(url, "/accounts/login/", guesses[LOG_IN_LIMIT - 1 :])
    return len(checks.read_text().splitlines()) - before


LOG_IN_LIMIT = 5
COUNTED = {"DJANGO_SETTINGS_MODULE": "bench.counted_passwords"}  # a web server that counts password checks
# (what is limited, setting, its value, how many one at a time get through, gunicorn's environment, one round)
SCENARIOS = (
    (
        "dogs waiting (group requests of 8 faces)",
        "FTA_MAX_ACTIVE_GENERATIONS",
        8,
        8,
        {"FTA_GENERATIONS_PER_HOUR": 10**6},
        active_dogs,
    ),
    (
        "dogs per hour (group requests of 8 faces)",
        "FTA_GENERATIONS_PER_HOUR",
        8,
        8,
        {"FTA_MAX_ACTIVE_GENERATIONS": 10**6},
        hourly_dogs,
    ),
    ("uploads per hour", "FTA_UPLOADS_PER_HOUR", 3, 3, {}, uploads),
    ("sign-ups per address and hour", "FTA_SIGNUPS_PER_HOUR", 3, 3, {}, sign_ups),
    ("wrong current passwords per hour", "FTA_LOGIN_FAILURE_LIMIT", 5, 5, {}, wrong_passwords),
    ("log-in guesses checked (django-axes)", "FTA_LOGIN_FAILURE_LIMIT", LOG_IN_LIMIT, LOG_IN_LIMIT, COUNTED, log_in_guesses),
)


def main():
    redis = RedisServer(WORK / "redis")
    redis.start()
    database = connection.creation.create_test_db(verbosity=0)
    rows = []
    try:
        with override_settings(REDIS_URL=redis.url):
            for what, setting, value, allowed, env, one_round in SCENARIOS:
                with gunicorn(WORK / "web.log", **{setting: value, **env}, REDIS_URL=redis.url) as url:
                    counts = [one_round(url, r, ARGS.at_once) for r in range(ARGS.rounds)]
                rows.append((what, f"{setting}={value}", allowed, counts))
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)
        redis.stop()
        shutil.rmtree(WORK, ignore_errors=True)

    print(f"database: {connection.vendor}; {ARGS.at_once} requests at once, {ARGS.rounds} rounds each")
    print()
    print("| limit | setting | one at a time | at once, per round (min–max) | worst overshoot |")
    print("| --- | --- | --- | --- | --- |")
    for what, setting, allowed, counts in rows:
        print(f"| {what} | `{setting}` | {allowed} | {min(counts)}–{max(counts)} | {max(counts) - allowed:+d} |")


if __name__ == "__main__":
    main()
