"""`billbee-wemalo-events serve|register|unregister|status` (also `meltano invoke billbee-wemalo-events:<command>`).

`status` counts the events still in the queue: the worker prunes handled ones after `retention_days`, failed
ones after three times as long (event_queue.Retention); it prints how far back that is.

Exit codes: 0 fine; 1 `status` found a hook missing, paused or pointing elsewhere, or failed events, or
`register --ensure` had to register a dropped hook again (one line on stderr names them); 2 a setting is wrong or
an API refused (one line on stderr, never a secret).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from billbee_wemalo.http import ApiError
from billbee_wemalo_events import accounts, registration
from billbee_wemalo_events.event_queue import EventQueue, Retention, queue_from_env
from billbee_wemalo_events.jobs import MeltanoRunner
from billbee_wemalo_events.registration import HookStatus
from billbee_wemalo_events.settings import Merchant, Settings, SettingsError, _list
from billbee_wemalo_events.worker import Worker

OK, ATTENTION, FAILED = 0, 1, 2
PROG = "billbee-wemalo-events"
log = logging.getLogger("billbee_wemalo_events")


def serve(settings: Settings, queue: EventQueue) -> int:
    import uvicorn
    from starlette.applications import Starlette

    from billbee_wemalo_events.receiver import create_app

    worker = Worker(queue, settings, MeltanoRunner(settings.meltano_executable))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        worker.start()
        log.info("Receiving for merchant(s) %s on %s:%d; worker started (coalescing %.1f s)",
                 ", ".join(settings.merchants), settings.host, settings.port, settings.coalesce_seconds)
        try:
            yield
        finally:
            worker.stop()

    app = create_app(settings, queue, lifespan=lifespan)
    # No access log: a wemalo token may travel in the query string, which uvicorn would print.
    config = uvicorn.Config(app, host=settings.host, port=settings.port, access_log=False, log_config=None,
                            timeout_graceful_shutdown=30, server_header=False)
    uvicorn.Server(config).run()
    return OK


def _merchants(settings: Settings, name: str | None) -> list[Merchant]:
    if name is None:
        return list(settings.merchants.values())
    if name not in settings.merchants:
        raise SettingsError(f"unknown merchant {name!r} (known: {', '.join(settings.merchants)})")
    return [settings.merchants[name]]


def _print(merchant: Merchant, hooks: list[HookStatus]) -> None:
    print(f"merchant {merchant.name}:")
    for hook in hooks:
        print(f"  {hook.line()}")


def register(settings: Settings, merchant: Merchant, env: Mapping[str, str], ensure: bool, noecho: bool) -> int:
    filters = list(_list(env.get("BILLBEE_WEMALO_EVENTS_BILLBEE_FILTERS", "")))
    billbee, wemalo = accounts.billbee_client(merchant.env), accounts.wemalo_client(merchant.env)
    try:
        hooks = registration.register_billbee(billbee, merchant, settings.public_url, filters, ensure=ensure,
                                              noecho=noecho)
        hooks += registration.register_wemalo(wemalo, merchant, settings.public_url, settings.notify_email,
                                              ensure=ensure)
    finally:
        billbee.close()
        wemalo.close()
    _print(merchant, hooks)
    repaired = [h for h in hooks if h.state != "ok"]
    if ensure and repaired:  # the scheduled check's report: one line, and an exit code the schedule shows
        print(f"{PROG}: merchant {merchant.name}: re-registered {len(repaired)} dropped or changed hook(s): "
              + ", ".join(f"{h.system} {h.name}" for h in repaired), file=sys.stderr)
        return ATTENTION
    return OK


def unregister(settings: Settings, merchant: Merchant) -> int:
    billbee, wemalo = accounts.billbee_client(merchant.env), accounts.wemalo_client(merchant.env)
    try:
        _print(merchant, registration.unregister(billbee, wemalo, merchant, settings.public_url) or [])
    finally:
        billbee.close()
        wemalo.close()
    return OK


def status(settings: Settings, merchant: Merchant, queue: EventQueue, as_json: bool) -> tuple[int, dict[str, Any]]:
    billbee, wemalo = accounts.billbee_client(merchant.env), accounts.wemalo_client(merchant.env)
    try:
        hooks = registration.billbee_hooks(billbee, registration.billbee_url(settings.public_url, merchant))
        hooks += registration.wemalo_hooks(wemalo, settings.public_url, merchant)
    finally:
        billbee.close()
        wemalo.close()
    counts = queue.counts(merchant.name)
    retention = Retention(settings.retention_days)
    oldest = queue.oldest_received(merchant.name)
    if not as_json:
        _print(merchant, hooks)
        print("  events: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        # The counts are of the rows still in the queue: say how far back that is.
        print(f"  the queue keeps {retention.describe()}"
              + (f"; oldest kept received {oldest:%Y-%m-%d %H:%M} UTC" if oldest is not None else ""))
        for hook in hooks:
            if hook.state != "ok":
                print(f"  ! {hook.system} hook {hook.name} is {hook.state}: run `{PROG} register --ensure`")
    bad = any(h.state != "ok" for h in hooks) or counts["failed"] > 0
    return (ATTENTION if bad else OK), {"merchant": merchant.name, "events": counts,
                                        "retention": retention.as_dict(),
                                        "oldest_received": oldest.isoformat() if oldest is not None else None,
                                        "hooks": [h.__dict__ for h in hooks]}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Billbee and wemalo webhooks: receive, queue, sync.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the receiver and its worker (host, port: settings)")
    for name, text in (("register", "register or update the hooks on both sides"),
                       ("unregister", "remove the receiver's hooks on both sides"),
                       ("status", "the hooks on both sides and the queue's counts")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--merchant", help="one merchant (default: every configured merchant)")
        if name == "register":
            cmd.add_argument("--ensure", action="store_true",
                             help="only re-register what is missing or paused (the check for a schedule)")
            cmd.add_argument("--noecho", action="store_true",
                             help="ask Billbee to skip its echo test (when the receiver is not reachable yet)")
        if name == "status":
            cmd.add_argument("--json", action="store_true")
    return p


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env(env)
        queue = queue_from_env(env)
        if args.command == "serve":
            return serve(settings, queue)
        worst, reports = OK, []
        for merchant in _merchants(settings, args.merchant):
            if args.command == "register":
                code = register(settings, merchant, env, args.ensure, args.noecho)
            elif args.command == "unregister":
                code = unregister(settings, merchant)
            else:
                code, report = status(settings, merchant, queue, args.json)
                reports.append(report)
            worst = max(worst, code)
        if args.command == "status" and args.json:
            print(json.dumps(reports, indent=2, default=str))
        return worst
    except (SettingsError, ApiError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return FAILED
