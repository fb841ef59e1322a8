"""HTTP plumbing shared by the Billbee and wemalo clients: errors, rate limiting, retries, redaction.

Nothing here knows either API; ``billbee_wemalo.billbee`` and ``billbee_wemalo.wemalo`` build on it.
"""

from billbee_wemalo.http.errors import (
    AmbiguousWriteError,
    ApiError,
    AuthError,
    ClientError,
    ConfigError,
    NotFoundError,
    ResponseFormatError,
    TransientError,
)
from billbee_wemalo.http.limiter import RateLimiter
from billbee_wemalo.http.progress import ProgressLog
from billbee_wemalo.http.session import API_URL_PATTERN, ApiSession, RetryPolicy, check_base_url

__all__ = [
    "API_URL_PATTERN",
    "AmbiguousWriteError",
    "ApiError",
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
