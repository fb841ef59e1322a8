"""The Billbee API v1 client, shared by tap-billbee and target-billbee.

Billbee's limits (docs/api-contract.md, "Billbee: limits"): 2 requests/s per endpoint and 10/s per user, per
API key + user.
The client keeps under both with one limiter that counts each request under its endpoint template and its
user at once, so a normal run draws no 429. The window is 5 % longer than Billbee's second so that a request
held up on the way cannot arrive within a second of the one two places before it. A request counts from when
it was written to its socket (after any handshake), and later by as much as its latency shows it was held up.
Should a 429 come anyway, that endpoint's window grows by 50 ms (at most to 1.25 s) for the rest of the run.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import quote

from requests.auth import HTTPBasicAuth
from typing_extensions import override

from billbee_wemalo.http import ApiSession, ConfigError, RateLimiter, RetryPolicy, check_base_url
from billbee_wemalo.http.session import ApiResponse

DEFAULT_API_URL = "https://app.billbee.io/api/v1"
MAX_PAGE_SIZE = 250
ENDPOINT_RATE = 2
USER_RATE = 10
BILLBEE_WINDOW_SECONDS = 1.0
WINDOW_SECONDS = 1.05
MAX_WINDOW_SECONDS = 1.25

# Billbee answers some errors with HTTP 200 and an ErrorCode in the envelope (docs/api-contract.md,
# "Billbee: envelope").
_ERROR_CODE_STATUS = {1: 403, 2: 404, 6: 404, 8: 500, 11: 400, 16: 403, 17: 403}


def format_query_time(value: datetime) -> str:
    """Billbee query timestamps: naive, second precision, in Billbee's own frame (see the tap's timezone)."""
    return value.replace(tzinfo=None).isoformat(timespec="seconds")


class _BillbeeSession(ApiSession):
    @override
    def effective_status(self, http_status: int, data: Any) -> int:
        if http_status < 400 and isinstance(data, dict):
            code = data.get("ErrorCode")
            if isinstance(code, int) and code != 0:
                return _ERROR_CODE_STATUS.get(code, 400)
        return http_status


class BillbeeClient:
    """Typed calls for the endpoints the connector uses; one instance per Billbee account."""

    def __init__(
        self,
        *,
        api_url: str = DEFAULT_API_URL,
        username: str,
        password: str,
        api_key: str,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        logger: logging.Logger | None = None,
        sleep: Callable[[float], None] = time.sleep,
        endpoint_rate: int = ENDPOINT_RATE,
        user_rate: int = USER_RATE,
        read_only: bool = False,
    ) -> None:
        missing = [name for name, value in (("username", username), ("password", password), ("api_key", api_key))
                   if not value]
        if missing:
            raise ConfigError(f"Billbee setting(s) missing: {', '.join(missing)}")
        self.limiter = RateLimiter({"endpoint": endpoint_rate, "user": user_rate}, WINDOW_SECONDS,
                                   slack=WINDOW_SECONDS - BILLBEE_WINDOW_SECONDS, max_window=MAX_WINDOW_SECONDS,
                                   sleep=sleep)
        self.session = _BillbeeSession(
            system="Billbee",
            base_url=check_base_url(api_url, "api_url"),
            auth=HTTPBasicAuth(username, password),
            headers={"X-Billbee-Api-Key": api_key},
            secrets=[password, api_key],
            auth_hint="the settings username, password (the Billbee API password) and api_key",
            timeout=timeout,
            retry=retry,
            throttle=self._throttle,
            on_throttled=self._throttled,
            on_answer=lambda _endpoint, sent_at: self.limiter.answered(sent_at=sent_at),
            logger=logger,
            sleep=sleep,
            read_only=read_only,
        )

    @staticmethod
    def _limit_keys(endpoint: str) -> tuple[tuple[str, str], ...]:
        return ("endpoint", endpoint), ("user", "")

    def _throttle(self, endpoint: str) -> None:
        self.limiter.acquire(*self._limit_keys(endpoint))

    def _throttled(self, endpoint: str) -> None:
        windows = self.limiter.widen(*self._limit_keys(endpoint))
        window = windows[("endpoint", endpoint)]
        self.session.log.info("Billbee %s: 429 although the client kept to the limit; its window is now %.2f s",
                       endpoint, window, extra={"system": "Billbee", "endpoint": endpoint,
                                                "window_seconds": round(window, 3)})

    system = "Billbee"

    @property
    def stats(self) -> dict[str, int]:
        return dict(self.session.stats)

    @property
    def waited_seconds(self) -> float:
        """Time spent waiting for the rate limits, for progress lines and reports."""
        return self.limiter.waited_seconds

    def _call(self, method: str, endpoint: str, path: str, **kwargs: Any) -> ApiResponse:
        return self.session.request(method, path, endpoint=f"{method} {endpoint}", **kwargs)

    # -- paging --------------------------------------------------------------------------------------
    def iter_pages(self, endpoint: str, params: dict[str, Any] | None = None, page_size: int = MAX_PAGE_SIZE,
                   on_page: Callable[[dict[str, Any]], None] | None = None, prefetch: bool = False,
                   ) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
        """Yield (rows, Paging) per page, stopping after `Paging.TotalPages` (no extra empty request).

        With `prefetch`, the next page is requested (in a thread of its own) while the caller works through
        this one, so the endpoint's two requests a second are not spent waiting for the caller. For callers
        that read every page: one that stops early has cost one request it did not use."""
        size = min(page_size, MAX_PAGE_SIZE)

        def fetch(page: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
            data = self._call("GET", endpoint, endpoint, params={**(params or {}), "page": page, "pageSize": size}
                              ).data or {}
            return data.get("Data") or [], data.get("Paging") or {}

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="billbee-pages") as pool:
            page, upcoming = 1, None
            rows, paging = fetch(1)
            try:
                while True:
                    total_pages = paging.get("TotalPages")
                    if total_pages is None:  # no paging info: fall back on a short page meaning "last"
                        total_pages = page if len(rows) < size else math.inf
                    last = page >= total_pages or not rows
                    if prefetch and not last:
                        upcoming = pool.submit(fetch, page + 1)
                    if on_page:
                        on_page(paging)
                    yield rows, paging
                    if last:
                        return
                    page += 1
                    rows, paging = upcoming.result() if upcoming else fetch(page)
                    upcoming = None
            finally:
                if upcoming:  # the caller stopped early: let the request in flight end, drop its answer
                    upcoming.cancel()

    # -- reads ---------------------------------------------------------------------------------------
    def iter_products(self, page_size: int = MAX_PAGE_SIZE,
                      on_page: Callable[[dict[str, Any]], None] | None = None,
                      min_id: int | None = None, prefetch: bool = True) -> Iterator[dict[str, Any]]:
        """All articles, or those with an Id of at least `min_id` (minimumBillBeeArticleId); with `prefetch`
        each page is requested while the caller works through the one before (for callers that read them all)."""
        params = {"minimumBillBeeArticleId": min_id} if min_id is not None else None
        for rows, _ in self.iter_pages("/products", params, page_size=page_size, on_page=on_page, prefetch=prefetch):
            yield from rows

    def iter_orders(
        self,
        *,
        state_ids: list[int] | None = None,
        tags: list[str] | None = None,
        exclude_tags: bool = False,
        modified_after: str | None = None,
        modified_until: str | None = None,
        created_after: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        on_page: Callable[[dict[str, Any]], None] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Orders filtered on the server. `modified_after` is exclusive (Billbee: "newer than"). Each page is
        requested while the caller works through the one before (callers read them all)."""
        params: dict[str, Any] = {}
        if state_ids:
            params["orderStateId"] = list(state_ids)  # sent as repeated keys (collectionFormat multi)
        if tags:
            params["tag"] = list(tags)
            if exclude_tags:
                params["excludeTags"] = "true"
        if modified_after:
            params["modifiedAtMin"] = modified_after
        if modified_until:
            params["modifiedAtMax"] = modified_until
        if created_after:
            params["minOrderDate"] = created_after
        for rows, _ in self.iter_pages("/orders", params, page_size, on_page, prefetch=True):
            yield from rows

    def get_order(self, order_id: int) -> dict[str, Any]:
        """One order. Billbee allows 6 of these per order per minute: use sparingly."""
        order: dict[str, Any] = self._call("GET", "/orders/{id}", f"/orders/{order_id}").data["Data"]
        return order

    def get_product_by_sku(self, sku: str) -> dict[str, Any]:
        """One article by SKU (`GET /products/{id}?lookupBy=sku`); NotFoundError when Billbee has none."""
        article: dict[str, Any] = self._call("GET", "/products/{id}", f"/products/{quote(sku, safe='')}",
                                             params={"lookupBy": "sku"}).data.get("Data") or {}
        return article

    def stocks(self) -> list[dict[str, Any]]:
        return self._call("GET", "/products/stocks", "/products/stocks").data.get("Data") or []

    def shipping_providers(self) -> list[dict[str, Any]]:
        """Raw array with lower-camel keys (`id`, `name`, `products[{id, displayName, productName}]`)."""
        return self._call("GET", "/shipment/shippingproviders", "/shipment/shippingproviders").data or []

    # -- webhooks (docs/api-contract.md, "Billbee: webhooks") -------------------------------------------
    def list_webhooks(self) -> list[dict[str, Any]]:
        """The account's hooks (`WebHookApiModel`: Id, WebHookUri, Filters, IsPaused, ...; a raw array)."""
        data = self._call("GET", "/webhooks", "/webhooks").data
        return data if isinstance(data, list) else (data or {}).get("Data") or []

    def webhook_filters(self) -> list[str]:
        """The filter names Billbee knows: a list of `{Name, Description}` or plain strings, or (the spec types it
        "object") an object keyed by name, or either in an ApiResult's `Data`."""
        data = self._call("GET", "/webhooks/filters", "/webhooks/filters").data
        if isinstance(data, dict) and "Data" in data:
            data = data["Data"]
        rows = data if isinstance(data, list) else list((data or {}).keys()) if isinstance(data, dict) else []
        names = [row.get("Name") if isinstance(row, dict) else row for row in rows]
        return [str(n) for n in names if n]

    def create_webhook(self, hook: dict[str, Any]) -> dict[str, Any]:
        """POST /webhooks (`WebHookUri`, `Secret` of 32-64 characters, `Filters`); Billbee runs its echo test
        on the URI unless it carries `?noecho`. Not idempotent: list first."""
        data = self._call("POST", "/webhooks", "/webhooks", json_body=hook, idempotent=False).data
        return data if isinstance(data, dict) else {}

    def update_webhook(self, hook_id: str, hook: dict[str, Any]) -> dict[str, Any]:
        data = self._call("PUT", "/webhooks/{id}", f"/webhooks/{quote(str(hook_id), safe='')}",
                          json_body={**hook, "Id": hook_id}).data
        return data if isinstance(data, dict) else {}

    def delete_webhook(self, hook_id: str) -> None:
        self._call("DELETE", "/webhooks/{id}", f"/webhooks/{quote(str(hook_id), safe='')}")

    # -- writes --------------------------------------------------------------------------------------
    def add_tags(self, order_id: int, tags: list[str]) -> None:
        """POST merges (case-insensitively, duplicates ignored): repeating it is harmless."""
        self._call("POST", "/orders/{id}/tags", f"/orders/{order_id}/tags", json_body={"Tags": tags},
                   idempotent=True)

    def replace_tags(self, order_id: int, tags: list[str]) -> None:
        self._call("PUT", "/orders/{id}/tags", f"/orders/{order_id}/tags", json_body={"Tags": tags})

    def set_order_state(self, order_id: int, state_id: int) -> None:
        self._call("PUT", "/orders/{id}/orderstate", f"/orders/{order_id}/orderstate",
                   json_body={"NewStateId": state_id})

    def add_shipment(self, order_id: int, shipment: dict[str, Any]) -> None:
        """Not idempotent at Billbee: an ambiguous failure raises AmbiguousWriteError; re-read, then decide."""
        self._call("POST", "/orders/{id}/shipment", f"/orders/{order_id}/shipment", json_body=shipment,
                   idempotent=False)

    def add_message(self, order_id: int, text: str, sender: str = "billbee-wemalo-connector") -> None:
        self._call("POST", "/orders/{id}/message", f"/orders/{order_id}/message",
                   json_body={"IsInternal": True, "SenderName": sender, "Text": text}, idempotent=False)

    def update_stock_multiple(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Absolute quantities, so repeating a batch is harmless. Returns one ApiResult per item."""
        data = self._call("POST", "/products/updatestockmultiple", "/products/updatestockmultiple",
                          json_body=items, idempotent=True).data
        return data if isinstance(data, list) else (data or {}).get("Data") or []

    def close(self) -> None:
        self.session.close()
