"""The contracts between the plugins, defined once; both sides import them from here.

billbee -> wemalo: target-wemalo (writes) and tap-billbee (reads) through Meltano's state.

target-wemalo puts one entry per order it handled into the Singer state it emits, under
``bookmarks.orders.<PENDING_ACKS_KEY>``: ``{order id: {"outcome", "reason", "had_error_tag", "modified_at"}}``
(``modified_at``: the LastModifiedAt of the order version the target handled; tap-billbee tries a refused order
once more when it changed after that version, e.g. fixed before the refusal was written). Meltano stores
that state only after the target finished; the next run hands it to tap-billbee, which writes the tags and
messages in Billbee and drops the entries it wrote (README, "Acknowledgement after commit").
tests/e2e/test_ack_protocol.py pins the round trip through Meltano.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from billbee_wemalo.billbee.enums import BUNDLE_TYPE, CANCELLED_STATES
from billbee_wemalo.billbee.tags import ConnectorTags

# Written by target-wemalo into the state it emits; read, applied and dropped entry by entry by tap-billbee.
PENDING_ACKS_KEY = "pending_acks"


class AckOutcome(StrEnum):
    """What target-wemalo reports for an order (the entry's `outcome`) and what tap-billbee writes for it."""

    ACCEPTED = "accepted"  # wemalo created the goods order: the received tag
    UPDATED = "updated"  # a re-send changed its address/meta in wemalo: the received tag
    UNCHANGED = "unchanged"  # wemalo had it already (a replay): the received tag
    CHANGE_REFUSED = "change_refused"  # wemalo has it, but refused the re-send: a message, the received tag
    REJECTED = "rejected"  # wemalo refused the order: a message, the error tag
    CANCELLED = "cancelled"  # cancelled in wemalo: the cancelled tag
    CANCEL_REFUSED = "cancel_refused"  # wemalo refused the cancellation: a message, the error tag


ACK_OUTCOMES = frozenset(AckOutcome)
# ... of which these mean "wemalo has this order" (the received tag is set).
RECEIVED_OUTCOMES = frozenset({AckOutcome.ACCEPTED, AckOutcome.UPDATED, AckOutcome.UNCHANGED,
                               AckOutcome.CHANGE_REFUSED})

# Written by target-wemalo beside the acknowledgements, read, applied and dropped by tap-billbee: what changed
# in the warehouse for orders it holds, ``{order id: {...}}`` with either or both parts:
# - ``"stuck": bool, "reason": str, "resend_on_change": bool``: stuck = wemalo holds the order (PARTIAL for its
#   address, BLOCKEDPACKED, PARTIAL for another reason past a time): the stuck tag and one message with the
#   reason; not stuck: the order moved on, the tag goes. resend_on_change: the merchant's next change of the
#   order sends it to wemalo again (an address to correct), without a manual re-tag, while wemalo allows it.
# - ``"stage": "accepted" | "packed"``: the order's new stage of fulfilment; tap-billbee's status mirror
#   (settings accepted_state_id, packed_state_id) moves the Billbee state forward, or ignores it when off.
WAREHOUSE_FLAGS_KEY = "warehouse_flags"

# The Billbee facts both sides use, defined with the Billbee client and listed here as part of the contract:
# - ConnectorTags: the tags of one orders tag (`wemalo` -> `order_received_by_wemalo`, `wemalo_error`, ...);
#   tap-billbee filters by and writes them, target-wemalo reads the error tag to report retries.
# - CANCELLED_STATES: the Billbee order states that cancel an order; tap-billbee reads orders in them,
#   target-wemalo cancels their goods orders.
# - BUNDLE_TYPE: the Billbee article type of a bundle; tap-billbee attaches a bundle line's components,
#   target-wemalo sends the components and never the bundle.
# wemalo -> Billbee: tap-wemalo-shipments gives a parcel handed over without a tracking number (letters,
# Internetmarke) the tracking number UNTRACKED_PREFIX + order id, so the parcel still has a primary key;
# target-billbee never writes such a number to Billbee (it notes the parcel on the order instead).
UNTRACKED_PREFIX = "untracked:"
# Returns: target-billbee lists the wemalo return bookings Billbee has stored (message, tag written) in the state
# it emits, under ``bookmarks.returns.<PENDING_RETURN_ACKS_KEY>`` (``{booking id: Billbee order id}``); the next
# run of tap-wemalo-shipments marks each synchronised in wemalo (PUT returns/booked/:id) and drops it.
PENDING_RETURN_ACKS_KEY = "pending_return_acks"
# ... and its message on the Billbee order names the booking ids (`wemalo-Buchungen 1, 2`): target-billbee reads
# them back from the order's Comments before writing (a replay writes nothing twice), reconcile to tell a
# return written but not yet marked from one never written.
_RETURN_MARKER = re.compile(r"wemalo-Buchung(?:en)? ([0-9A-Za-z_-]+(?:, [0-9A-Za-z_-]+)*)")


def return_marker(booking_ids: Sequence[object]) -> str:
    return f"wemalo-Buchung{'en' if len(booking_ids) > 1 else ''} {', '.join(str(b) for b in booking_ids)}"


def bookings_named(order: Mapping[str, Any]) -> set[str]:
    """The wemalo return booking ids the order's messages (`Comments`) name."""
    named: set[str] = set()
    for comment in order.get("Comments") or []:
        text = str((comment or {}).get("Text") or "") if isinstance(comment, dict) else ""
        for match in _RETURN_MARKER.finditer(text):
            named.update(match.group(1).split(", "))
    return named

# Return announcements (billbee -> wemalo, optional: tap-billbee's return_announce_tag). tap-billbee emits the
# orders the merchant tagged for a return on the stream RETURN_REQUESTS_STREAM; target-wemalo announces each once
# (POST returns/announce) and puts one entry per order under ``bookmarks.return_requests.<PENDING_ANNOUNCE_ACKS_KEY>``:
# ``{order id: {"outcome": AnnounceOutcome, "reason": str, "externalId": str}}``; the next run of tap-billbee
# writes the confirmation tag, or one message and the error tag, and drops the entry. Beside it the target keeps
# ``<ANNOUNCED_KEY>``: ``{order id: {"n", "externalId", "id", "on"}}``, the announcements wemalo confirmed, which
# only the target changes: wemalo has no call that reads announcements back, so this is how a replay knows.
RETURN_REQUESTS_STREAM = "return_requests"
PENDING_ANNOUNCE_ACKS_KEY = "pending_announce_acks"
ANNOUNCED_KEY = "announced_returns"


class AnnounceOutcome(StrEnum):
    """What target-wemalo reports for a return request and what tap-billbee writes for it."""

    ANNOUNCED = "announced"  # wemalo took the announcement (or had it: a replay): the confirmation tag
    REFUSED = "announce_refused"  # not announced (wemalo refused, bad input, no certain answer): message, error tag


def return_external_id(order_id: object, n: int) -> str:
    """The announcement's externalId: the Billbee order id and the number of the order's announcement (1, 2, ...),
    the same in every replay, so that a wemalo that refuses a known externalId refuses a repeat."""
    return f"{order_id}-R{n}"


__all__ = ["ACK_OUTCOMES", "ANNOUNCED_KEY", "BUNDLE_TYPE", "CANCELLED_STATES", "PENDING_ACKS_KEY",
           "PENDING_ANNOUNCE_ACKS_KEY", "PENDING_RETURN_ACKS_KEY", "RECEIVED_OUTCOMES", "RETURN_REQUESTS_STREAM",
           "UNTRACKED_PREFIX", "WAREHOUSE_FLAGS_KEY", "AckOutcome", "AnnounceOutcome", "ConnectorTags",
           "bookings_named", "return_external_id", "return_marker"]
