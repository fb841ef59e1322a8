"""Billbee API v1 client (shared by tap-billbee and target-billbee)."""

from billbee_wemalo.billbee.client import DEFAULT_API_URL, MAX_PAGE_SIZE, BillbeeClient, format_query_time
from billbee_wemalo.billbee.dry_run import DryRunBillbeeClient
from billbee_wemalo.billbee.enums import (
    BEFORE_SHIPPING_STATES,
    BUNDLE_TYPE,
    CANCELLED_STATES,
    OrderState,
    carrier_id_for,
)
from billbee_wemalo.billbee.tags import ConnectorTags, has_tag, without_tag

__all__ = [
    "BEFORE_SHIPPING_STATES",
    "BUNDLE_TYPE",
    "CANCELLED_STATES",
    "DEFAULT_API_URL",
    "MAX_PAGE_SIZE",
    "BillbeeClient",
    "ConnectorTags",
    "DryRunBillbeeClient",
    "OrderState",
    "carrier_id_for",
    "format_query_time",
    "has_tag",
    "without_tag",
]
