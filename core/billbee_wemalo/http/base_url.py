"""The base URL rule for both APIs: https, except on loopback (the sandbox), checked before anything is sent."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from billbee_wemalo.http.errors import ConfigError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}

# The same rule as check_base_url, as a JSON Schema pattern for the plugins' `api_url` settings, so that the
# SDK's config validation names the setting in one line before anything runs.
API_URL_PATTERN = r"^(https://[^/\s]+|http://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?)(/\S*)?$"


def check_base_url(url: str, setting: str) -> str:
    """`url` must be https, except on loopback (the sandbox). Returns it without a trailing slash."""
    parts = urlsplit(url or "")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"setting {setting}: {url!r} is not an http(s) URL")
    host = parts.hostname
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host in LOOPBACK_NAMES
    if parts.scheme != "https" and not loopback:
        raise ConfigError(f"setting {setting}: {url!r} must use https (plain http is allowed only on loopback)")
    return url.rstrip("/")
