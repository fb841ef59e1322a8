"""The wemalo-connect v1 client, shared by target-wemalo and tap-wemalo-shipments.

wemalo reports success in the body (`Success`, `status`), and whether the HTTP status mirrors it is
unknown (docs/api-contract.md, "wemalo: envelope"), so the body status decides. Body status 419 means "rate
limited". wemalo's limits are unknown; the client follows the `x-wemalo-limit-remainingcall` header like
wemalo's own plugin does (pause 3 s when it reaches 0).

Where the document leaves a behaviour open, the client asks the response instead of assuming: the page base
of the paged feeds (the first page is requested without `page` and the echoed number is followed), and the
answer to `getStatus` for an unknown order (learned once per client from a probe; see `order_status`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from typing_extensions import override

from billbee_wemalo.http import (
    ApiError,
    ApiSession,
    ClientError,
    ConfigError,
    NotFoundError,
    RetryPolicy,
    check_base_url,
)
from billbee_wemalo.http.json_parse import ItemsHook
from billbee_wemalo.http.session import ApiResponse

DEFAULT_API_URL = "https://connect.wemalo.com/v1"
LIMIT_PAUSE_SECONDS = 3.0

# Goods-order statuses (docs/api-contract.md, "wemalo: order statuses") in lifecycle order.
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


class PagingError(ClientError):
    """A paged feed answered in a way that cannot be followed (e.g. the same rows again): reading stopped."""


def _same_not_found(answer: Any, probe: Any) -> bool:
    """Does `answer` have the shape of the probe's answer (status and the body's keys, values aside)?"""
    def shape(value: Any) -> tuple[object, ...]:
        if isinstance(value, ApiError):
            return ("error", value.status, sorted(value.body) if isinstance(value.body, dict) else None)
        return ("answer", sorted(value) if isinstance(value, dict) else type(value).__name__)
    return shape(answer) == shape(probe)


class _WemaloSession(ApiSession):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pause_until = 0.0

    @override
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
        read_only: bool = False,
    ) -> None:
        if not token:
            raise ConfigError("wemalo setting missing: token")
        self._sleep = sleep
        self.log = logger or logging.getLogger("billbee_wemalo.wemalo")
        self._not_found_probe: Any = None  # getStatus's answer for an order that cannot exist (order_status)
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
            read_only=read_only,
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
            product: dict[str, Any] = self._call("GET", "/product/get/:externalId",
                                                 f"/product/get/{quote(external_id, safe='')}").data
            return product
        except NotFoundError:
            return None

    def list_products(self, changed_since: datetime | None = None,
                      compact: Callable[[dict[str, Any]], Any] | None = None, *,
                      restart: Callable[[], None] | None = None) -> list[Any]:
        """All products (or those changed since an hour): one call.

        `compact` turns each product into what the caller keeps while the answer is parsed, so that a large
        catalogue never exists as full dicts (100,000 products: ~170 MB as dicts). A `compact` that consumes each
        product itself (an index built while the answer arrives) returns json_parse.DROP, so the list keeps
        nothing of it, and gives `restart`: called each time an answer's product list opens, so that what it
        consumed of an answer that was then retried (throttled, dropped) is forgotten."""
        since = changed_since or datetime(2000, 1, 1)
        items: ItemsHook | None = None
        if compact is not None:
            items = ("products", compact) if restart is None else ("products", compact, restart)
        data = self._call("GET", "/product/getAll", "/product/getAll", params={"fromDate": wemalo_hour(since)},
                          items=items).data
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
        """The goods order's status, or None when wemalo has no order with this externalId.

        How getStatus answers for an unknown order is not documented. A 404 (HTTP or body) means "none", and
        so does an answer without `statusName`; any other refusal (a 400, `Success: false` with another shape)
        is compared with the answer to a probe for an externalId that cannot exist, asked once per client: the
        same shape means "none", another means wemalo could not be asked, and raises (an order must never be
        created twice because a read failed)."""
        try:
            data = self._status(external_id)
        except NotFoundError:
            return None
        except ClientError as exc:
            if _same_not_found(exc, self._probe_not_found()):
                return None
            raise
        if isinstance(data, dict) and data.get("statusName"):
            return data
        if _same_not_found(data, self._probe_not_found()):
            return None
        raise ClientError(f"wemalo GET /goodsOrder/getStatus/:id: an answer without statusName for {external_id} "
                          "that differs from its answer for an unknown order", system="wemalo",
                          endpoint="GET /goodsOrder/getStatus/:id", body=data)

    def _status(self, external_id: str) -> Any:
        path = f"/goodsOrder/getStatus/{quote(external_id, safe='')}"
        return self._call("GET", "/goodsOrder/getStatus/:id", path).data

    def _probe_not_found(self) -> Any:
        if self._not_found_probe is None:
            probe_id = f"billbee-wemalo-probe-{uuid.uuid4().hex}"  # no Billbee order id looks like this
            try:
                answer: Any = self._status(probe_id)
            except ApiError as exc:
                if not isinstance(exc, ClientError | NotFoundError):
                    raise
                answer = exc
            self._not_found_probe = answer
            self.log.info("wemalo getStatus answers an unknown order with %s",
                          f"HTTP/body status {answer.status}" if isinstance(answer, ApiError) else "a body without "
                          "statusName")
        return self._not_found_probe

    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """Not idempotent: callers check `order_status` first and again after an AmbiguousWriteError."""
        return self._call("POST", "/goodsOrder/add", "/goodsOrder/add", json_body=order, idempotent=False).data or {}

    def update_order_meta(self, external_id: str, meta: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", "/goodsOrder/updateMeta/:id", f"/goodsOrder/updateMeta/{quote(external_id, safe='')}",
                          json_body={"meta": meta}).data or {}

    def cancel_order(self, external_id: str, reason: str = "") -> dict[str, Any]:
        """PUT goodsOrder/cancel. Only a status read afterwards shows whether it took effect: the answer to a
        cancel that came too late is not documented (docs/api-contract.md, "wemalo: cancel")."""
        return self._call("PUT", "/goodsOrder/cancel/:id", f"/goodsOrder/cancel/{quote(external_id, safe='')}",
                          json_body={"reason": reason} if reason else {}).data or {}

    def profiles(self) -> list[dict[str, Any]]:
        return (self._call("GET", "/goodsOrder/profiles", "/goodsOrder/profiles").data or {}).get("dispatcher") or []

    def order_packages(self, external_id: str) -> list[dict[str, Any]]:
        data = self._call("GET", "/goodsOrder/packages", "/goodsOrder/packages",
                          params={"externalOrderId": external_id}).data
        return (data or {}).get("packages") or []

    def iter_sent_bookings(self, date_from: datetime, date_to: datetime,
                           external_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Rows of goodsOrder/sentPackages (one per product line per parcel) handed over in the window; with
        `external_id` only that goods order's (the route's `externalId` filter)."""
        params = {"dateFrom": wemalo_datetime(date_from), "dateTo": wemalo_datetime(date_to)}
        if external_id is not None:
            params["externalId"] = external_id
        yield from self.iter_pages("GET", "/goodsOrder/sentPackages/", params, "bookings", key="historyId")

    def iter_booked_returns(self) -> Iterator[dict[str, Any]]:
        """Return bookings wemalo has not marked as synchronised (`returns/booked`; docs/api-contract.md,
        "wemalo: returns"): one row per booked item, each until `mark_return_synchronised`."""
        yield from self.iter_pages("GET", "/returns/booked", {}, "bookings", key="id")

    def mark_return_synchronised(self, booking_id: int | str) -> None:
        """`PUT returns/booked/:bookingId`: the booking leaves returns/booked (it stays in getBookings)."""
        self._call("PUT", "/returns/booked/:bookingId", f"/returns/booked/{booking_id}")

    def announce_return(self, announcement: dict[str, Any]) -> dict[str, Any]:
        """`POST returns/announce` -> `{"id": wemalo's returns id, ...}`. Not idempotent, and wemalo has no call
        that reads an announcement back: callers send a stable `externalId` and keep what was announced
        (docs/api-contract.md, "wemalo: returns/announce")."""
        return self._call("POST", "/returns/announce", "/returns/announce", json_body=announcement,
                          idempotent=False).data or {}

    def iter_pages(self, method: str, endpoint: str, params: dict[str, Any], rows: str, *,
                   key: str) -> Iterator[dict[str, Any]]:
        """The rows of a paged wemalo feed (`page`, `additionalPage`, a list under `rows`), each once.

        The page base is not documented (the apidoc's examples answer page 0): the first page is asked for
        without `page`, and the next one is the echoed `page` + 1 (the request's + 1 when nothing is echoed).
        Rows are de-duplicated by `key`, so a repeated page changes nothing. Without an echoed number the base
        stays unknown, so one page that repeats the first is passed over; a page that brings no new row while
        claiming more raises PagingError (after its rows): the caller's bookmark must not move past rows never
        read."""
        seen: set[str] = set()
        asked: int | None = None
        skipped_repeat = False
        while True:
            query = dict(params) if asked is None else {**params, "page": asked}
            data = self._call(method, endpoint, endpoint, params=query).data or {}
            fresh = 0
            for row in data.get(rows) or []:
                ident = row.get(key) if isinstance(row, dict) else None
                if ident is not None and str(ident) in seen:
                    continue
                if ident is not None:
                    seen.add(str(ident))
                fresh += 1
                yield row
            if not data.get("additionalPage"):
                return
            echoed = data.get("page")
            served = int(echoed) if isinstance(echoed, int | str) and str(echoed).isdigit() else None
            if not fresh:
                if served is None and not skipped_repeat:  # page 1 may have been the first page again
                    skipped_repeat = True
                    asked = (asked or 0) + 1
                    continue
                raise PagingError(f"wemalo {endpoint}: page {served if served is not None else asked} brought no "
                                  "new rows but claims more; reading stopped (is the page parameter ignored?)",
                                  system="wemalo", endpoint=endpoint)
            asked = (served if served is not None else (asked or 0)) + 1

    def tracking_number(self, parcel_id: int | str) -> dict[str, Any]:
        return self._call("GET", "/goodsOrder/package/:parcelId/trackingNumber",
                          f"/goodsOrder/package/{parcel_id}/trackingNumber").data or {}

    # -- webhooks (docs/api-contract.md, "wemalo: webhooks") --------------------------------------------
    def list_webhooks(self) -> list[dict[str, Any]]:
        """`GET webhook`: `{hooks: [{payload, token, event}]}` (the token is the hook's, echoed to the receiver)."""
        data = self._call("GET", "/webhook", "/webhook").data
        hooks = data.get("hooks") if isinstance(data, dict) else data
        return [h for h in hooks or [] if isinstance(h, dict)]

    def register_webhook(self, event: str, url: str, token: str, email: str = "") -> dict[str, Any]:
        """`POST webhook/:event`: one hook per event; posting an event again replaces its URL and token (as
        wemalo's own plugin relies on), so repeating it is harmless. The apidoc names the address field `email`,
        its example `mail`: both are sent."""
        body: dict[str, Any] = {"payload": url, "token": token}
        if email:
            body |= {"email": email, "mail": email}
        return self._call("POST", "/webhook/:event", f"/webhook/{quote(event, safe='')}", json_body=body,
                          idempotent=True).data or {}

    def delete_webhook(self, event: str) -> None:
        self._call("DELETE", "/webhook/:event", f"/webhook/{quote(event, safe='')}")

    def close(self) -> None:
        self.session.close()
