import tempfile

import pytest
from django.core.management import call_command


@pytest.fixture(autouse=True)
def fresh_media_root(settings):
    """Each test starts with an empty media folder, so "nothing left on disk" means what it says."""
    with tempfile.TemporaryDirectory(prefix="fta-media-") as folder:
        settings.MEDIA_ROOT = folder
        yield folder


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
