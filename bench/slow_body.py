"""Slow-body attack: connections that trickle a request body one byte every 2 s, while /showcase/ is timed.

gunicorn runs exactly as a Procfile's `web:` line says (default: this repository's Procfile), against
a throwaway SQLite database. Everything stays on 127.0.0.1 and every loop stops at its deadline.

Run from the repository root:
    python -m bench.slow_body [--procfile FILE] [--connections 2] [--length 100000] [--seconds 40]
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BYTE_INTERVAL = 2.0  # seconds between two trickled bytes, as in the attack


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def web_command(procfile):
    line = next(line for line in Path(procfile).read_text().splitlines() if line.startswith("web:"))
    return line.removeprefix("web:").strip()


def start_gunicorn(procfile, env):
    # bash expands $FTA_PORT and ${FTA_WEB_WORKERS:-2} exactly as honcho would.
    return subprocess.Popen(
        ["bash", "-c", "exec " + web_command(procfile)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def timed_get(url, timeout):
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            ok = response.status == 200
    except OSError:
        ok = False
    return time.monotonic() - started, ok


def trickle(port, deadline, length):
    """One attacker: full headers, then the body a byte at a time; when cut off, it connects again."""
    cut_offs = 0
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                conn.sendall(
                    b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\n" + f"Content-Length: {length}\r\n\r\n".encode()
                )
                while time.monotonic() < deadline:
                    conn.sendall(b"a")
                    time.sleep(BYTE_INTERVAL)
        except OSError:
            cut_offs += 1  # the server hung up on us: the defence worked, so try again
            time.sleep(0.1)
    cut_off_counts.append(cut_offs)


cut_off_counts = []


def probe(url, seconds):
    """/showcase/ latencies, one request a second, for `seconds` (the last may run past by its own timeout)."""
    deadline = time.monotonic() + seconds
    latencies, failures = [], 0
    while time.monotonic() < deadline:
        latency, ok = timed_get(url, timeout=max(deadline - time.monotonic(), 1) + 30)
        latencies.append(latency)
        failures += not ok
        time.sleep(max(0.0, 1.0 - latency))
    return latencies, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procfile", default=str(ROOT / "Procfile"))
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--length", type=int, default=100_000, help="the Content-Length announced and never finished")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fta-slow-body-"))
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "facetoanimals.settings",
        "FTA_VAR_DIR": str(work),
        "FTA_PORT": str(port),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    url = f"http://127.0.0.1:{port}/showcase/"
    server = start_gunicorn(args.procfile, env)
    try:
        started = time.monotonic()
        while not timed_get(url, timeout=2)[1]:
            if time.monotonic() - started > 30:
                raise SystemExit("gunicorn did not answer /showcase/ within 30 s")
            time.sleep(0.2)
        quiet, _ = probe(url, 5)
        deadline = time.monotonic() + args.seconds
        attackers = [threading.Thread(target=trickle, args=(port, deadline, args.length)) for _ in range(args.connections)]
        for thread in attackers:
            thread.start()
        time.sleep(1)  # the trickles are in before the first timed request
        attacked, failures = probe(url, args.seconds - 1)
        for thread in attackers:
            thread.join()
    finally:
        stop(server)

    print(f"gunicorn: {web_command(args.procfile)}")
    print(
        f"attack: {args.connections} connections announcing {args.length} bytes, 1 byte every {BYTE_INTERVAL:.0f} s,"
        f" for {args.seconds} s; cut off and reconnected {sum(cut_off_counts)} times"
    )
    print()
    print("| /showcase/ | requests | failed | median s | max s |")
    print("| --- | --- | --- | --- | --- |")
    for label, values, failed in (("quiet", quiet, 0), ("under attack", attacked, failures)):
        print(f"| {label} | {len(values)} | {failed} | {statistics.median(values):.3f} | {max(values):.3f} |")


if __name__ == "__main__":
    main()
