"""The return requests stream: orders the merchant tagged for a return announcement (README, "Return
announcements"); target-wemalo announces them to wemalo."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from singer_sdk.helpers.types import Context
from typing_extensions import override

from billbee_wemalo.billbee import has_tag
from billbee_wemalo.protocol import RETURN_REQUESTS_STREAM
from tap_billbee import schemas
from tap_billbee.announce_acks import AnnounceAckWriter
from tap_billbee.streams import BillbeeStream, attach_bundle_components
from tap_billbee.timefmt import normalise_order_times

DEFAULT_RETURN_ANNOUNCED_TAG = "return_announced_to_wemalo"


class ReturnRequestsStream(BillbeeStream):
    """Return announcements (off unless `return_announce_tag` is set; needs `orders_tag`): the orders the merchant
    tagged for a return, in any state, that carry neither the confirmation tag (`return_announced_tag`) nor the
    error tag; target-wemalo announces each to wemalo once (its sink return_requests).

    Before reading, the last run's verdicts are written to Billbee (announce_acks.py). The query asks for every
    order with the return tag, whatever its LastModifiedAt (Billbee does not document whether a tag change moves
    it): one call per 250 tagged orders and run, and nothing of the orders stream's bookmarks or rules is touched.
    A refused announcement waits until the merchant removes the error tag. A run restricted to some orders
    (`order_ids`) writes the verdicts but reads no return requests: the hourly run does.
    """

    name = RETURN_REQUESTS_STREAM
    primary_keys = ("BillBeeOrderId",)
    schema = schemas.ORDER.to_dict()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        return_tag = (self.config.get("return_announce_tag") or "").strip()
        tags = self.run.tags
        if not return_tag:
            return
        if tags is None:
            self.logger.warning("Return requests: return_announce_tag needs orders_tag (its error tag); skipped")
            return
        confirmed = (self.config.get("return_announced_tag") or "").strip() or DEFAULT_RETURN_ANNOUNCED_TAG
        writer = AnnounceAckWriter(self.client, confirmed_tag=confirmed, error_tag=tags.error, logger=self.logger)
        counts = writer.apply_all(self.stream_state)
        if counts:
            self.logger.info("Return announcement acknowledgements written to Billbee: %s", dict(counts))
            self.run.ack_counts.update({f"return_{k}": v for k, v in counts.items()})
        if self.run.order_ids:
            self.logger.info("Return requests: not read in a run restricted to orders %s", list(self.run.order_ids))
            return
        waiting = 0
        for order in self.client.iter_orders(tags=[return_tag]):
            order_tags = order.get("Tags") or []
            if order.get("IsCancelationFor") or has_tag(order_tags, confirmed):
                continue
            if has_tag(order_tags, tags.error):
                waiting += 1  # refused: tried again once the merchant removed the error tag
                continue
            normalise_order_times(order, self.run.zone)
            attach_bundle_components(order, self.run, self.logger)
            self.run.records_emitted[self.name] += 1
            yield order
        if waiting:
            self.logger.info("Return requests: %d tagged orders carry %s and wait for the merchant", waiting,
                             tags.error)
