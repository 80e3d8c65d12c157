import tempfile

import pytest
from django.core.management import call_command

from gallery.generations.queue import get_queue

from . import s3
from .factories import make_uploaded_photo
from .processes import RedisServer


@pytest.fixture(autouse=True)
def fresh_media_root(settings):
    """Each test starts with an empty media folder (and, with FTA_STORAGE=s3, an empty bucket), so
    "nothing left behind" means what it says."""
    with tempfile.TemporaryDirectory(prefix="fta-media-") as folder:
        settings.MEDIA_ROOT = folder
        if settings.FTA_STORAGE == "s3":
            s3.ensure_empty(settings.FTA_S3_BUCKET, settings.FTA_S3_ENDPOINT_URL)
        yield folder


@pytest.fixture
def s3_bucket(settings):
    """A fresh bucket on bin/test's moto server, used by default_storage for this test (any FTA_STORAGE)."""
    bucket = s3.new_bucket()
    s3.use_bucket(settings, bucket)
    yield bucket
    s3.empty(bucket)


@pytest.fixture(scope="session")
def tiny_pipeline_dir(tmp_path_factory):
    """A tiny random-weight pipeline written once per session by `manage.py make_test_pipeline`."""
    directory = tmp_path_factory.mktemp("tiny-pipeline")
    call_command("make_test_pipeline", str(directory))
    return directory


@pytest.fixture(scope="session")
def tiny_engine(tiny_pipeline_dir):
    """An Engine on the tiny pipeline, loaded once and shared by the session's tests."""
    from transform.engine import Engine
    from transform.pipeline import LoadOptions

    # One thread: on a CPU shared with other processes, two threads that wait for each other are ~10x slower.
    options = LoadOptions(torch_threads=1)
    engine = Engine(tiny_pipeline_dir / "sd", tiny_pipeline_dir / "controlnet", device="cpu", options=options)
    engine.load()
    return engine


@pytest.fixture
def worker_engine(tiny_pipeline_dir, settings):
    """The worker's engine as the settings describe it, for jobs run in this process: the tiny pipeline on the CPU."""
    from gallery.generations.job_steps import ENGINE

    settings.FTA_SD_MODEL = str(tiny_pipeline_dir / "sd")
    settings.FTA_CONTROLNET_MODEL = str(tiny_pipeline_dir / "controlnet")
    settings.FTA_DEVICE = "cpu"
    settings.FTA_MAX_BATCH = 3
    connection = get_queue().connection
    connection.flushdb()
    ENGINE.forget()
    yield ENGINE.get()
    ENGINE.forget()
    connection.flushdb()


@pytest.fixture
def redis_connection():
    """The test Redis, emptied before and after (only its own database: stale jobs of other tests must not run)."""
    connection = get_queue().connection
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def own_redis(tmp_path, settings):
    """A Redis for this test alone, so that stopping or hanging it leaves the suite's Redis alone."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    settings.REDIS_URL = server.url
    yield server
    server.resume()  # a test that failed while it was hung
    server.stop()


@pytest.fixture
def worker_env(tiny_pipeline_dir):
    """The environment of a worker subprocess on the tiny pipeline, with quick heartbeats and reconcile passes."""
    return {
        "FTA_SD_MODEL": tiny_pipeline_dir / "sd",
        "FTA_CONTROLNET_MODEL": tiny_pipeline_dir / "controlnet",
        "FTA_DEVICE": "cpu",
        "FTA_RECONCILE_INTERVAL": 2,
        "FTA_WORKER_HEARTBEAT_TTL": 4,
        "FTA_TORCH_THREADS": 1,  # two workers share two cores
    }


@pytest.fixture
def photo():
    return make_uploaded_photo()
