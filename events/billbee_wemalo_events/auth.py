"""Who may deliver an event: Billbee's body signature, wemalo's echoed token. Every comparison is in constant time
(hmac.compare_digest); a refusal names the reason, never a secret or the value that was sent."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SIGNATURE_HEADER = "ms-signature"  # Microsoft ASP.NET WebHooks sender (inferred for Billbee; api-contract.md)
SIGNATURE_PREFIX = "sha256="
# Where wemalo may echo the token it was registered with (undocumented; docs/api-contract.md, "wemalo: webhooks").
TOKEN_LOCATIONS = ("body", "header", "query")
TOKEN_HEADERS = ("token", "x-wemalo-token", "x-token")


class Refused(Exception):
    """A delivery that must not be queued; `status` is the HTTP answer, the message the logged reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class BillbeeAuth:
    secret: str
    allow_unsigned: bool = False

    def check(self, body: bytes, headers: Mapping[str, str]) -> None:
        """`ms-signature: sha256=<hex HMAC-SHA256(secret, raw body)>`; several comma-separated values are
        allowed (the sender lists one per secret while a secret is being rotated)."""
        sent = headers.get(SIGNATURE_HEADER)
        if not sent:
            if self.allow_unsigned:
                return
            raise Refused(401, f"Billbee delivery without the {SIGNATURE_HEADER} header")
        if not self.secret:
            raise Refused(401, "Billbee delivery signed, but no billbee_secret is configured to check it")
        expected = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        candidates = [part.strip() for part in sent.split(",")]
        matched = False
        for candidate in candidates:
            if candidate[: len(SIGNATURE_PREFIX)].lower() != SIGNATURE_PREFIX:
                continue
            digest = candidate[len(SIGNATURE_PREFIX):].strip().lower()
            matched |= hmac.compare_digest(digest.encode(), expected.encode())  # no early exit on a match
        if not matched:
            raise Refused(401, f"Billbee delivery with a {SIGNATURE_HEADER} that does not match its body")


@dataclass(frozen=True)
class WemaloAuth:
    token: str
    locations: tuple[str, ...] = TOKEN_LOCATIONS

    def check(self, body_token: object, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        """The token wemalo echoes (registered by `register`), found in one of the configured locations."""
        if not self.token:
            raise Refused(401, "wemalo delivery, but no wemalo_hook_token is configured to check it")
        offered = list(self._offered(body_token, headers, query))
        if not offered:
            raise Refused(401, f"wemalo delivery without a token (looked in: {', '.join(self.locations)})")
        matched = False
        for value in offered:
            matched |= hmac.compare_digest(value.encode(), self.token.encode())
        if not matched:
            raise Refused(401, "wemalo delivery with a wrong token")

    def _offered(self, body_token: object, headers: Mapping[str, str], query: Mapping[str, str]) -> Iterable[str]:
        if "body" in self.locations and isinstance(body_token, str) and body_token:
            yield body_token
        if "header" in self.locations:
            for name in TOKEN_HEADERS:
                if headers.get(name):
                    yield headers[name]
            bearer = headers.get("authorization", "")
            if bearer.lower().startswith(("bearer ", "token ")):
                yield bearer.split(" ", 1)[1].strip()
        if "query" in self.locations and query.get("token"):
            yield query["token"]
