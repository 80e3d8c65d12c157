"""The media storage (settings.STORAGES["default"]): what counts as it being down, and checking it.

Every photo and dog goes through Django's storage API, so local disk and an S3 bucket behave alike.
"""

import errno
import tempfile
from functools import lru_cache
from pathlib import Path

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.storage import default_storage

# What storage may raise (a missing file is FileNotFoundError). Not all of it means storage failed:
# is_storage_error says which does.
STORAGE_ERRORS = (BotoCoreError, ClientError, OSError)
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class StorageUnavailable(Exception):
    """The media storage cannot be reached or refuses our credentials."""


class StorageMisconfigured(Exception):
    """Raised by check_storage with the setting to fix, and `reason`: a short phrase that names no
    bucket, path or address (/readyz shows it to anyone)."""

    def __init__(self, message, reason):
        super().__init__(message)
        self.reason = reason


def is_storage_error(exc):
    """True when storage itself failed: S3 refused or did not answer, or the disk did (an OSError with
    an errno). A missing file is not, nor is an OSError without an errno: that is PIL saying it cannot
    decode an image (UnidentifiedImageError, "image file is truncated"), which no wait would cure."""
    if isinstance(exc, (BotoCoreError, ClientError)):
        return True
    return isinstance(exc, OSError) and exc.errno is not None and not isinstance(exc, FileNotFoundError)


def is_storage_outage(exc):
    """Storage down or refusing us: worth waiting for. A full disk is not: waiting would not empty it."""
    return is_storage_error(exc) and getattr(exc, "errno", None) not in DISK_FULL


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


# S3 error codes → the setting that is wrong, and the reason /readyz gives.
WRONG_SETTING = {
    "NoSuchBucket": ("FTA_S3_BUCKET", "the bucket does not exist"),
    "InvalidBucketName": ("FTA_S3_BUCKET", "the bucket does not exist"),
    "InvalidAccessKeyId": ("FTA_S3_ACCESS_KEY_ID", "S3 refuses our keys"),
    "SignatureDoesNotMatch": ("FTA_S3_SECRET_ACCESS_KEY", "S3 refuses our keys"),
    "AuthorizationHeaderMalformed": ("FTA_S3_REGION", "S3 refuses our region"),
    "PermanentRedirect": ("FTA_S3_REGION", "S3 refuses our region"),
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
            raise StorageMisconfigured(
                f"cannot write to FTA_MEDIA_ROOT={root} ({exc.strerror}): fix its permissions or free space",
                "the media folder is not writable",
            ) from exc
        return f"local folder {root} is writable"
    bucket = settings.FTA_S3_BUCKET
    try:
        probe_client().list_objects_v2(Bucket=bucket, MaxKeys=1)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in WRONG_SETTING:
            setting, reason = WRONG_SETTING[code]
            hint = ", or create it (from a backup if it held pictures)" if code == "NoSuchBucket" else ""
            raise StorageMisconfigured(f"S3 answers {code}: check {setting}{hint}", reason) from exc
        raise StorageMisconfigured(
            f"S3 refuses to list bucket {bucket} ({code}): give FTA_S3_ACCESS_KEY_ID's keys read, write and delete on it",
            "S3 refuses to list the bucket",
        ) from exc
    except BotoCoreError as exc:
        raise StorageMisconfigured(
            f"S3 does not answer at FTA_S3_ENDPOINT_URL={settings.FTA_S3_ENDPOINT_URL or '(AWS)'} ({exc.__class__.__name__})",
            "S3 does not answer",
        ) from exc
    return f"S3 bucket {bucket} at {settings.FTA_S3_ENDPOINT_URL or 'AWS'} answers"


def storage_fault():
    """Why storage as a whole fails (check_storage's reason), or None. Asked when a file is missing: S3
    answers a lost bucket's keys with 404, as it does a deleted file's."""
    try:
        check_storage()
    except StorageMisconfigured as exc:
        return exc.reason
    return None
