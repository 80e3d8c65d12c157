"""Without weights no dog looks as if it is being made: each worker says in Redis whether its pipeline is
loaded; while none of them has weights the site refuses new dogs with a sentence for the person and one for
the operator, and a job that slips in fails at once. A ready worker's pipeline also sets the default size."""

import pytest
from django.test import override_settings
from django.urls import reverse

from gallery.generations import readiness
from gallery.generations.job_steps import ENGINE
from gallery.generations.queue import get_queue
from gallery.models import Generation
from transform.engine import Engine
from transform.pipeline import ModelNotAvailable

from .factories import make_generation, make_photo, make_user
from .processes import start_worker, stop, wait_until
from .worker_helpers import queue_generations

OPERATOR_HELP = "python manage.py download_models"


@pytest.fixture
def pipelines(redis_connection):
    """Announce pipeline states as workers do (the worker tests below show that they do)."""

    def announce(state, name="gpu-1:1", **defaults):
        readiness.announce(redis_connection, name, state, "no weights here" if state == readiness.MISSING else "", defaults)

    return announce


@pytest.fixture
def owner_client(client):
    user = make_user()
    client.force_login(user)
    client.photo = make_photo(user)
    return client


def test_no_worker_heard_means_nothing_is_refused(redis_connection):
    assert readiness.fleet().without_weights is False


def test_every_worker_without_weights_means_no_dog_can_be_made(pipelines):
    pipelines(readiness.MISSING, "a:1")
    pipelines(readiness.MISSING, "b:2")
    assert readiness.fleet().without_weights is True


@pytest.mark.parametrize("other", [readiness.READY, readiness.LOADING])
def test_one_worker_ready_or_still_loading_is_enough(pipelines, other):
    pipelines(readiness.MISSING, "a:1")
    pipelines(other, "b:2")
    assert readiness.fleet().without_weights is False


def test_a_worker_that_went_silent_drops_out(pipelines, settings):
    settings.FTA_WORKER_HEARTBEAT_TTL = -1  # its entry expired the moment it was written
    pipelines(readiness.MISSING)
    assert readiness.fleet().workers == {}


def test_an_unreadable_entry_is_ignored(redis_connection, pipelines):
    redis_connection.hset(readiness.HASH_KEY, "x:1", "{not json")
    pipelines(readiness.READY, width=256, height=256)
    assert list(readiness.fleet().workers) == ["gpu-1:1"]
    assert readiness.fleet().defaults == {"width": 256, "height": 256}


@pytest.mark.django_db
def test_the_photo_page_says_no_dog_can_be_made_and_what_the_operator_sets_up(pipelines, owner_client):
    pipelines(readiness.MISSING)
    page = owner_client.get(reverse("gallery:photo", args=[owner_client.photo.pk]))
    assert "The dog generator has no model weights yet" in page.content.decode()
    assert OPERATOR_HELP in page.content.decode() and "python manage.py doctor" in page.content.decode()


@pytest.mark.django_db
def test_asking_for_a_dog_is_refused_with_503_and_leaves_nothing(pipelines, owner_client):
    pipelines(readiness.MISSING)
    for url, data in (
        (reverse("gallery:generate", args=[owner_client.photo.pk]), {"face": 0, "breed": "pug"}),
        (reverse("gallery:generate", args=[owner_client.photo.pk]), {"face": 0, "breed": "pug", "count": 4}),
        (reverse("gallery:generate-lineup", args=[owner_client.photo.pk]), {"face": 0}),
        (reverse("gallery:generate-group", args=[owner_client.photo.pk]), {}),
    ):
        response = owner_client.post(url, data)
        assert response.status_code == 503, url
        assert "The dog generator has no model weights yet" in response.content.decode()
    assert not Generation.objects.exists()


@pytest.mark.django_db
def test_retry_and_again_are_refused_too(pipelines, owner_client):
    failed = make_generation(owner_client.photo, status="failed", error=readiness.NO_WEIGHTS)
    pipelines(readiness.MISSING)
    for name in ("gallery:generation-retry", "gallery:generation-regenerate"):
        response = owner_client.post(reverse(name, args=[failed.pk]))
        assert response.status_code == 503
        assert OPERATOR_HELP in response.content.decode()
    assert list(Generation.objects.values_list("status", flat=True)) == ["failed"]


@pytest.mark.django_db
@override_settings(FTA_ENV="production")
def test_in_production_only_staff_read_the_operators_sentence(pipelines, client):
    pipelines(readiness.MISSING)
    person, staff = make_user("person"), make_user("staff", is_staff=True)
    for user, sees_help in ((person, False), (staff, True)):
        client.force_login(user)
        page = client.get(reverse("gallery:photo", args=[make_photo(user).pk])).content.decode()
        assert "The dog generator has no model weights yet" in page
        assert (OPERATOR_HELP in page) is sees_help


@pytest.mark.django_db
def test_a_dog_that_failed_for_missing_weights_says_what_to_set_up(owner_client):
    failed = make_generation(owner_client.photo, status="failed", error=readiness.NO_WEIGHTS)
    page = owner_client.get(reverse("gallery:generation", args=[failed.pk])).content.decode()
    assert page.count("The dog generator has no model weights yet") == 1
    assert OPERATOR_HELP in page


def test_an_engine_that_found_no_weights_does_not_try_the_download_again(tmp_path):
    engine = Engine(tmp_path / "missing-sd", tmp_path / "missing-controlnet", device="cpu")
    with pytest.raises(ModelNotAvailable) as first:
        engine.load()
    with pytest.raises(ModelNotAvailable) as second:
        engine.load()
    assert second.value is first.value


def test_the_tiny_pipeline_draws_256_pixels_by_default_and_sd_15_its_own_512(tiny_engine):
    from transform.params import default_side

    assert tiny_engine.default_size() == {"width": 256, "height": 256}
    assert default_side(64 * 8) == 512  # SD 1.5: a 64-latent UNet, a VAE scaling by 8


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_without_weights_says_so_and_fails_a_job_that_slips_in_at_once(photo, redis_connection, worker_env, tmp_path):
    env = {**worker_env, "FTA_SD_MODEL": tmp_path / "missing"}
    worker = start_worker(tmp_path / "worker.log", **env)
    try:
        wait_until(lambda: readiness.fleet().without_weights, timeout=180, what="the worker saying it has no weights")
        (entry,) = readiness.fleet().workers.values()
        assert "FTA_SD_MODEL" in entry["detail"] and "download_models" in entry["detail"]
        (generation,) = queue_generations(photo, 1, steps=2)  # queued before the page could refuse it
        wait_until(lambda: Generation.objects.get(pk=generation.pk).status == "failed", timeout=60, what="the job failing")
    finally:
        stop(worker)
    generation.refresh_from_db()
    assert generation.error == readiness.NO_WEIGHTS
    assert "ModelNotAvailable" in generation.traceback
    assert (tmp_path / "worker.log").read_text().count("No dog can be made until the weights are set up") == 1
    assert readiness.fleet().workers == {}, "a worker that stops withdraws its entry"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_the_tiny_pipeline_makes_the_page_offer_its_quick_size(photo, redis_connection, worker_env, tmp_path, client):
    worker = start_worker(tmp_path / "worker.log", **worker_env)
    try:
        wait_until(lambda: readiness.fleet().defaults, timeout=180, what="the worker saying its pipeline is ready")
        client.force_login(photo.owner)
        page = client.get(reverse("gallery:photo", args=[photo.pk])).content.decode()
        assert '<option value="256" selected>' in page
        # A top-five button sends the breed alone: the dog is drawn at the pipeline's own size.
        client.post(reverse("gallery:generate", args=[photo.pk]), {"face": 0, "breed": "pug"})
        generation = Generation.objects.get()
        wait_until(lambda: Generation.objects.get(pk=generation.pk).status == "succeeded", timeout=120, what="the dog")
    finally:
        stop(worker)
    generation.refresh_from_db()
    assert (generation.params["width"], generation.params["height"]) == (256, 256)


def test_the_worker_announces_what_its_engine_says(redis_connection, tiny_engine, monkeypatch):
    from gallery.generations.worker import PipelineWorker

    monkeypatch.setattr(ENGINE, "engine", tiny_engine)
    PipelineWorker([get_queue()], connection=redis_connection).announce_pipeline()
    (entry,) = readiness.fleet().workers.values()
    assert (entry["state"], entry["defaults"]) == (readiness.READY, {"width": 256, "height": 256})
