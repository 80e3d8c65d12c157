"""bin/supervise, which bin/run starts the web and the worker through: restarts, and stops that let work in flight end."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.request import urlopen

import pytest

from .processes import ROOT, free_port, post_in_two_halves, stop, subprocess_env, wait_until

SUPERVISE = str(ROOT / "bin" / "supervise")


def supervise(*options, script, log):
    """bin/supervise running a Python script that writes what happens to it into log."""
    child = [sys.executable, "-c", f"LOG = {str(log)!r}\n{script}"]
    return subprocess.Popen([SUPERVISE, *options, *child], start_new_session=True)


# The command stands for a worker: SIGTERM asks it to finish its job (a second away) and stop.
FINISHES_ITS_JOB = textwrap.dedent("""
    import signal, time
    stops = []
    def note(line):
        with open(LOG, "a") as log:
            log.write(line + "\\n")
    signal.signal(signal.SIGTERM, lambda *_: stops.append(note("stop")))
    note("started")
    while len(stops) < STOPS_BEFORE_EXIT:
        time.sleep(0.05)
    if STOPS_BEFORE_EXIT == 1:
        time.sleep(1)
    note("exited")
""")


def test_a_command_that_exits_is_started_again(tmp_path):
    log = tmp_path / "log"
    process = supervise(script="open(LOG, 'a').write('started\\n')", log=log)
    try:
        # Pauses of 1 s, then 2 s.
        wait_until(lambda: log.read_text().count("started") == 3, timeout=20, what="two restarts")
    finally:
        stop(process)


def stop_supervisor(log, *options, stops_before_exit):
    """Start a supervised command, stop the supervisor once, and return what the command went through."""
    process = supervise(*options, script=f"STOPS_BEFORE_EXIT = {stops_before_exit}\n{FINISHES_ITS_JOB}", log=log)
    try:
        wait_until(lambda: "started" in log.read_text(), timeout=10, what="the command starting")
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        stop(process)
    return log.read_text().split()


def test_a_stop_reaches_the_command_once_and_waits_for_it_to_finish(tmp_path):
    assert stop_supervisor(tmp_path / "log", stops_before_exit=1) == ["started", "stop", "exited"]


def test_stop_after_stops_a_command_that_is_still_running_at_once(tmp_path):
    events = stop_supervisor(tmp_path / "log", "--stop-after", "1", stops_before_exit=2)
    assert events == ["started", "stop", "stop", "exited"]


def procfile_command(name):
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith(f"{name}:"))
    return line.split(":", 1)[1].strip()


def answers(url):
    try:
        return urlopen(url, timeout=2).status == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_web_of_bin_run_comes_back_when_gunicorn_dies_and_a_stop_lets_a_request_in_flight_finish(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "web.log", "ab")
    # The Procfile's web line, as honcho runs it (bash expands $FTA_PORT).
    web = subprocess.Popen(
        ["bash", "-c", "exec " + procfile_command("web")],
        cwd=ROOT,
        env=subprocess_env(FTA_PORT=port),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: answers(url + "/healthz"), timeout=60, what="the web starting")
        (gunicorn,) = Path(f"/proc/{web.pid}/task/{web.pid}/children").read_text().split()
        os.killpg(int(gunicorn), signal.SIGKILL)  # gunicorn and its workers die (the out-of-memory killer, say)
        wait_until(lambda: not answers(url + "/healthz"), timeout=10, what="the web going down")
        wait_until(lambda: answers(url + "/healthz"), timeout=60, what="the web coming back")
        # Ctrl-C under bin/run: honcho sends SIGTERM, here while a login form is half sent.
        login = {"username": "nobody", "password": "not-the-password"}
        code, _headers, body, _waited = post_in_two_halves(
            url, "/accounts/login/", login, lambda: web.send_signal(signal.SIGTERM)
        )
        assert web.wait(10) == 0
    finally:
        stop(web)
    assert code == 200 and "Please enter a correct" in body, "the request in flight was answered in full"
    assert not answers(url + "/healthz")
