"""Photos and dogs on S3 (FTA_STORAGE=s3) against bin/test's moto server over HTTP, whatever storage
the rest of the suite runs on; the outage tests start and stop a moto server of their own."""

import io
import re
import zipfile
from contextlib import contextmanager
from io import StringIO
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from gallery.models import Generation, PendingFileDeletion, Photo

from . import s3
from .factories import make_generation, make_user
from .processes import free_port, stop, wait_until
from .sample_images import portrait_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client):
    user = make_user()
    client.force_login(user)
    return user


def upload(client):
    return client.post(reverse("gallery:upload"), {"image": SimpleUploadedFile("Mina Kim.jpg", portrait_jpeg())})


def add_dog(photo):
    generation = make_generation(photo, status=Generation.Status.SUCCEEDED)
    for field, name in (("result", "dog.png"), ("thumbnail", "dog.webp"), ("control_image", "c.png"), ("face_crop", "f.webp")):
        getattr(generation, field).save(name, ContentFile(b"\x89PNG " + field.encode()), save=False)
    generation.save()
    return generation


def doctor_output():
    out = StringIO()
    try:
        call_command("doctor", stdout=out)
    except SystemExit:
        pass
    return out.getvalue()


@contextmanager
def own_moto(tmp_path, **env):
    """A moto server on a free port that the test may stop; yields its endpoint URL and process."""
    server = s3.MotoServer(tmp_path / "moto.log", **env)
    server.start()
    try:
        yield server.endpoint, server.process
    finally:
        server.stop()


def test_an_upload_lands_in_the_bucket_under_random_keys_naming_neither_user_nor_photo(client, owner, s3_bucket):
    upload(client)
    photo = Photo.objects.get()
    assert s3.keys(s3_bucket) == sorted([photo.image.name, photo.thumbnail.name])
    # A kind of file and 128 random bits: nothing of the user, the photo's name or when it came.
    assert all(re.fullmatch(r"photos/[0-9a-f]{32}\.(jpg|webp)", key) for key in s3.keys(s3_bucket))


def test_objects_are_private_granted_to_the_owner_account_alone(client, owner, s3_bucket):
    upload(client)
    for key in s3.keys(s3_bucket):
        grants = s3.client().get_object_acl(Bucket=s3_bucket, Key=key)["Grants"]
        assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
        assert all(g["Grantee"]["Type"] == "CanonicalUser" for g in grants)


def test_the_owner_gets_the_image_streamed_from_the_bucket(client, owner, s3_bucket):
    upload(client)
    photo = Photo.objects.get()
    response = client.get(reverse("gallery:photo-image", args=[photo.pk]))
    stored = s3.client().get_object(Bucket=s3_bucket, Key=photo.image.name)["Body"].read()
    assert (response.status_code, response["Content-Type"]) == (200, "image/jpeg")
    assert b"".join(response.streaming_content) == stored


def test_everyone_else_gets_the_same_404_as_for_a_missing_photo(client, owner, s3_bucket):
    upload(client)
    photo = Photo.objects.get()
    client.force_login(make_user("stranger"))
    assert client.get(reverse("gallery:photo-image", args=[photo.pk])).status_code == 404


def test_behind_nginx_the_app_hands_over_a_presigned_url_living_fta_s3_url_seconds(client, owner, s3_bucket, settings):
    settings.FTA_SENDFILE = "nginx"
    upload(client)
    photo = Photo.objects.get()
    response = client.get(reverse("gallery:photo-image", args=[photo.pk]))
    location = urlsplit(response["X-Accel-Redirect"])
    assert location.path == f"/protected-media/s3/{s3_bucket}/{photo.image.name}"
    assert parse_qs(location.query)["X-Amz-Expires"] == [str(settings.FTA_S3_URL_SECONDS)]
    assert response.content == b""


def test_deleting_a_photo_leaves_nothing_of_it_or_its_dogs_in_the_bucket(
    client, owner, s3_bucket, django_capture_on_commit_callbacks
):
    upload(client)
    photo = Photo.objects.get()
    add_dog(photo)
    assert len(s3.keys(s3_bucket)) == 6
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("gallery:photo-delete", args=[photo.pk]))
    assert s3.keys(s3_bucket) == []


def test_deleting_a_dog_leaves_nothing_of_it_in_the_bucket(client, owner, s3_bucket, django_capture_on_commit_callbacks):
    upload(client)
    photo = Photo.objects.get()
    dog = add_dog(photo)
    with django_capture_on_commit_callbacks(execute=True):
        dog.delete()
    assert s3.keys(s3_bucket) == sorted([photo.image.name, photo.thumbnail.name])


def test_deleting_the_account_empties_the_bucket_of_it(client, owner, s3_bucket, django_capture_on_commit_callbacks):
    upload(client)
    add_dog(Photo.objects.get())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account-delete"), {"password": "dog-portrait-42"})
    assert s3.keys(s3_bucket) == []


def test_the_data_export_and_the_dogs_zip_read_their_files_from_the_bucket(client, owner, s3_bucket):
    upload(client)
    photo = Photo.objects.get()
    dog = add_dog(photo)
    export = zipfile.ZipFile(io.BytesIO(b"".join(client.post(reverse("account-export")).streaming_content)))
    assert export.read(f"dogs/{dog.pk}.png") == b"\x89PNG result"
    assert export.read(f"photos/{photo.pk}.jpg")[:2] == b"\xff\xd8"
    dogs = zipfile.ZipFile(io.BytesIO(b"".join(client.post(reverse("gallery:download"), {"ids": [dog.pk]}).streaming_content)))
    assert [dogs.read(n) for n in dogs.namelist() if n.endswith(".png")] == [b"\x89PNG result"]


def test_with_the_s3_server_stopped_an_upload_answers_503_and_leaves_no_row(client, owner, settings, tmp_path):
    with own_moto(tmp_path) as (endpoint, process):
        bucket = s3.new_bucket(endpoint)
        s3.use_bucket(settings, bucket, endpoint)
        stop(process)
        response = upload(client)
    assert response.status_code == 503
    assert "We cannot store photos right now. Please try again in a few minutes." in response.content.decode()
    assert not Photo.objects.exists()


def test_files_s3_refused_to_delete_while_down_are_deleted_by_the_reconcile_pass(
    client, owner, settings, tmp_path, django_capture_on_commit_callbacks
):
    from gallery.generations.reconcile import reconcile

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = s3.start_moto(port, tmp_path / "moto.log")
    try:
        wait_until(lambda: urlopen(f"{endpoint}/moto-api/", timeout=1).status == 200, timeout=30, what="moto")
        bucket = s3.new_bucket(endpoint)
        s3.use_bucket(settings, bucket, endpoint)
        upload(client)
        photo = Photo.objects.get()
        stop(moto)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("gallery:photo-delete", args=[photo.pk]))
        assert response.status_code == 302 and not Photo.objects.exists()
        pending = sorted(PendingFileDeletion.objects.values_list("name", flat=True))
        assert pending == sorted([photo.image.name, photo.thumbnail.name])
        # S3 is back with the objects it held (a restart that kept its data).
        moto = s3.start_moto(port, tmp_path / "moto.log")
        wait_until(lambda: urlopen(f"{endpoint}/moto-api/", timeout=1).status == 200, timeout=30, what="moto again")
        s3.client(endpoint).create_bucket(Bucket=bucket)
        for name in pending:
            s3.client(endpoint).put_object(Bucket=bucket, Key=name, Body=b"left behind")
        reconcile()
        assert s3.keys(bucket, endpoint) == []
        assert not PendingFileDeletion.objects.exists()
    finally:
        stop(moto)


def test_with_the_s3_server_stopped_the_data_export_answers_503_with_a_sentence(client, owner, settings, tmp_path):
    with own_moto(tmp_path) as (endpoint, process):
        s3.use_bucket(settings, s3.new_bucket(endpoint), endpoint)
        upload(client)
        stop(process)
        response = client.post(reverse("account-export"))
    assert response.status_code == 503
    assert response.content.decode() == "Your pictures are out of reach for a moment. Please try again in a minute."


def test_with_the_s3_server_stopped_readyz_names_storage(client, settings, tmp_path):
    with own_moto(tmp_path) as (endpoint, process):
        s3.use_bucket(settings, s3.new_bucket(endpoint), endpoint)
        assert client.get(reverse("readyz")).status_code == 200
        stop(process)
        response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["failing"] == ["storage"]


def test_doctor_names_a_missing_bucket(settings, s3_bucket):
    settings.FTA_S3_BUCKET = "no-such-bucket"
    assert "FAIL media storage: S3 answers NoSuchBucket: check FTA_S3_BUCKET" in doctor_output()


def test_doctor_names_an_endpoint_that_does_not_answer(settings, s3_bucket):
    from gallery.storage import probe_client

    settings.FTA_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    probe_client.cache_clear()
    assert "FAIL media storage: S3 does not answer at FTA_S3_ENDPOINT_URL=http://127.0.0.1:" in doctor_output()


def test_doctor_names_an_access_key_the_server_does_not_know(settings, tmp_path):
    from gallery.storage import probe_client

    # INITIAL_NO_AUTH_ACTION_COUNT=0: this moto server checks every request's keys, like real S3.
    with own_moto(tmp_path, INITIAL_NO_AUTH_ACTION_COUNT="0") as (endpoint, _):
        s3.use_bucket(settings, "any-bucket", endpoint)
        settings.FTA_S3_ACCESS_KEY_ID = "AKIAWRONGWRONGWRONG0"
        probe_client.cache_clear()
        output = doctor_output()
    assert "FAIL media storage: S3 answers InvalidAccessKeyId: check FTA_S3_ACCESS_KEY_ID" in output


def test_doctor_names_a_wrong_secret_for_a_known_access_key(settings, tmp_path):
    from gallery.storage import probe_client

    # The first two requests go unchecked (they make the app's user and its keys), every later one is checked.
    with own_moto(tmp_path, INITIAL_NO_AUTH_ACTION_COUNT="2") as (endpoint, _):
        iam = boto3.client("iam", endpoint_url=endpoint, **s3.CREDENTIALS)
        iam.create_user(UserName="fta")
        key = iam.create_access_key(UserName="fta")["AccessKey"]
        s3.use_bucket(settings, "any-bucket", endpoint)
        settings.FTA_S3_ACCESS_KEY_ID = key["AccessKeyId"]
        settings.FTA_S3_SECRET_ACCESS_KEY = key["SecretAccessKey"][::-1]
        probe_client.cache_clear()
        output = doctor_output()
    assert "FAIL media storage: S3 answers SignatureDoesNotMatch: check FTA_S3_SECRET_ACCESS_KEY" in output


def test_doctor_says_ok_for_a_reachable_bucket(settings, s3_bucket):
    assert f"ok   media storage: S3 bucket {s3_bucket} at {settings.FTA_S3_ENDPOINT_URL} answers" in doctor_output()
