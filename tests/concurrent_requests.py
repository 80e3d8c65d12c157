"""Form posts sent to a real server at the same moment, as browsers send them (for tests and bench/)."""

import http.client
import threading
import uuid
from urllib.parse import urlencode, urlsplit

# A CSRF secret of our own choosing, sent as the cookie and as the form's field, so that they agree.
CSRF_TOKEN = "a" * 32


def form_body(fields):
    return "application/x-www-form-urlencoded", urlencode({**fields, "csrfmiddlewaretoken": CSRF_TOKEN}, doseq=True).encode()


def multipart_body(fields, files):
    """fields {name: value}; files {name: (filename, bytes)}."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in {**fields, "csrfmiddlewaretoken": CSRF_TOKEN}.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        parts.append(head.encode() + b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def post_at_once(base_url, path, bodies, session_key=None, timeout=120):
    """POST each (content type, body) to `path` from its own connection, all released together once
    every connection is open; returns the response statuses in order (redirects are not followed)."""
    host = urlsplit(base_url)
    cookie = f"csrftoken={CSRF_TOKEN}" + (f"; sessionid={session_key}" if session_key else "")
    ready = threading.Barrier(len(bodies))
    statuses = [None] * len(bodies)

    def send(index, content_type, body):
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=timeout)
        try:
            connection.connect()
            ready.wait()
            connection.request("POST", path, body=body, headers={"Content-Type": content_type, "Cookie": cookie})
            response = connection.getresponse()
            response.read()
            statuses[index] = response.status
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i, *body)) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses
