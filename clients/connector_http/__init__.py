"""HTTP plumbing shared by the Billbee and wemalo clients: errors, rate limiting, retries, redaction.

Nothing here knows either API; ``billbee_api`` and ``wemalo_api`` build on it. ``session.ApiSession`` composes
``base_url``, ``send_timing``, ``retry``, ``json_parse``, ``redaction`` and ``request_log``; a client throttles
with ``limiter.RateLimiter`` and writes progress lines with ``progress.ProgressLog``.
"""

from connector_http.base_url import API_URL_PATTERN, check_base_url
from connector_http.errors import (
    AmbiguousWriteError,
    ApiError,
    AuthError,
    ClientError,
    ConfigError,
    NotFoundError,
    ResponseFormatError,
    TransientError,
)
from connector_http.limiter import RateLimiter
from connector_http.progress import ProgressLog
from connector_http.retry import RetryPolicy
from connector_http.session import ApiResponse, ApiSession

__all__ = [
    "API_URL_PATTERN",
    "AmbiguousWriteError",
    "ApiError",
    "ApiResponse",
    "ApiSession",
    "AuthError",
    "ClientError",
    "ConfigError",
    "NotFoundError",
    "ProgressLog",
    "RateLimiter",
    "ResponseFormatError",
    "RetryPolicy",
    "TransientError",
    "check_base_url",
]
