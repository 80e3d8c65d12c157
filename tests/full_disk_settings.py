"""The test settings with a media storage that runs out of space (tests.faults.FullDiskStorage)."""

from tests.settings import *  # noqa: F403

FULL = "tests.faults.FullBucketStorage" if FTA_STORAGE == "s3" else "tests.faults.FullDiskStorage"  # noqa: F405
STORAGES = {**STORAGES, "default": {**STORAGES["default"], "BACKEND": FULL}}  # noqa: F405
