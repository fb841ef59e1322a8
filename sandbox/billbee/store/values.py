"""Value helpers of the Billbee store: Decimals with Billbee's scales, the account's naive timestamps, the
copies handed out (simulator-internal keys stripped, list rows copied when read), tags and titles."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.billbee.store.model import STOCK_SCALE


class ScenarioError(ValueError):
    """Admin input the simulator cannot take (answered with 400)."""


def to_decimal(value: Any, scale: int) -> Decimal | None:
    """A Decimal with at least `scale` fractional digits; longer fractions are kept (Billbee shows them too)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ScenarioError(f"not a number: {value!r}")
    try:
        dec = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ScenarioError(f"not a number: {value!r}") from exc
    if not dec.is_finite():
        raise ScenarioError(f"not a finite number: {value!r}")
    exponent = dec.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -scale:
        dec = dec.quantize(Decimal(1).scaleb(-scale))
    return dec


def stock_figure(value: Decimal) -> Decimal:
    """A stock figure the simulator computed (stock after an order, an unfulfilled amount): STOCK_SCALE places,
    as the figures of the articles are shown (a product of Quantity and Amount has more)."""
    return value.quantize(Decimal(1).scaleb(-STOCK_SCALE))


def parse_time(value: Any, zone: ZoneInfo) -> datetime | None:
    """ISO text (with or without offset) or datetime -> naive datetime in the account frame, ms precision."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ScenarioError(f"not a timestamp: {value!r}") from exc
    else:
        raise ScenarioError(f"not a timestamp: {value!r}")
    if dt.tzinfo is not None:
        dt = dt.astimezone(zone).replace(tzinfo=None)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def sql_round(dt: datetime) -> datetime:
    """Round to SQL Server `datetime` precision (ticks of 1/300 s)."""
    ticks = round(dt.microsecond * 300 / 1_000_000)
    base = dt.replace(microsecond=0)
    return base + timedelta(milliseconds=round(ticks * 10 / 3))


def format_time(dt: datetime) -> str:
    """'2026-11-26T13:31:59.317', '...:39.36', '...:02' — trailing zeros of the fraction dropped, as .NET does."""
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    ms = dt.microsecond // 1000
    return text + (f".{ms:03d}".rstrip("0") if ms else "")


def to_int(value: Any, what: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ScenarioError(f"{what}: not an integer: {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"{what}: not an integer: {value!r}") from exc


def public(value: Any) -> Any:
    """Deep copy without simulator-internal keys (those starting with '_')."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not (isinstance(k, str) and k.startswith("_"))}
    if isinstance(value, list):
        return [public(v) for v in value]
    if value is None or isinstance(value, (str, int, float, Decimal, date)):  # immutable: deepcopy's dispatch
        return value  # per leaf was most of a 250-order page's time
    return copy.deepcopy(value)


class Rows(Sequence[dict[str, Any]]):
    """The rows a list query matched (chosen under the lock), each copied by `convert` under the lock when read:
    the app slices one page of a list of 20,000 articles, so only that page is copied."""

    def __init__(self, lock: threading.RLock, rows: list[dict[str, Any]],
                 convert: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self._lock, self._rows, self._convert = lock, rows, convert

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: Any) -> Any:
        with self._lock:
            if isinstance(index, slice):
                return [self._convert(row) for row in self._rows[index]]
            return self._convert(self._rows[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self._rows:
            with self._lock:
                yield self._convert(row)


def dedupe_tags(tags: Iterable[str]) -> list[str]:
    """Keep the first spelling of each tag, compared case-insensitively."""
    seen: set[str] = set()
    out = []
    for tag in tags:
        key = tag.casefold()
        if key not in seen:
            seen.add(key)
            out.append(tag)
    return out


def title_text(texts: Any, language: str = "DE") -> str | None:
    """The text of a MultiLanguageString list, preferring `language`."""
    if not isinstance(texts, list) or not texts:
        return None
    for entry in texts:
        if isinstance(entry, dict) and str(entry.get("LanguageCode") or "").upper() == language:
            return entry.get("Text")
    first = texts[0]
    return first.get("Text") if isinstance(first, dict) else None
