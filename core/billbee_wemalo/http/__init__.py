"""HTTP plumbing shared by the Billbee and wemalo clients: errors, rate limiting, retries, redaction.

Nothing here knows either API; ``billbee_wemalo.billbee`` and ``billbee_wemalo.wemalo`` build on it.
``session.ApiSession`` composes ``base_url``, ``send_timing``, ``retry``, ``json_parse``, ``redaction`` and
``request_log``; a client throttles with ``limiter.RateLimiter`` and writes progress lines with
``progress.ProgressLog``.
"""

from billbee_wemalo.http.base_url import API_URL_PATTERN, check_base_url
from billbee_wemalo.http.errors import (
    AmbiguousWriteError,
    ApiError,
    AuthError,
    ClientError,
    ConfigError,
    DryRunViolation,
    NotFoundError,
    ResponseFormatError,
    TransientError,
)
from billbee_wemalo.http.limiter import RateLimiter
from billbee_wemalo.http.progress import ProgressLog
from billbee_wemalo.http.retry import RetryPolicy
from billbee_wemalo.http.session import ApiResponse, ApiSession

__all__ = [
    "API_URL_PATTERN",
    "AmbiguousWriteError",
    "ApiError",
    "ApiResponse",
    "ApiSession",
    "AuthError",
    "ClientError",
    "ConfigError",
    "DryRunViolation",
    "NotFoundError",
    "ProgressLog",
    "RateLimiter",
    "ResponseFormatError",
    "RetryPolicy",
    "TransientError",
    "check_base_url",
]
