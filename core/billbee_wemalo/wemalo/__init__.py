"""wemalo-connect v1 client (shared by target-wemalo and tap-wemalo-shipments)."""

from billbee_wemalo.wemalo.client import (
    CANCELLABLE_STATUSES,
    CHANGEABLE_STATUSES,
    DEFAULT_API_URL,
    ORDER_STATUSES,
    PagingError,
    WemaloClient,
    parse_wemalo_datetime,
    wemalo_datetime,
    wemalo_hour,
)
from billbee_wemalo.wemalo.dry_run import DryRunWemaloClient

__all__ = [
    "CANCELLABLE_STATUSES",
    "CHANGEABLE_STATUSES",
    "DEFAULT_API_URL",
    "ORDER_STATUSES",
    "DryRunWemaloClient",
    "PagingError",
    "WemaloClient",
    "parse_wemalo_datetime",
    "wemalo_datetime",
    "wemalo_hour",
]
