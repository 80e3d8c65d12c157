import tempfile

import pytest


@pytest.fixture(autouse=True)
def fresh_media_root(settings):
    """Each test starts with an empty media folder, so "nothing left on disk" means what it says."""
    with tempfile.TemporaryDirectory(prefix="fta-media-") as folder:
        settings.MEDIA_ROOT = folder
        yield folder
