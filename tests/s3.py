"""S3 for tests: bin/test's moto server (standalone, over HTTP), never an in-process mock."""

import os
import signal
import subprocess
import sys
import uuid
from urllib.request import urlopen

import boto3
from botocore.config import Config

from facetoanimals.settings import s3_storage

from .processes import free_port, stop, wait_until

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def moto_endpoint():
    endpoint = os.environ.get("FTA_TEST_S3_ENDPOINT")
    assert endpoint, "FTA_TEST_S3_ENDPOINT is unset: run the tests through bin/test, which starts a moto server"
    return endpoint


def client(endpoint=None):
    return boto3.client(
        "s3", endpoint_url=endpoint or moto_endpoint(), config=Config(retries={"total_max_attempts": 1}), **CREDENTIALS
    )


def new_bucket(endpoint=None):
    name = f"fta-{uuid.uuid4().hex[:16]}"
    client(endpoint).create_bucket(Bucket=name)
    return name


def keys(bucket, endpoint=None):
    return sorted(o["Key"] for o in client(endpoint).list_objects_v2(Bucket=bucket).get("Contents", []))


def empty(bucket, endpoint=None):
    for key in keys(bucket, endpoint):
        client(endpoint).delete_object(Bucket=bucket, Key=key)


def ensure_empty(bucket, endpoint=None):
    s3 = client(endpoint)
    if bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        empty(bucket, endpoint)
    else:
        s3.create_bucket(Bucket=bucket)


def s3_settings(bucket, endpoint=None):
    """The Django settings that put media on a bucket of a moto server."""
    from django.conf import settings

    endpoint = endpoint or moto_endpoint()
    return {
        "FTA_STORAGE": "s3",
        "FTA_S3_BUCKET": bucket,
        "FTA_S3_ENDPOINT_URL": endpoint,
        "FTA_S3_REGION": CREDENTIALS["region_name"],
        "FTA_S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "FTA_S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "STORAGES": {
            **settings.STORAGES,
            "default": s3_storage(bucket, endpoint, "us-east-1", "testing", "testing", settings.FTA_S3_URL_SECONDS),
        },
    }


def use_bucket(settings, bucket, endpoint=None):
    """Point this test's settings (and so default_storage) at a bucket of the moto server."""
    from gallery.storage import probe_client

    for name, value in s3_settings(bucket, endpoint).items():
        setattr(settings, name, value)
    probe_client.cache_clear()


def s3_env(bucket, endpoint=None):
    """The environment that puts a subprocess (gunicorn, a worker) on this bucket."""
    return {
        "FTA_STORAGE": "s3",
        "FTA_S3_BUCKET": bucket,
        "FTA_S3_ENDPOINT_URL": endpoint or moto_endpoint(),
        "FTA_S3_REGION": CREDENTIALS["region_name"],
        "FTA_S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "FTA_S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
    }


def start_moto(port, log_path, **env):
    """A moto server of the test's own, to stop and start (bin/test's shared one stays up)."""
    log = open(log_path, "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


class MotoServer:
    """A moto server of a test's own on a free port, which it may stop, start again (empty: moto keeps
    its buckets in memory) or hang (SIGSTOP: the kernel still accepts connections, nothing answers)."""

    def __init__(self, log_path, **env):
        self.log_path, self.env = log_path, env
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        self.process = start_moto(self.port, self.log_path, **self.env)
        wait_until(lambda: urlopen(f"{self.endpoint}/moto-api/", timeout=1).status == 200, timeout=30, what="moto starting")

    def stop(self):
        if self.process:
            self.resume()
            stop(self.process)

    def pause(self):
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGCONT)
