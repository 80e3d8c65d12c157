"""Storage failing under the app: S3 (moto's server, of each test's own) hung with SIGSTOP, or killed and
started again without its bucket; and a full disk, a small tmpfs mounted as the media folder. Each
ends with a bounded wait and a sentence, and leaves nothing half-made.
"""

import os
import subprocess
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from facetoanimals.settings import S3_ATTEMPTS, S3_CONNECT_TIMEOUT, S3_READ_TIMEOUT
from gallery.generations.reconcile import reconcile
from gallery.models import Generation, PendingFileDeletion, Photo

from . import s3
from .factories import finished, make_uploaded_photo, make_user, signed_in_session_key, stored_names
from .processes import gunicorn, start_worker, stop, upload_in_two_halves, wait_until
from .sample_images import large_portrait_jpeg, portrait_jpeg
from .worker_helpers import FINAL, one_dog_being_drawn, queue_generations

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
# One S3 call that hangs: every try waits S3_READ_TIMEOUT; with room for the backoff between tries.
S3_BOUND = S3_ATTEMPTS * S3_READ_TIMEOUT + S3_CONNECT_TIMEOUT
OUT_OF_REACH = "Your pictures are out of reach for a moment. Please try again in a minute."
CANNOT_STORE = "We cannot store photos right now. Please try again in a few minutes."
DISK_FULL_MESSAGE = (
    "Our server ran out of storage space, so this dog could not be saved. That is ours to fix: please retry later."
)


@pytest.fixture
def moto(tmp_path, settings):
    """A moto server of this test's own, with a bucket that default_storage uses."""
    server = s3.MotoServer(tmp_path / "moto.log")
    server.start()
    server.bucket = s3.new_bucket(server.endpoint)
    s3.use_bucket(settings, server.bucket, server.endpoint)
    yield server
    server.stop()


def timed(call):
    began = time.monotonic()
    result = call()
    return result, time.monotonic() - began


def test_a_large_upload_meeting_a_hung_s3_answers_503_within_the_bound_and_leaves_nothing(moto, tmp_path):
    user = make_user()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {**s3.s3_env(moto.bucket, moto.endpoint), "TMPDIR": temporary}
    with gunicorn(tmp_path / "web.log", workers=1, **env) as url:
        try:
            code, headers, body, waited = upload_in_two_halves(
                url, signed_in_session_key(user), large_portrait_jpeg(), moto.pause
            )
        finally:
            moto.resume()
    assert (code, headers["Retry-After"]) == (503, "60")
    assert CANNOT_STORE in body
    assert waited < S3_BOUND + 10  # + cleaning the photo and finding its face
    assert not Photo.objects.exists()
    reconcile()  # S3 answers again: what the hang kept us from deleting goes now
    assert s3.keys(moto.bucket, moto.endpoint) == [] and not PendingFileDeletion.objects.exists()
    assert list(temporary.iterdir()) == [], "Django's spooled copy of the upload is gone too"


def test_with_s3_hung_an_image_and_the_dogs_zip_answer_503_with_a_sentence_within_the_bound(moto, client):
    photo = make_uploaded_photo()
    dog = finished(photo)
    client.force_login(photo.owner)
    moto.pause()
    try:
        image, image_wait = timed(lambda: client.get(reverse("gallery:photo-image", args=[photo.pk])))
        download = {"ids": [str(dog.pk)]}
        archive, archive_wait = timed(lambda: client.post(reverse("gallery:download"), download))
    finally:
        moto.resume()
    for response, waited in ((image, image_wait), (archive, archive_wait)):
        assert (response.status_code, response["Retry-After"]) == (503, "60")
        assert response.content.decode() == OUT_OF_REACH
        assert waited < S3_BOUND


def test_s3_killed_mid_upload_and_started_again_without_its_bucket_answers_503_and_readyz_and_doctor_name_it(
    moto, client, tmp_path
):
    photo = make_uploaded_photo()
    client.force_login(photo.owner)

    def kill_and_start_again():  # moto keeps its buckets in memory: the bucket and every picture are gone
        moto.stop()
        moto.start()

    with gunicorn(tmp_path / "web.log", workers=1, **s3.s3_env(moto.bucket, moto.endpoint)) as url:
        code, _headers, body, _waited = upload_in_two_halves(
            url, signed_in_session_key(photo.owner), large_portrait_jpeg(), kill_and_start_again
        )
    assert code == 503 and CANNOT_STORE in body
    assert Photo.objects.count() == 1
    image = client.get(reverse("gallery:photo-image", args=[photo.pk]))
    assert (image.status_code, image.content.decode()) == (503, OUT_OF_REACH), "not a 404: the file is not what went"
    ready = client.get(reverse("readyz"))
    assert ready.status_code == 503
    assert ready.json()["reasons"] == {"storage": "the bucket does not exist"}
    assert "FAIL media storage: S3 answers NoSuchBucket: check FTA_S3_BUCKET" in doctor_output()


def doctor_output():
    from io import StringIO

    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("doctor", stdout=out)
    return out.getvalue()


def test_a_dog_whose_save_meets_a_hung_s3_goes_back_to_the_queue_and_is_made_once_s3_answers(
    moto, redis_connection, worker_env, tmp_path
):
    photo = make_uploaded_photo()
    env = {**worker_env, **s3.s3_env(moto.bucket, moto.endpoint), "FTA_MAX_BATCH": 1}
    # The photo is read; S3 hangs while the dog is drawn, so its save meets the hang.
    with one_dog_being_drawn(tmp_path, photo, env) as row:
        moto.pause()
        try:
            wait_until(lambda: row.get().requeues == 1, timeout=3 * S3_BOUND + 10, what="the save giving up")
        finally:
            moto.resume()
        wait_until(lambda: row.get().status in FINAL, timeout=120, what="the dog made again")
        reconcile()  # whatever the hang kept the worker from deleting
    generation = row.get()
    assert generation.status == "succeeded", (generation.error, generation.traceback)
    assert (generation.attempts, generation.requeues) == (1, 1), "the hang was ours: no attempt of the dog's spent"
    assert "waits for the reconcile pass" in (tmp_path / "worker0.log").read_text()
    files = [photo.image, photo.thumbnail, generation.result, generation.display, generation.thumbnail]
    files += [generation.control_image, generation.face_crop]
    assert s3.keys(moto.bucket, moto.endpoint) == sorted(f.name for f in files), "no file of the lost save is left"


@pytest.fixture
def small_disk(tmp_path, settings):
    """A 4 MiB tmpfs as the (local) media folder, for a disk that fills up; unmounted afterwards."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], check=True)
    settings.MEDIA_ROOT = folder
    settings.FTA_STORAGE = "local"
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder, leave):
    """Fill the disk but for `leave` bytes, with one file; returns its name."""
    stats = os.statvfs(folder)
    (folder / "filler").write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - leave))
    return "filler"


def test_a_full_disk_refuses_an_upload_with_a_sentence_and_leaves_no_part_of_it(small_disk, client):
    client.force_login(make_user())
    filler = fill(small_disk, leave=32 * 1024)  # less than the cleaned photo
    response = client.post(reverse("gallery:upload"), {"image": SimpleUploadedFile("me.jpg", portrait_jpeg())})
    assert (response.status_code, response["Retry-After"]) == (503, "60")
    assert CANNOT_STORE in response.content.decode()
    assert not Photo.objects.exists()
    assert stored_names() == [filler], "no half-written photo is left on the disk"


def test_a_full_disk_fails_a_dog_with_a_sentence_and_leaves_no_part_of_it(small_disk, redis_connection, worker_env, tmp_path):
    photo = make_uploaded_photo()
    filler = fill(small_disk, leave=64 * 1024)  # less than the dog's files
    env = {**worker_env, "FTA_STORAGE": "local", "FTA_MEDIA_ROOT": small_disk}
    worker = start_worker(tmp_path / "worker.log", **env)
    try:
        generations = queue_generations(photo, 2, steps=2)
        rows = Generation.objects.filter(pk__in=[g.pk for g in generations])
        wait_until(lambda: set(rows.values_list("status", flat=True)) <= FINAL, timeout=180, what="both dogs ending")
    finally:
        stop(worker)
    for generation in rows:
        assert (generation.status, generation.error, generation.requeues) == ("failed", DISK_FULL_MESSAGE, 0)
        assert "No space left on device" in generation.traceback
    assert stored_names() == sorted([photo.image.name, photo.thumbnail.name, filler])
