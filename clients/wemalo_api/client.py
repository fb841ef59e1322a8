"""The wemalo-connect v1 client, shared by target-wemalo and tap-wemalo-shipments.

wemalo reports success in the body (`Success`, `status`), and whether the HTTP status mirrors it is
unknown (wemalo-api.md §1.5), so the body status decides. Body status 419 means "rate limited".
wemalo's limits are unknown; the client follows the `x-wemalo-limit-remainingcall` header like wemalo's
own plugin does (pause 3 s when it reaches 0).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from connector_http import ApiSession, ConfigError, NotFoundError, RetryPolicy, check_base_url
from connector_http.session import ApiResponse

DEFAULT_API_URL = "https://connect.wemalo.com/v1"
LIMIT_PAUSE_SECONDS = 3.0

# Goods-order statuses (wemalo-api.md §3) in lifecycle order.
ORDER_STATUSES = ("PARTIAL", "OPEN", "INPROCESS", "INPICKING", "READYFORSHIPMENT", "BLOCKEDPACKED", "PACKED",
                  "SHIPPED")
CHANGEABLE_STATUSES = frozenset({"PARTIAL", "OPEN"})  # updateMeta is allowed only here
CANCELLABLE_STATUSES = frozenset({"PARTIAL", "OPEN", "INPROCESS"})  # "if the order was not picked/packed yet"


def wemalo_hour(value: datetime) -> str:
    """`fromDate` of product/getAll and product/availableStock: ddMMyyyyHH."""
    return value.strftime("%d%m%Y%H")


def wemalo_datetime(value: datetime) -> str:
    """Dates of sentPackages and bookings: dd.MM.yyyy HH:mm:ss (wemalo's local time)."""
    return value.strftime("%d.%m.%Y %H:%M:%S")


def parse_wemalo_datetime(value: str) -> datetime:
    return datetime.strptime(value, "%d.%m.%Y %H:%M:%S")


class _WemaloSession(ApiSession):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pause_until = 0.0

    def effective_status(self, http_status: int, data: Any) -> int:
        if isinstance(data, dict):
            body_status = data.get("status")
            if isinstance(body_status, int | str) and str(body_status).isdigit():
                status = int(body_status)
                return 429 if status == 419 else status
            if data.get("Success") is False and http_status < 400:
                return 400
        return http_status


class WemaloClient:
    """Typed calls for the wemalo-connect routes the connector uses; one instance per wemalo account."""

    def __init__(
        self,
        *,
        api_url: str = DEFAULT_API_URL,
        token: str,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        logger: logging.Logger | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token:
            raise ConfigError("wemalo setting missing: token")
        self._sleep = sleep
        self.waited_seconds = 0.0  # paused because wemalo said no calls remain (x-wemalo-limit-remainingcall)
        self.session = _WemaloSession(
            system="wemalo",
            base_url=check_base_url(api_url, "api_url"),
            headers={"Authorization": f"JWT {token}"},
            secrets=[token],
            auth_hint="the setting token (the wemalo-connect API token)",
            timeout=timeout,
            retry=retry,
            throttle=self._throttle,
            logger=logger,
            sleep=sleep,
        )

    def _throttle(self, endpoint: str) -> None:
        wait = self.session.pause_until - time.monotonic()
        if wait > 0:
            self.waited_seconds += wait
            self._sleep(wait)

    def _call(self, method: str, endpoint: str, path: str, **kwargs: Any) -> ApiResponse:
        resp = self.session.request(method, path, endpoint=f"{method} {endpoint}", **kwargs)
        remaining = resp.headers.get("x-wemalo-limit-remainingcall")
        if remaining is not None and remaining.lstrip("-").isdigit() and int(remaining) <= 0:
            self.session.pause_until = time.monotonic() + LIMIT_PAUSE_SECONDS
        return resp

    system = "wemalo"

    @property
    def stats(self) -> dict[str, int]:
        return dict(self.session.stats)

    # -- products ------------------------------------------------------------------------------------
    def get_product(self, external_id: str) -> dict[str, Any] | None:
        try:
            return self._call("GET", "/product/get/:externalId", f"/product/get/{quote(external_id, safe='')}").data
        except NotFoundError:
            return None

    def list_products(self, changed_since: datetime | None = None,
                      compact: Callable[[dict[str, Any]], Any] | None = None) -> list[Any]:
        """All products (or those changed since an hour): one call.

        `compact` turns each product into what the caller keeps while the answer is parsed, so that a large
        catalogue never exists as full dicts (100,000 products: ~170 MB as dicts)."""
        since = changed_since or datetime(2000, 1, 1)
        data = self._call("GET", "/product/getAll", "/product/getAll", params={"fromDate": wemalo_hour(since)},
                          items=("products", compact) if compact is not None else None).data
        return (data or {}).get("products") or []

    def add_products(self, products: list[dict[str, Any]]) -> dict[str, Any]:
        """product/addMultiple: an upsert by externalId, so a repeated batch changes nothing."""
        return self._call("POST", "/product/addMultiple", "/product/addMultiple",
                          json_body={"products": products}, idempotent=True).data or {}

    def add_product(self, product: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/product/add", "/product/add", json_body=product, idempotent=False).data or {}

    def update_product(self, external_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", "/product/update/:externalId", f"/product/update/{quote(external_id, safe='')}",
                          json_body=changes).data or {}

    def available_stock(self, changed_since: datetime | None = None) -> list[dict[str, Any]]:
        since = changed_since or datetime(2000, 1, 1)
        data = self._call("GET", "/product/availableStock/", "/product/availableStock/",
                          params={"fromDate": wemalo_hour(since)}).data
        return (data or {}).get("articles") or []

    # -- goods orders --------------------------------------------------------------------------------
    def order_status(self, external_id: str) -> dict[str, Any] | None:
        """The goods order's status, or None when wemalo has no order with this externalId."""
        try:
            return self._call("GET", "/goodsOrder/getStatus/:id",
                              f"/goodsOrder/getStatus/{quote(external_id, safe='')}").data
        except NotFoundError:
            return None

    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """Not idempotent: callers check `order_status` first and again after an AmbiguousWriteError."""
        return self._call("POST", "/goodsOrder/add", "/goodsOrder/add", json_body=order, idempotent=False).data or {}

    def update_order_meta(self, external_id: str, meta: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", "/goodsOrder/updateMeta/:id", f"/goodsOrder/updateMeta/{quote(external_id, safe='')}",
                          json_body={"meta": meta}).data or {}

    def cancel_order(self, external_id: str, reason: str = "") -> dict[str, Any]:
        return self._call("PUT", "/goodsOrder/cancel/:id", f"/goodsOrder/cancel/{quote(external_id, safe='')}",
                          json_body={"reason": reason} if reason else {}).data or {}

    def profiles(self) -> list[dict[str, Any]]:
        return (self._call("GET", "/goodsOrder/profiles", "/goodsOrder/profiles").data or {}).get("dispatcher") or []

    def order_packages(self, external_id: str) -> list[dict[str, Any]]:
        data = self._call("GET", "/goodsOrder/packages", "/goodsOrder/packages",
                          params={"externalOrderId": external_id}).data
        return (data or {}).get("packages") or []

    def iter_sent_bookings(self, date_from: datetime, date_to: datetime) -> Iterator[dict[str, Any]]:
        """Rows of goodsOrder/sentPackages (one per product line per parcel) handed over in the window."""
        page = 1
        while True:
            data = self._call("GET", "/goodsOrder/sentPackages/", "/goodsOrder/sentPackages/", params={
                "dateFrom": wemalo_datetime(date_from), "dateTo": wemalo_datetime(date_to), "page": page}).data or {}
            yield from data.get("bookings") or []
            if not data.get("additionalPage"):
                return
            page += 1

    def tracking_number(self, parcel_id: int | str) -> dict[str, Any]:
        return self._call("GET", "/goodsOrder/package/:parcelId/trackingNumber",
                          f"/goodsOrder/package/{parcel_id}/trackingNumber").data or {}

    def close(self) -> None:
        self.session.close()
