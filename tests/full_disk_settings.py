"""The test settings with a media storage that runs out of space (tests.faults.FullDiskStorage)."""

from tests.settings import *  # noqa: F403

STORAGES = {**STORAGES, "default": {"BACKEND": "tests.faults.FullDiskStorage"}}  # noqa: F405
