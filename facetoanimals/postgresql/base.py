"""Django's PostgreSQL backend, with a bound on every wait for the server's answer.

The server bounds a query itself (statement_timeout) and libpq bounds connecting (connect_timeout);
but a server that hangs (stopped, or cut off with its TCP connection still open) cancels nothing and
answers nothing, and psycopg would wait for it for ever, and the request or the worker with it. Here
each wait ends after OPTIONS["wait_limit"] seconds: the connection, caught mid-answer, is closed and
OperationalError raised, which the web answers with a 503 (gallery.errors). settings.py sets it.
"""

import psycopg
from django.db.backends.postgresql import base
from psycopg import errors

# psycopg's own default between checks for an interruption (psycopg.connection._WAIT_INTERVAL).
WAIT_INTERVAL = 0.1


class BoundedConnection(psycopg.Connection):
    wait_limit = None  # seconds; None waits as long as the server takes

    def wait(self, gen, interval=WAIT_INTERVAL, timeout=None):
        if timeout is not None or self.wait_limit is None:  # psycopg's own bounded waits handle their timeout
            return super().wait(gen, interval=interval, timeout=timeout)
        try:
            return super().wait(gen, interval=interval, timeout=self.wait_limit)
        except errors._WaitTimeout as exc:  # psycopg is pinned: its wait functions raise this on a timeout
            self.pgconn.finish()
            raise errors.OperationalError(f"the database did not answer within {self.wait_limit:g} s") from exc


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        self.wait_limit = params.pop("wait_limit", None)
        return params

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        # Django calls psycopg.connect(), which takes no connection class; this one adds a method only.
        connection.__class__ = BoundedConnection
        connection.wait_limit = self.wait_limit
        return connection
