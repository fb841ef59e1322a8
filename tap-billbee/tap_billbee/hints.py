"""Order hints (setting `order_hints`): what the webhooks that triggered a restricted run said about each order,
so that the run need not read an order whose own event shows there is nothing to do.

Billbee notifies every change of an order, the connector's own writes too (the received tag, a shipment, state
Versendet): each such echo would cost one `GET /orders/{id}`. Where the delivery carries the order's `State` and
`Tags` (docs/api-contract.md, "Billbee: webhooks"; not when it names only the id), billbee-wemalo-events passes
them here, one hint per event. The run still reads the order unless *every* hint shows nothing to do: an order
wemalo already received (received tag, not cancelled, never flagged stuck: the ones `OrdersStream._eligible`
would skip without looking further), or outside the tap's selection. A later change has its own event, and the
hourly run reads every changed order anyway: a hint never hides an order for longer than that.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from billbee_wemalo.billbee import CANCELLED_STATES, ConnectorTags, has_tag


def usable(hint: Any) -> bool:
    """A hint names the order's state (an integer) and its tags (a list of strings): else the order is read."""
    return (isinstance(hint, Mapping) and isinstance(hint.get("State"), int) and not isinstance(hint["State"], bool)
            and isinstance(hint.get("Tags"), list) and all(isinstance(t, str) for t in hint["Tags"]))


def selected(state: Any, order_tags: list[str] | None, tags: ConnectorTags, states: Collection[int]) -> bool:
    """Would one of the normal orders queries return it: the orders tag and a configured (or cancelled) state, or
    cancelled after wemalo received it. A restricted run keeps only such orders (`OrdersStream._by_id`)."""
    if state in CANCELLED_STATES:
        return has_tag(order_tags, tags.orders_tag) or has_tag(order_tags, tags.received)
    return has_tag(order_tags, tags.orders_tag) and (not states or state in states)


def nothing_to_do(hint: Mapping[str, Any], tags: ConnectorTags, states: Collection[int], stuck_flagged: bool) -> bool:
    """Would the run skip an order in this state with these tags, whatever else it holds?"""
    state, order_tags = hint["State"], hint["Tags"]
    if hint.get("IsCancelationFor"):
        return True  # a cancellation credit order is never an order for the warehouse
    if not selected(state, order_tags, tags, states):
        return True  # the hourly query would not return it either
    return state not in CANCELLED_STATES and has_tag(order_tags, tags.received) and not stuck_flagged


def skip_read(hints: Any, tags: ConnectorTags | None, states: Collection[int], stuck_flagged: bool) -> bool:
    """Skip `GET /orders/{id}` only for the connector's tags, with at least one hint, every hint usable and
    every one showing nothing to do."""
    if tags is None or not isinstance(hints, list) or not hints or not all(usable(h) for h in hints):
        return False
    return all(nothing_to_do(h, tags, states, stuck_flagged) for h in hints)
