"""Errors raised by the API clients. Messages name the system, endpoint and reason, never a secret."""

from __future__ import annotations


class ApiError(Exception):
    """Base class. `status` is the HTTP status (or the API's body-level status), when there was one."""

    def __init__(self, message: str, *, system: str = "", endpoint: str = "", status: int | None = None,
                 body: object = None) -> None:
        super().__init__(message)
        self.system = system
        self.endpoint = endpoint
        self.status = status
        self.body = body


class ConfigError(ApiError):
    """A setting is missing or malformed; raised before any request is sent."""


class AuthError(ApiError):
    """401/403: the credentials were refused. Fatal for the run; the message names the settings to check."""


class NotFoundError(ApiError):
    """The addressed object does not exist (HTTP 404 or the API's not-found code)."""


class ClientError(ApiError):
    """The API refused the request as invalid (4xx). Retrying the same request will not help."""


class TransientError(ApiError):
    """Throttling, 5xx, timeouts or dropped connections that outlasted every retry."""


class ResponseFormatError(TransientError):
    """The answer was not the JSON the API documents (an HTML error page, a truncated body)."""


class AmbiguousWriteError(TransientError):
    """A non-idempotent write timed out or failed mid-flight: it may or may not have been applied.

    The client never blindly repeats such a write; the caller re-reads the object and decides.
    """


class DryRunViolation(RuntimeError):
    """A write reached a dry run's read-only session. Not an ApiError: no sink may treat it as a refusal."""
