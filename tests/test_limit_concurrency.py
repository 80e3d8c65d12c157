"""Round 3, finding 6: limits hold when requests arrive at the same moment (docs/SECURITY.md).

Real concurrent requests through gunicorn (2 processes x 4 threads, so all 8 requests run at once),
on the suite's database, SQLite or PostgreSQL; gallery.rate_limits.holding() is what makes them wait.
"""

from collections import Counter

import pytest

from gallery.models import Generation, LimitedAction, PendingSignup
from gallery.rate_limits import active_dogs

from .concurrent_requests import form_body, multipart_body, post_at_once
from .factories import make_group_photo, make_user, signed_in_session_key
from .processes import gunicorn

pytestmark = pytest.mark.slow
AT_ONCE = 8
Kind = LimitedAction.Kind


@pytest.fixture
def owner(transactional_db, redis_connection):
    return make_user("mina")


def eight_group_requests_of_eight_faces(url, owner):
    photo = make_group_photo(owner, 8)
    path = f"/photos/{photo.pk}/generate-group/"
    return Counter(post_at_once(url, path, [form_body({})] * AT_ONCE, signed_in_session_key(owner)))


def test_eight_group_requests_of_eight_faces_at_once_queue_eight_dogs(tmp_path, owner):
    """The attack as reported: 3 accepted, 24 dogs waiting against FTA_MAX_ACTIVE_GENERATIONS=8."""
    with gunicorn(tmp_path / "web.log", FTA_MAX_ACTIVE_GENERATIONS=8, FTA_GENERATIONS_PER_HOUR=1000) as url:
        statuses = eight_group_requests_of_eight_faces(url, owner)
    assert statuses == {302: 1, 429: AT_ONCE - 1}
    assert (active_dogs(owner), Generation.objects.count()) == (8, 1)


def test_the_hourly_dog_limit_holds_for_requests_at_once(tmp_path, owner):
    with gunicorn(tmp_path / "web.log", FTA_MAX_ACTIVE_GENERATIONS=1000, FTA_GENERATIONS_PER_HOUR=8) as url:
        statuses = eight_group_requests_of_eight_faces(url, owner)
    assert statuses == {302: 1, 429: AT_ONCE - 1}
    assert LimitedAction.objects.filter(kind=Kind.GENERATION).count() == 8


def test_the_hourly_upload_limit_holds_for_uploads_at_once(tmp_path, owner):
    body = multipart_body({}, {"image": ("me.jpg", b"not an image")})
    with gunicorn(tmp_path / "web.log", FTA_UPLOADS_PER_HOUR=3) as url:
        statuses = Counter(post_at_once(url, "/photos/new/", [body] * AT_ONCE, signed_in_session_key(owner)))
    assert statuses == {400: 3, 429: AT_ONCE - 3}
    assert LimitedAction.objects.filter(kind=Kind.UPLOAD).count() == 3


def test_the_sign_up_limit_holds_for_sign_ups_at_once_from_one_address(tmp_path, transactional_db):
    bodies = [
        form_body(
            {
                "username": f"bot{i}",
                "email": f"bot{i}@example.com",
                "password1": "dog-portrait-42",
                "password2": "dog-portrait-42",
            }
        )
        for i in range(AT_ONCE)
    ]
    with gunicorn(tmp_path / "web.log", FTA_SIGNUPS_PER_HOUR=3) as url:
        statuses = Counter(post_at_once(url, "/accounts/signup/", bodies))
    assert statuses == {302: 3, 429: AT_ONCE - 3}
    assert PendingSignup.objects.count() == 3  # no account exists until its mail is opened (gallery.signups)


def test_wrong_current_passwords_at_once_stop_at_the_limit(tmp_path, owner):
    """Each check of a password takes a hash's time: attempts sent together all passed the count meanwhile."""
    bodies = [form_body({"password": f"guess{i}"}) for i in range(AT_ONCE)]
    with gunicorn(tmp_path / "web.log", FTA_LOGIN_FAILURE_LIMIT=5) as url:
        statuses = Counter(post_at_once(url, "/accounts/delete/", bodies, signed_in_session_key(owner)))
    assert statuses == {400: 5, 429: AT_ONCE - 5}
    assert LimitedAction.objects.filter(kind=Kind.WRONG_PASSWORD).count() == 5
