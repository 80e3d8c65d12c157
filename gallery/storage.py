"""The media storage (settings.STORAGES["default"]): what counts as it being down, and checking it.

Every photo and dog goes through Django's storage API, so local disk and an S3 bucket behave alike.
"""

import tempfile
from functools import lru_cache
from pathlib import Path

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.storage import default_storage

# What storage raises when it cannot be reached or refuses us (a missing file is FileNotFoundError).
STORAGE_ERRORS = (BotoCoreError, ClientError, PermissionError, OSError)


class StorageUnavailable(Exception):
    """The media storage cannot be reached or refuses our credentials."""


class StorageMisconfigured(Exception):
    """Raised by check_storage with the setting to fix."""


def is_storage_error(exc):
    return isinstance(exc, STORAGE_ERRORS) and not isinstance(exc, FileNotFoundError)


@lru_cache(maxsize=1)
def probe_client():
    """An S3 client that gives up fast: /readyz and `doctor` must answer in a second or two."""
    import boto3

    options = default_storage.client_config.merge(Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 1}))
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.FTA_S3_ENDPOINT_URL,
        region_name=settings.FTA_S3_REGION,
        aws_access_key_id=settings.FTA_S3_ACCESS_KEY_ID,
        aws_secret_access_key=settings.FTA_S3_SECRET_ACCESS_KEY,
        config=options,
    )


# S3 error codes → the setting that is wrong.
WRONG_SETTING = {
    "NoSuchBucket": "FTA_S3_BUCKET",
    "InvalidBucketName": "FTA_S3_BUCKET",
    "InvalidAccessKeyId": "FTA_S3_ACCESS_KEY_ID",
    "SignatureDoesNotMatch": "FTA_S3_SECRET_ACCESS_KEY",
    "AuthorizationHeaderMalformed": "FTA_S3_REGION",
    "PermanentRedirect": "FTA_S3_REGION",
}


def check_storage():
    """A one-line description of the working storage, or StorageMisconfigured saying what to fix."""
    if settings.FTA_STORAGE == "local":
        root = Path(settings.MEDIA_ROOT)
        try:
            root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=root):
                pass
        except OSError as exc:
            raise StorageMisconfigured(f"cannot write to FTA_MEDIA_ROOT={root} ({exc.strerror}): fix its permissions") from exc
        return f"local folder {root} is writable"
    bucket = settings.FTA_S3_BUCKET
    try:
        probe_client().list_objects_v2(Bucket=bucket, MaxKeys=1)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        setting = WRONG_SETTING.get(code)
        if setting:
            raise StorageMisconfigured(f"S3 answers {code}: check {setting}") from exc
        raise StorageMisconfigured(
            f"S3 refuses to list bucket {bucket} ({code}): give FTA_S3_ACCESS_KEY_ID's keys read, write and delete on it"
        ) from exc
    except BotoCoreError as exc:
        raise StorageMisconfigured(
            f"S3 does not answer at FTA_S3_ENDPOINT_URL={settings.FTA_S3_ENDPOINT_URL or '(AWS)'} ({exc.__class__.__name__})"
        ) from exc
    return f"S3 bucket {bucket} at {settings.FTA_S3_ENDPOINT_URL or 'AWS'} answers"
