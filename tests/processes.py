"""Real subprocesses for tests: generation workers and gunicorn, sharing the test database and media."""

import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

import redis
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url():
    """The URL of the test database this test process uses (a file for SQLite, test_… for PostgreSQL)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or ""
    auth = f"{user}:{db['PASSWORD']}@" if db.get("PASSWORD") else (f"{user}@" if user else "")
    return f"postgres://{auth}{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def subprocess_env(**extra):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "FTA_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "REDIS_URL": settings.REDIS_URL,
        "PYTHONUNBUFFERED": "1",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def development_env(var_dir, **extra):
    """The environment of a fresh clone's first `./bin/run`: the real settings in development (no test
    settings, no DATABASE_URL: SQLite under var_dir, mail to the console and the development outbox), with
    only Redis and `extra` given; nothing of this test run's FTA_* or DJANGO_* settings leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FTA_", "DJANGO_")) and k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="facetoanimals.settings", FTA_VAR_DIR=str(var_dir), REDIS_URL=settings.REDIS_URL)
    env.update({k: str(v) for k, v in extra.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_worker(log_path, options=(), environment=None, **env):
    """`manage.py rqworker gpu [options]`, exactly as operators start it, in its own process group.

    environment: the whole environment (development_env) instead of the test settings with `env`."""
    log = open(log_path, "ab")
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "gpu", *options],
        cwd=ROOT,
        env=environment or subprocess_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process, sig=signal.SIGTERM, timeout=20):
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def gunicorn(log_path, workers=2, environment=None, **env):
    """The web app served by gunicorn on a free port; yields its base URL (environment: as for start_worker)."""
    port = free_port()
    log = open(log_path, "ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "facetoanimals.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            "4",
            "--access-logfile",
            "-",
        ],
        cwd=ROOT,
        env=environment or subprocess_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: urlopen(url + "/accounts/login/", timeout=2).status == 200, timeout=60, what="gunicorn")
        yield url
    finally:
        stop(process)


def post_in_two_halves(url, path, fields, between, session_key=None):
    """POST a multipart form, {name: text or (file name, bytes)}, over a raw connection: the first half
    of the body, then between() (a fault landing mid-request), then the rest. Returns (status, headers,
    body, seconds from the last byte sent to the answer)."""
    from django.conf import settings

    token = secrets.token_hex(16)  # a CSRF cookie of our own, which the form repeats
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in {"csrfmiddlewaretoken": token, **fields}.items():
        if isinstance(value, tuple):
            filename, data = value
            head = (
                f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: application/octet-stream'
            )
        else:
            head, data = f'Content-Disposition: form-data; name="{name}"', value.encode()
        parts.append(f"--{boundary}\r\n{head}\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    cookies = f"{settings.CSRF_COOKIE_NAME}={token}"
    if session_key:
        cookies += f"; {settings.SESSION_COOKIE_NAME}={session_key}"
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("Cookie", cookies)
        connection.endheaders()
        connection.send(body[: len(body) // 2])
        between()
        connection.send(body[len(body) // 2 :])
        sent = time.monotonic()
        response = connection.getresponse()
        answer = response.read().decode()
        return response.status, response.headers, answer, time.monotonic() - sent
    finally:
        connection.close()


def upload_in_two_halves(url, session_key, data, between):
    """A photo posted to the upload form, with a fault landing mid-upload (post_in_two_halves)."""
    return post_in_two_halves(url, "/photos/new/", {"image": ("me.jpg", data)}, between, session_key)


class RedisServer:
    """A redis-server of a test's own on a free port, which it may stop and start again empty."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = open(self.directory / "redis.log", "ab")
        self.process = subprocess.Popen(command, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: redis.Redis(port=self.port).ping(), timeout=10, what="redis-server starting")

    def stop(self):
        """Like `redis-cli shutdown nosave`: everything in it is gone."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def pause(self):
        """Hung: it still accepts connections (the kernel does), and answers nothing."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)


class PostgresServer:
    """A PostgreSQL cluster of a test's own on a free port, which it may restart, stop or hang (SIGSTOP)
    without touching the machine's shared server. PostgreSQL runs as the postgres user, so the cluster
    lives in a folder of its own under the temporary directory (pytest's are closed to other users)."""

    BIN = Path("/usr/lib/postgresql/15/bin")

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="fta-postgres-"))
        shutil.chown(self.directory, "postgres")
        self.data = self.directory / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/facetoanimals"

    def run(self, program, *arguments):
        command = ["runuser", "-u", "postgres", "--", str(self.BIN / program), *map(str, arguments)]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)

    def create(self):
        self.run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres")
        self.start()
        self.run("createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", "facetoanimals")

    def start(self):
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self.run("pg_ctl", "-D", self.data, "-o", options, "-l", self.directory / "postgres.log", "-w", "start")

    def stop(self):
        """A fast shutdown, as a restart does: sessions are ended, new connections refused."""
        self.run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def processes(self):
        """The postmaster and every process it started (backends, checkpointer, …)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def pause(self):
        """Hung: connections are still accepted by the kernel, and no process of the cluster answers."""
        self.signal(signal.SIGSTOP)

    def resume(self):
        self.signal(signal.SIGCONT)

    def signal(self, number):
        for pid in self.processes():  # the postmaster first: it starts no process once stopped
            try:
                os.kill(pid, number)
            except ProcessLookupError:
                pass  # a backend that ended meanwhile

    def remove(self):
        if (self.data / "postmaster.pid").exists():
            self.resume()
            self.run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


def wait_until(predicate, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001  not up yet
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(interval)


def run_python(code, **env):
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "facetoanimals.settings", **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120)
