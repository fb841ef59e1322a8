"""Write the outcomes that target-wemalo reported back into Billbee, as tags and order messages.

The protocol (README, "Acknowledgement after commit"): target-wemalo puts one entry per order it handled into
the Singer state it emits, under ``bookmarks.orders.pending_acks``. Meltano stores that state only after the
target finished, so an acknowledgement exists only for what wemalo really has. At the start of the next run
the tap receives the state, writes the tags here and drops the entries it wrote. An entry whose write failed
transiently stays in the state and is tried again next run. Every write is idempotent (tags are added with
POST, which ignores tags already there), so an acknowledgement applied twice after a crash changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from billbee_api import BillbeeClient, ConnectorTags, has_tag, without_tag
from connector_http import ClientError, NotFoundError, TransientError
from tap_billbee.timefmt import to_aware

PENDING_KEY = "pending_acks"
REASONS_KEY = "rejection_reasons"  # order id -> hash of the last reason written as a message
ERROR_SEEN_KEY = "rejected_modified_at"  # order id -> LastModifiedAt right after the error tag was written

# Outcomes that mean "wemalo has this order".
RECEIVED_OUTCOMES = {"accepted", "updated", "unchanged", "change_refused"}


def reason_hash(reason: str) -> str:
    return hashlib.sha256(reason.encode()).hexdigest()[:16]


class AckWriter:
    def __init__(self, client: BillbeeClient, tags: ConnectorTags, logger: logging.Logger,
                 zone: ZoneInfo | None = None) -> None:
        self.client = client
        self.tags = tags
        self.log = logger
        self.zone = zone or ZoneInfo("UTC")
        self.counts: Counter[str] = Counter()
        self.error_seen: dict[str, str | None] = {}

    def apply_all(self, stream_state: dict[str, Any]) -> Counter[str]:
        pending: dict[str, dict[str, Any]] = stream_state.get(PENDING_KEY) or {}
        reasons: dict[str, str] = stream_state.setdefault(REASONS_KEY, {})
        self.error_seen = stream_state.setdefault(ERROR_SEEN_KEY, {})
        for order_id in list(pending):
            ack = pending[order_id]
            try:
                self._apply(int(order_id), ack, reasons)
            except TransientError as exc:
                self.counts["kept_for_next_run"] += 1
                self.log.warning("Billbee order %s: acknowledgement %r kept for the next run: %s",
                                 order_id, ack.get("outcome"), exc, extra=_fields(order_id, ack, "kept"))
                continue
            except NotFoundError:
                self.counts["order_gone"] += 1
                self.log.warning("Billbee order %s: no longer exists in Billbee; acknowledgement %r dropped",
                                 order_id, ack.get("outcome"), extra=_fields(order_id, ack, "order_gone"))
            except ClientError as exc:
                self.counts["refused"] += 1
                self.log.error("Billbee order %s: acknowledgement %r refused by Billbee: %s",
                               order_id, ack.get("outcome"), exc, extra=_fields(order_id, ack, "refused"))
            del pending[order_id]
        if not pending:
            stream_state.pop(PENDING_KEY, None)
        return self.counts

    def _apply(self, order_id: int, ack: dict[str, Any], reasons: dict[str, str]) -> None:
        outcome = ack.get("outcome")
        reason = ack.get("reason") or ""
        key = str(order_id)
        if outcome in RECEIVED_OUTCOMES:
            if ack.get("had_error_tag"):
                # No DELETE for tags: read the current tags and write them back without the error tag.
                current = self.client.get_order(order_id).get("Tags") or []
                wanted = without_tag(current, self.tags.error)
                if not has_tag(wanted, self.tags.received):
                    wanted.append(self.tags.received)
                self.client.replace_tags(order_id, wanted)
            else:
                self.client.add_tags(order_id, [self.tags.received])
            self.counts["tagged_received"] += 1
            self.error_seen.pop(key, None)
            if outcome == "change_refused":
                self._message_once(order_id, f"Änderung nicht an wemalo übertragen: {reason}", reasons)
            else:
                reasons.pop(key, None)
        elif outcome == "rejected":
            self._reject(order_id, ack, reasons)
        elif outcome == "cancelled":
            self.client.add_tags(order_id, [self.tags.cancelled])
            self.counts["tagged_cancelled"] += 1
            reasons.pop(key, None)
        elif outcome == "cancel_refused":
            self._message_once(order_id, f"Stornierung nicht an wemalo übertragen: {reason}", reasons)
        else:
            self.log.warning("Billbee order %s: unknown acknowledgement outcome %r ignored", order_id, outcome)

    def _reject(self, order_id: int, ack: dict[str, Any], reasons: dict[str, str]) -> None:
        """Message first, then the error tag, then remember the order's LastModifiedAt after these writes.

        The order is read first: if it carries the error tag although it had none when extracted, this
        acknowledgement was applied before a crash and its message is not written twice.
        """
        current = self.client.get_order(order_id)
        applied_before = has_tag(current.get("Tags"), self.tags.error) and not ack.get("had_error_tag")
        if not applied_before:
            self._message_once(order_id, f"wemalo hat den Auftrag nicht angenommen: {ack.get('reason') or ''}",
                               reasons)
            if not has_tag(current.get("Tags"), self.tags.error):
                self.client.add_tags(order_id, [self.tags.error])
                self.counts["tagged_error"] += 1
            current = self.client.get_order(order_id)
        self.error_seen[str(order_id)] = to_aware(current.get("LastModifiedAt"), self.zone)

    def _message_once(self, order_id: int, text: str, reasons: dict[str, str]) -> None:
        """One internal order message per distinct reason, so a rejected order is not spammed every hour."""
        digest = reason_hash(text)
        if reasons.get(str(order_id)) == digest:
            return
        self.client.add_message(order_id, text)
        reasons[str(order_id)] = digest
        self.counts["messages"] += 1


def _fields(order_id: str, ack: dict[str, Any], result: str) -> dict[str, Any]:
    """Structured-logging fields of an acknowledgement line (ids and outcomes only)."""
    return {"stream_name": "orders", "record_id": order_id, "outcome": ack.get("outcome"), "ack_result": result}
