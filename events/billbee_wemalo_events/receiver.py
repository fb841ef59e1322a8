"""The receiver: a Starlette app (served by uvicorn, `serve`). Each delivery is authenticated, parsed and committed
to the queue before it is answered 2xx; a refused one gets 4xx, queues nothing, and its reason is logged (ids and
reasons only: no secret, header or body).

    GET  /healthz                                  200 while the queue can be reached
    GET  /hooks/billbee?echo=X, /hooks/{merchant}/billbee?echo=X     Billbee's echo test: answers X
    POST /hooks/billbee {"Echo": X}                                  the same test as a POST: answers X
    POST /hooks/billbee, /hooks/{merchant}/billbee                   Billbee deliveries (ms-signature)
    POST /hooks/wemalo[?event=E], /hooks/{merchant}/wemalo[?event=E] wemalo deliveries (echoed token)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from billbee_wemalo_events import billbee_payloads, wemalo_payloads
from billbee_wemalo_events.auth import Refused
from billbee_wemalo_events.event_queue import EventQueue
from billbee_wemalo_events.settings import Merchant, Settings

log = logging.getLogger("billbee_wemalo_events.receiver")
MAX_ECHO = 256
TEXT_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"body of {declared} bytes is over the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"body over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _echo(request: Request) -> PlainTextResponse | None:
    """ASP.NET WebHooks' echo test (Billbee, on registration without ?noecho): the `echo` query value, verbatim."""
    if "echo" not in request.query_params:
        return None
    value = request.query_params["echo"]
    if len(value) > MAX_ECHO:
        raise Refused(400, f"echo value longer than {MAX_ECHO} characters")
    return PlainTextResponse(value, headers=TEXT_HEADERS)


def _posted_echo(body: bytes) -> PlainTextResponse | None:
    """The echo test as a POST of `{"Echo": "<value>"}` (a reading of Billbee's registration, see
    docs/api-contract.md): answered 200 with the value, nothing queued; it carries no event and no signature."""
    if len(body) > MAX_ECHO + 32 or b"cho" not in body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or len(data) != 1:
        return None
    key, value = next(iter(data.items()))
    if str(key).lower() != "echo" or not isinstance(value, str) or len(value) > MAX_ECHO:
        return None
    return PlainTextResponse(value, headers=TEXT_HEADERS)


class Receiver:
    def __init__(self, settings: Settings, queue: EventQueue) -> None:
        self.settings = settings
        self.queue = queue

    def _merchant(self, request: Request) -> Merchant:
        name = request.path_params.get("merchant") or "default"
        merchant = self.settings.merchants.get(name)
        if merchant is None:
            raise Refused(404, f"unknown merchant {name!r}")
        return merchant

    async def _handle(self, request: Request, source: str, work: Callable[[Merchant], Any]) -> Response:
        merchant_name = request.path_params.get("merchant") or "default"
        try:
            merchant = self._merchant(request)
            return await work(merchant)  # type: ignore[no-any-return]
        except Refused as refused:
            log.warning("%s delivery for merchant %s refused (%d): %s", source, merchant_name, refused.status,
                        refused.reason, extra={"merchant": merchant_name, "source": source,
                                               "status": refused.status, "client": _client(request)})
            return JSONResponse({"error": refused.reason}, status_code=refused.status)
        except SQLAlchemyError as exc:
            log.error("%s delivery for merchant %s not queued: the queue failed (%s)", source, merchant_name,
                      type(exc).__name__)
            return JSONResponse({"error": "queue unavailable, try again"}, status_code=503)

    async def _queue(self, merchant: Merchant, source: str, items: list[Any]) -> dict[str, int]:
        links = wemalo_payloads.links(ev for ev, _ in items)  # only wemalo's order events name wemalo's ids
        queued, duplicates = await run_in_threadpool(self.queue.add, merchant.name, items, links)
        log.info("%s delivery for merchant %s: %d event(s) queued, %d duplicate(s) (orders %s)", source,
                 merchant.name, queued, duplicates,
                 ", ".join(sorted({ev.order_id or "all" for ev, _ in items})) or "-")
        return {"queued": queued, "duplicates": duplicates}

    async def billbee(self, request: Request) -> Response:
        async def work(merchant: Merchant) -> Response:
            echo = _echo(request)
            body = await read_limited(request, self.settings.max_body_bytes)
            if echo is not None and (request.method == "GET" or not body.strip()):
                return echo  # the echo test carries no event (and no signature to check)
            if request.method != "POST":
                raise Refused(405, "only POST delivers events")
            if (posted_echo := _posted_echo(body)) is not None:
                return posted_echo
            merchant.billbee_auth.check(body, request.headers)
            items = list(billbee_payloads.parse(body))
            counts = await self._queue(merchant, "billbee", items)
            return echo or JSONResponse(counts)
        return await self._handle(request, "billbee", work)

    async def wemalo(self, request: Request) -> Response:
        async def work(merchant: Merchant) -> Response:
            body = await read_limited(request, self.settings.max_body_bytes)
            data = wemalo_payloads.decode(body, request.headers.get("content-type", ""))
            token = wemalo_payloads.body_token(data)
            if isinstance(data, list) and data:
                token = wemalo_payloads.body_token(data[0])
            merchant.wemalo_auth.check(token, request.headers, request.query_params)
            items = list(wemalo_payloads.parse(data, request.query_params.get("event")))
            return JSONResponse(await self._queue(merchant, "wemalo", items))
        return await self._handle(request, "wemalo", work)

    async def healthz(self, request: Request) -> Response:
        try:
            await run_in_threadpool(self.queue.counts, "-")
        except SQLAlchemyError:
            return PlainTextResponse("queue unavailable", status_code=503)
        return PlainTextResponse("ok", headers=TEXT_HEADERS)


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def create_app(settings: Settings, queue: EventQueue,
               lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None) -> Starlette:
    receiver = Receiver(settings, queue)
    routes = [
        Route("/healthz", receiver.healthz, methods=["GET"]),
        Route("/hooks/billbee", receiver.billbee, methods=["GET", "POST"]),
        Route("/hooks/wemalo", receiver.wemalo, methods=["POST"]),
        Route("/hooks/{merchant}/billbee", receiver.billbee, methods=["GET", "POST"]),
        Route("/hooks/{merchant}/wemalo", receiver.wemalo, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)

