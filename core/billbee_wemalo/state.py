"""Adjustments a target makes to the tap's state before emitting it.

A record that could not be written for a transient reason (an API down past every retry) must not be lost.
The target holds the stream's bookmark back to that record's replication value, so the next run reads it
again; everything read again in between is written idempotently and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def hold_back_bookmark(state: dict[str, Any], stream: str, key: str, value: str) -> None:
    """Lower `bookmarks.<stream>.replication_key_value` to `value` (ISO timestamps compare as datetimes)."""
    bookmark = state.setdefault("bookmarks", {}).setdefault(stream, {})
    bookmark.setdefault("replication_key", key)
    current = bookmark.get("replication_key_value")
    if current is None or datetime.fromisoformat(value) < datetime.fromisoformat(current):
        bookmark["replication_key_value"] = value
    bookmark.pop("progress_markers", None)  # a half-finished stream's markers would override the held value


class HeldBookmarks:
    """The oldest replication value per stream that a target could not write in this run."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[str, str]] = {}

    def hold(self, stream: str, key: str, value: object) -> None:
        text = value.isoformat() if isinstance(value, datetime) else str(value)
        current = self._held.get(stream)
        if current is None or datetime.fromisoformat(text) < datetime.fromisoformat(current[1]):
            self._held[stream] = (key, text)

    def apply(self, state: dict[str, Any]) -> dict[str, Any]:
        for stream, (key, value) in self._held.items():
            hold_back_bookmark(state, stream, key, value)
        return state

    def __bool__(self) -> bool:
        return bool(self._held)
