"""The order tags through which the connector and the merchant talk in Billbee (setup text, "Aufträge")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectorTags:
    """Tag names derived from the configured orders tag, e.g. `wemalo`."""

    orders_tag: str

    @property
    def received(self) -> str:
        """Set after wemalo accepted the order; the merchant removes it (and sets the orders tag) to re-send."""
        return f"order_received_by_{self.orders_tag}"

    @property
    def error(self) -> str:
        """Set when wemalo refused the order; the reason is in an internal order message."""
        return f"{self.orders_tag}_error"

    @property
    def returned(self) -> str:
        """Set when wemalo booked a return of the order (target-billbee's default `returns_tag`)."""
        return f"{self.orders_tag}_returned"

    @property
    def stuck(self) -> str:
        """Set while wemalo holds the order (address, blocked packing, missing stock for long); the reason is in
        an order message. tap-billbee's default `stuck_tag`."""
        return f"{self.orders_tag}_stuck"

    @property
    def cancelled(self) -> str:
        """Set after a cancellation reached wemalo."""
        return f"order_cancelled_received_by_{self.orders_tag}"


def has_tag(tags: list[str] | None, tag: str) -> bool:
    """Billbee tags are case-insensitive."""
    wanted = tag.casefold()
    return any(t.casefold() == wanted for t in tags or [])


def without_tag(tags: list[str] | None, tag: str) -> list[str]:
    wanted = tag.casefold()
    return [t for t in tags or [] if t.casefold() != wanted]
