"""Cut off request bodies that arrive slower than a minimum rate, so a trickle cannot hold a thread.

gunicorn's threads read the body while the view runs, and neither gthread's `--timeout` nor its
header timeout bounds that read: a client sending one byte every 2 s keeps a thread for as long as
it likes, and a few such clients take every thread (bench/slow_body.py, docs/SECURITY.md). nginx in
front buffers whole bodies and makes this moot; this guard covers running without it.

A body may take GRACE_SECONDS plus one second per MIN_BYTES_PER_SECOND it has delivered (and is
about to). A watchdog thread shuts down the reading side of a body over its allowance; the read
then raises BodyTooSlow, which the app answers with its 400 page. A body the app did not read (a
CSRF refusal, say) is read here before the answer, under the same allowance and up to DRAIN_MAX
bytes: gunicorn's own drain of it is bounded per 1 KB read, not in total, so a trickle held it.
"""

import socket
import threading
import time

from django.core.exceptions import BadRequest

GRACE_SECONDS = 10
MIN_BYTES_PER_SECOND = 10_000  # a poor mobile uplink sends more; a 20 MB upload may take up to 35 min
WATCH_INTERVAL = 0.5
PIECE = 16 * 1024
DRAIN_MAX = 64 * 1024  # more unread than this: stop reading and let the connection close


class BodyTooSlow(BadRequest):
    pass


class Watchdog:
    """One daemon thread per process that shuts down the sockets of bodies past their deadline."""

    def __init__(self):
        self.deadlines = {}
        self.lock = threading.Lock()
        self.thread = None

    def watch(self, body, deadline):
        with self.lock:
            self.deadlines[body] = deadline
            if self.thread is None:
                self.thread = threading.Thread(target=self.run, name="slow-body-watchdog", daemon=True)
                self.thread.start()

    def forget(self, body):
        with self.lock:
            self.deadlines.pop(body, None)

    def run(self):
        while True:
            time.sleep(WATCH_INTERVAL)
            now = time.monotonic()
            with self.lock:
                late = [body for body, deadline in self.deadlines.items() if deadline < now]
                for body in late:
                    del self.deadlines[body]
            for body in late:
                body.cut_off()


watchdog = Watchdog()


class RateLimitedInput:
    """wsgi.input whose reads must keep up with MIN_BYTES_PER_SECOND after GRACE_SECONDS."""

    def __init__(self, stream, sock, length):
        self.stream, self.sock, self.length = stream, sock, length
        self.started = time.monotonic()
        self.received = 0
        self.was_cut_off = False

    def cut_off(self):
        self.was_cut_off = True
        try:
            self.sock.shutdown(socket.SHUT_RD)  # wakes the blocked read with an end of file; answers still go out
        except OSError:
            pass

    def piece(self, read, size):
        """One read of at most PIECE bytes, allowed until the body's rate would drop below the minimum."""
        if self.was_cut_off:
            raise BodyTooSlow("request body too slow")
        watchdog.watch(self, self.started + GRACE_SECONDS + (self.received + size) / MIN_BYTES_PER_SECOND)
        try:
            data = read(size)
        except OSError:
            if self.was_cut_off:
                raise BodyTooSlow("request body too slow") from None
            raise
        finally:
            watchdog.forget(self)
        if self.was_cut_off:
            raise BodyTooSlow("request body too slow")
        self.received += len(data)
        return data

    def read(self, size=-1):
        # In pieces: gunicorn's read(size) waits for all `size` bytes, however slowly they come.
        size = size if size is not None and size >= 0 else float("inf")
        chunks = []
        while size > 0:
            data = self.piece(self.stream.read, int(min(size, PIECE)))
            if not data:
                break
            chunks.append(data)
            size -= len(data)
        return b"".join(chunks)

    def readline(self, size=-1):
        return self.piece(self.stream.readline, size if size is not None and 0 <= size <= PIECE else PIECE)

    def finish(self):
        """Read what the app left unread, within the allowance, or stop reading the connection."""
        unread = self.length - self.received
        if unread > DRAIN_MAX:
            self.cut_off()
            return
        try:
            self.read(unread)
        except (BodyTooSlow, OSError):
            self.cut_off()


def guard_slow_bodies(application):
    """WSGI middleware: under gunicorn (which hands us the socket), bodies get RateLimitedInput."""

    def guarded_application(environ, start_response):
        sock = environ.get("gunicorn.socket")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if sock is None or length <= 0:
            return application(environ, start_response)
        body = environ["wsgi.input"] = RateLimitedInput(environ["wsgi.input"], sock, length)

        def start_response_after_the_body(status, headers, exc_info=None):
            body.finish()
            return start_response(status, headers, exc_info)

        return application(environ, start_response_after_the_body)

    return guarded_application
