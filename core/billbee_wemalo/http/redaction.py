"""What the session's error messages may say: the account's secrets never (replaced by ``***``), and of an
error body only a short reason, no personal data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

REASON_KEYS = ("ErrorMessage", "message", "Message", "error")  # Billbee's and wemalo's error fields
MAX_REASON = 200


class Redactor:
    """Replaces each of the secrets (passwords, API keys, tokens) in a text."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        self._secrets = [s for s in secrets if s]

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def error_reason(data: Any) -> str:
    """A short, PII-free reason from an error body ("" when it has none)."""
    if isinstance(data, dict):
        for key in REASON_KEYS:
            if data.get(key):
                return str(data[key])[:MAX_REASON]
    return ""
