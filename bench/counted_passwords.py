"""Settings for bench.limit_race's web server: the test settings, with a password hasher that writes a
line for every password it checks, so the bench can tell how many guesses reached the check."""

import os
from pathlib import Path

from django.contrib.auth.hashers import MD5PasswordHasher

from tests.settings import *  # noqa: F403

PASSWORD_CHECKS = Path(os.environ["FTA_TEST_DIR"]) / "password-checks"


class CountingHasher(MD5PasswordHasher):
    """The test suite's MD5 hasher (same algorithm name, so the suite's hashes verify), counting."""

    def verify(self, password, encoded):
        with PASSWORD_CHECKS.open("a") as checks:
            checks.write("checked\n")
        return super().verify(password, encoded)


PASSWORD_HASHERS = ["bench.counted_passwords.CountingHasher"]
