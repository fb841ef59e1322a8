"""Billbee order tagged for a return -> wemalo return announcement (`returns/announce` body). Pure: no I/O.

What is sent (docs/api-contract.md, "wemalo: returns/announce"):
* `externalId`: the Billbee order id and the number of the order's announcement (`123-R1`;
  protocol.return_external_id), the same in every replay of the same announcement; `deliveryNumber` the order
  number with the same suffix (required by the apidoc's field list, absent from its example: always sent);
  `goodsOrderExternalId` the Billbee order id, so wemalo links the announcement to the goods order this connector
  sent; `orderNumberCustomer` the order number; `picking_notice` names the Billbee order for the warehouse.
* `sender`: the order's shipping address (the customer sends the parcel back from there), mapped like the
  goods order's receiver (target_wemalo.address). One object, as the apidoc's example; the three fields the
  example spells differently from the field list are sent in both spellings (`house_no`/`streetNumber`,
  `country`/`countryCode2Letter`, `mail`/`email`), which both readings accept.
* `items`: the order's articles by SKU as the goods order had them (bundles as their components, coupons and
  digital lines left out, lines of one SKU merged), each with `returnReason` when the setting
  `return_reason_id` names one of wemalo's return reason ids. Billbee does not say which articles come back:
  the whole order is announced, and wemalo books in what arrives.

Exactly once (README, "Return announcements"): wemalo has no call that reads an announcement back, so the
target's own record decides (AnnouncementLedger below): the announcements wemalo confirmed are kept in the state,
which the sink has Meltano store right after each (WemaloRun.checkpoint), and a replay sends the same
`externalId`; a wemalo that refuses a known externalId (409) is taken to have the announcement. An answer lost
on the way is not repeated on a guess: the request is refused back to the merchant, who looks in wemalo.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from billbee_wemalo.protocol import return_external_id
from target_wemalo.address import MAX_LINE, AddressError, clean, map_receiver
from target_wemalo.orders import OrderError, map_positions

# receiver key (goodsOrder/add) -> sender key (returns/announce, field list)
_SENDER_KEYS = {"name1": "name1", "name2": "name2", "name3": "name3", "street": "street", "streetNumber": "house_no",
                "zip": "zip", "city": "city", "countryCode2Letter": "country", "addressAddition": "addressAddition",
                "stateProvinceCountry": "state", "email": "mail", "phoneNumber": "phone"}
# field-list key -> the apidoc example's spelling of the same field, sent as well
_EXAMPLE_SPELLINGS = {"house_no": "streetNumber", "country": "countryCode2Letter", "mail": "email"}


class AnnounceError(ValueError):
    """The return cannot be announced; the message names the order and what to fix."""


def order_label(order: dict[str, Any]) -> str:
    number = clean(order.get("OrderNumber"))
    order_id = order.get("BillBeeOrderId")
    return f"order {number} (Billbee id {order_id})" if number else f"Billbee order {order_id}"


def map_sender(address: dict[str, Any] | None, line_limit: int = MAX_LINE) -> dict[str, Any]:
    """The announcement's sender from a Billbee address; raises AddressError naming the field at fault."""
    receiver = map_receiver(address, line_limit)
    sender = {_SENDER_KEYS[k]: v for k, v in receiver.items() if k in _SENDER_KEYS and v != ""}
    for key, spelling in _EXAMPLE_SPELLINGS.items():
        if key in sender:
            sender[spelling] = sender[key]
    return sender


def map_announcement(order: dict[str, Any], *, n: int = 1, return_reason_id: int | None = None,
                     line_limit: int = MAX_LINE) -> dict[str, Any]:
    """The `returns/announce` body for the `n`-th announcement of `order`; raises AnnounceError."""
    order_id = order.get("BillBeeOrderId")
    if order_id is None:
        raise AnnounceError("return request without BillBeeOrderId")
    label = order_label(order)
    try:
        sender = map_sender(order.get("ShippingAddress"), line_limit)
    except AddressError as exc:
        raise AnnounceError(f"{label}: {exc}") from None
    try:
        positions = map_positions(order)
    except OrderError as exc:
        raise AnnounceError(f"{label}: {exc}") from None
    if not positions:
        raise AnnounceError(f"{label}: no articles to return (only coupons, discounts, digital or zero-quantity "
                            "lines)")
    items = []
    for position in positions:
        item: dict[str, Any] = {"externalId": position["externalId"], "quantity": position["quantity"]}
        if return_reason_id is not None:
            item["returnReason"] = return_reason_id
        items.append(item)
    external_id = return_external_id(order_id, n)
    number = clean(order.get("OrderNumber")) or str(order_id)
    return {
        "deliveryNumber": f"{number}-R{n}",
        "externalId": external_id,
        "goodsOrderExternalId": str(order_id),
        "orderNumberCustomer": number,
        "picking_notice": f"Retoure zu Billbee-Auftrag {number}",
        "sender": sender,
        "items": items,
    }


KEPT_DAYS = 400  # an order's announcements are remembered this long (a return comes within weeks of shipping)


class AnnouncementLedger:
    """What wemalo has been told, as this target knows it (wemalo cannot be asked: no call reads announcements).

    `known`: the announcements wemalo confirmed in earlier runs (state ANNOUNCED_KEY, `{order id: {"n",
    "externalId", "id", "on"}}`); `pending`: orders whose acknowledgement tap-billbee has not written yet (state
    PENDING_ANNOUNCE_ACKS_KEY). The tap emits an order only while it lacks the confirmation and error tags, so:
    * a pending acknowledgement means a replay: nothing is sent again;
    * a confirmed announcement without one means the merchant removed the confirmation tag after it was written:
      the order's next announcement (n + 1), a new externalId;
    * otherwise the order's announcement number n is sent; a run killed after wemalo's answer and before Meltano
      stored the state sends the same externalId again (the target stores the state right after each
      announcement to keep that window short).
    """

    def __init__(self, known: dict[str, dict[str, Any]] | None = None, pending: set[str] | None = None) -> None:
        self.known = dict(known or {})
        self.pending = set(pending or ())
        self.new: dict[str, dict[str, Any]] = {}

    def is_replay(self, order_id: str) -> bool:
        return order_id in self.pending

    def number(self, order_id: str) -> int:
        """The number of the order's announcement to send now."""
        entry = self.new.get(order_id) or self.known.get(order_id)
        return int(entry["n"]) + 1 if entry else 1

    def record(self, order_id: str, n: int, external_id: str, wemalo_id: object, on: date) -> None:
        self.new[order_id] = {"n": n, "externalId": external_id, "id": wemalo_id, "on": on.isoformat()}

    def merged(self, stored: dict[str, dict[str, Any]] | None, today: date) -> dict[str, dict[str, Any]]:
        """The state's announcements with this run's, without those older than KEPT_DAYS."""
        oldest = (today - timedelta(days=KEPT_DAYS)).isoformat()
        merged = {**(stored or {}), **self.new}
        return {k: v for k, v in merged.items() if str(v.get("on") or "") >= oldest}
