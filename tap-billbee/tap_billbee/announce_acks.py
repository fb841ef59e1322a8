"""Write target-wemalo's verdicts on return announcements back into Billbee (README, "Return announcements").

The acknowledgement protocol of the orders (acks.py), for the stream return_requests: target-wemalo puts one entry
per order under ``bookmarks.return_requests.pending_announce_acks`` (protocol.py) in the state it emits; Meltano
stores it once the target finished (or at the target's checkpoint right after an announcement); the next run of
tap-billbee writes here, before it reads the tagged orders, and drops each entry it wrote. An entry whose write
failed transiently stays for the next run.

* announced: the confirmation tag (`return_announced_tag`; POST, which ignores a tag already there).
* refused: one message with the reason, then the error tag (`<orders_tag>_error`). The order is read first: it
  was emitted only without the error tag, so one that carries it now had this entry applied by a run whose state
  was not stored, and gets nothing more; a message already among its Comments is not written again.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from billbee_wemalo.billbee import BillbeeClient, has_tag
from billbee_wemalo.http import ClientError, NotFoundError, TransientError
from billbee_wemalo.protocol import PENDING_ANNOUNCE_ACKS_KEY, AnnounceOutcome
from tap_billbee.acks import has_message

REFUSED_PREFIX = "Rücksendung nicht bei wemalo angemeldet"


class AnnounceAckWriter:
    def __init__(self, client: BillbeeClient, *, confirmed_tag: str, error_tag: str,
                 logger: logging.Logger) -> None:
        self.client = client
        self.confirmed_tag = confirmed_tag
        self.error_tag = error_tag
        self.log = logger
        self.counts: Counter[str] = Counter()

    def apply_all(self, stream_state: dict[str, Any]) -> Counter[str]:
        pending: dict[str, dict[str, Any]] = stream_state.get(PENDING_ANNOUNCE_ACKS_KEY) or {}
        for order_id in list(pending):
            ack = pending[order_id]
            try:
                self._apply(int(order_id), ack)
            except TransientError as exc:
                self.counts["kept_for_next_run"] += 1
                self.log.warning("Billbee order %s: return announcement acknowledgement %r kept for the next run: "
                                 "%s", order_id, ack.get("outcome"), exc)
                continue
            except NotFoundError:
                self.counts["order_gone"] += 1
                self.log.warning("Billbee order %s: no longer exists in Billbee; return announcement "
                                 "acknowledgement dropped", order_id)
            except ClientError as exc:
                self.counts["refused"] += 1
                self.log.error("Billbee order %s: return announcement acknowledgement refused by Billbee: %s",
                               order_id, exc)
            del pending[order_id]
        if not pending:
            stream_state.pop(PENDING_ANNOUNCE_ACKS_KEY, None)
        return self.counts

    def _apply(self, order_id: int, ack: dict[str, Any]) -> None:
        outcome = ack.get("outcome")
        if outcome == AnnounceOutcome.ANNOUNCED:
            self.client.add_tags(order_id, [self.confirmed_tag])
            self.counts["tagged_return_announced"] += 1
        elif outcome == AnnounceOutcome.REFUSED:
            current = self.client.get_order(order_id)
            if has_tag(current.get("Tags"), self.error_tag):
                self.counts["already_applied"] += 1
                return
            text = f"{REFUSED_PREFIX}: {ack.get('reason') or 'refused'}"
            if not has_message(current, text):
                self.client.add_message(order_id, text)
                self.counts["messages"] += 1
            self.client.add_tags(order_id, [self.error_tag])
            self.counts["tagged_return_error"] += 1
        else:
            self.log.warning("Billbee order %s: unknown return announcement outcome %r ignored", order_id, outcome)
