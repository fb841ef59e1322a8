"""HTTP plumbing shared by the Billbee and wemalo clients: errors, rate limiting, retries, redaction.

Nothing here knows either API; ``billbee_api`` and ``wemalo_api`` build on it.
"""

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
from connector_http.session import API_URL_PATTERN, ApiSession, RetryPolicy, check_base_url

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
