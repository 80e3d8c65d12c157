"""Settings from environment variables: one strict reader per kind of value.

Unset or empty means the default. Any other value a reader does not accept stops start-up with one
line on stderr that names the variable and what it accepts (StartUpRefused: no traceback), under
manage.py, gunicorn (facetoanimals/wsgi.py) and the worker alike. Problems that need several settings
at once are Django system checks (facetoanimals/checks.py), so that all of them show at once.

ACCEPTS records what each variable read accepts, in the words of README's Configuration table (a test
holds the two together). Refusals quote the value, except a URL's: it may carry a password.
"""

import ipaddress
import os
import re
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from transform.strict_numbers import parse_integer

ACCEPTS = {}

BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


class StartUpRefused(SystemExit):
    """Start-up stops: Python writes the lines to stderr and exits with status 1, no traceback.

    A SystemExit rather than ImproperlyConfigured: an exception raised while the settings load
    reaches the terminal as a traceback under manage.py and gunicorn alike."""

    def __init__(self, *lines):
        self.lines = [f"Facetoanimals: {line}" for line in lines]
        super().__init__("\n".join(self.lines))


def stop_start_up(message):
    raise StartUpRefused(message)


def _read(name, accepts):
    ACCEPTS[name] = accepts
    return os.environ.get(name, "")


def _refuse(name, accepts, value):
    stop_start_up(f"{name} must be {accepts.replace('`', '')}, not {value!r}.")


def _or_list(items):
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def env_str(name, default=""):
    """Any text: a name, a password, a model id."""
    return _read(name, "text") or default


def env_path(name, default):
    return Path(_read(name, "folder") or default)


def env_bool(name, default=False):
    """Strict, as healthchecks' envbool: a misspelt value stops start-up instead of silently meaning "off"."""
    value = _read(name, "boolean").strip()
    if not value:
        return default
    if value.lower() not in BOOLEANS:
        _refuse(name, f"a boolean ({_or_list(BOOLEANS)}, any case)", value)
    return BOOLEANS[value.lower()]


def env_int(name, default, *, minimum, maximum=None, unit=""):
    """A whole number from `minimum` to `maximum` (None: no upper bound); `unit` names what it counts."""
    span = f"{minimum} or more" if maximum is None else f"from {minimum} to {maximum}"
    accepts = f"whole number{f' of {unit}' if unit else ''}, {span}"
    value = _read(name, accepts).strip()
    if not value:
        return default
    try:
        number = parse_integer(value)
    except ValueError:
        number = None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        _refuse(name, f"a {accepts}", value)
    return number


def env_choice(name, default, choices):
    """One of `choices`, exactly; an empty string among them is a choice of its own ("empty")."""
    shown = [f"`{choice}`" if choice else "empty" for choice in choices]
    value = _read(name, _or_list(shown)).strip() or default
    if value not in choices:
        stop_start_up(f"{name} must be one of {', '.join(shown).replace('`', '')}, not {value!r}.")
    return value


def env_match(name, default, pattern, accepts):
    """Text that the regular expression `pattern` matches entirely; `accepts` says which, in README's words."""
    value = _read(name, accepts).strip() or default
    if not re.fullmatch(pattern, value):
        _refuse(name, accepts, value)
    return value


def env_list(name, default):
    """Comma-separated items, blanks dropped."""
    value = _read(name, "comma-separated list").strip() or default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name):
    """Comma-separated IP addresses or networks (CIDR); empty: none."""
    accepts = "comma-separated IP addresses or networks (CIDR)"
    networks = [item.strip() for item in _read(name, accepts).split(",") if item.strip()]
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            _refuse(name, accepts, network)
    return networks


def env_url(name, default, schemes):
    """A URL with one of `schemes` and a host (a path for unix://); empty stays empty when the default is."""
    accepts = f"{_or_list(f'`{scheme}://`' for scheme in schemes)} URL"
    value = _read(name, accepts).strip() or default
    if not value:
        return value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (a port that is not a number raises ValueError here)
    except ValueError:
        parts = None
    if parts is None or "://" not in value:
        problem = "this value (not shown: it may hold a password)"
    elif parts.scheme not in schemes:
        problem = f"one starting {parts.scheme}://"
    elif not (parts.path if parts.scheme == "unix" else parts.hostname):
        problem = "a URL without a " + ("path" if parts.scheme == "unix" else "host")
    else:
        return value
    stop_start_up(f"{name} must be a {accepts.replace('`', '')}, not {problem}.")


def env_database(name, default, **options):
    """A DATABASES entry from a dj-database-url URL; refusals name its scheme only (it may hold a password)."""
    accepts = "database URL: `postgres://…`, `sqlite:///…` or another dj-database-url scheme"
    value = _read(name, accepts).strip() or default
    try:
        return dj_database_url.parse(value, **options)
    except ValueError as exc:
        problem = (
            f"one starting {value.split('://')[0]}://"
            if isinstance(exc, dj_database_url.UnknownSchemeError)
            else "an invalid one"
        )
        stop_start_up(f"{name} must be a database URL such as postgres://user@host/db or sqlite:///path, not {problem}.")


def env_time_zone(name, default):
    value = _read(name, "IANA time zone name (`UTC`, `Europe/Berlin`)").strip() or default
    try:
        zoneinfo.ZoneInfo(value)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        _refuse(name, "an IANA time zone name such as UTC or Europe/Berlin", value)
    return value
