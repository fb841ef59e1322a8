"""`billbee-wemalo-reconcile`: compare Billbee and wemalo, list what needs attention.

Exit codes: 0 nothing needs attention, 1 something does (listed), 2 the check could not run (bad setting,
refused credentials, an API unreachable); the reason is one line on stderr.

Settings come from the environment variables the plugins use (so the `.env` of a Meltano project works as
it is) or from flags, which win: TAP_BILLBEE_API_URL, TAP_BILLBEE_USERNAME, TAP_BILLBEE_PASSWORD,
TAP_BILLBEE_API_KEY, TAP_BILLBEE_ORDERS_TAG, TAP_BILLBEE_ORDER_STATE_IDS, TAP_BILLBEE_BILLBEE_TIMEZONE,
TARGET_WEMALO_API_URL, TARGET_WEMALO_TOKEN (else TAP_WEMALO_SHIPMENTS_API_URL / _TOKEN),
TAP_WEMALO_SHIPMENTS_WEMALO_TIMEZONE.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from billbee_wemalo.billbee import DEFAULT_API_URL as BILLBEE_API_URL
from billbee_wemalo.billbee import BillbeeClient
from billbee_wemalo.http import ApiError, RetryPolicy
from billbee_wemalo.wemalo import DEFAULT_API_URL as WEMALO_API_URL
from billbee_wemalo.wemalo import WemaloClient
from billbee_wemalo_reconcile.checks import Finding, Result
from billbee_wemalo_reconcile.collect import Options, reconcile

OK, ATTENTION, FAILED = 0, 1, 2


def _env(env: Mapping[str, str], *names: str, default: str = "") -> str:
    return next((env[n] for n in names if env.get(n)), default)


def _state_ids(value: str) -> list[int]:
    """`[3]`, `3,1` or `3` (Meltano passes array settings as JSON)."""
    value = value.strip()
    items = json.loads(value) if value.startswith("[") else [v for v in value.split(",") if v.strip()]
    return [int(v) for v in items]


def parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="billbee-wemalo-reconcile",
        description="Compare Billbee and wemalo: paid, tagged orders missing in wemalo, parcels missing on the "
                    "Billbee order, Billbee articles not in wemalo (with the reason). Reads only. Exit code 0: "
                    "all fine, 1: something needs attention, 2: the check could not run.")
    p.add_argument("--older-than-hours", type=float,
                   default=_env(env, "BILLBEE_WEMALO_RECONCILE_OLDER_THAN_HOURS", default="2"),
                   help="report orders paid and parcels handed over at least this long ago (default 2: the "
                        "hourly sync had its chance)")
    p.add_argument("--parcel-days", type=float, default=7.0,
                   help="how far back to look for parcels wemalo handed over (default 7)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--returns", action="store_true",
                   default=_env(env, "TAP_WEMALO_SHIPMENTS_SYNC_RETURNS").lower() in ("1", "true", "yes"),
                   help="also list returns booked in wemalo and not synchronised with Billbee (default: the "
                        "tap's sync_returns setting, TAP_WEMALO_SHIPMENTS_SYNC_RETURNS)")
    g = p.add_argument_group("Billbee (default: the TAP_BILLBEE_* environment variables)")
    g.add_argument("--billbee-api-url", default=_env(env, "TAP_BILLBEE_API_URL", default=BILLBEE_API_URL))
    g.add_argument("--billbee-username", default=_env(env, "TAP_BILLBEE_USERNAME", "TARGET_BILLBEE_USERNAME"))
    g.add_argument("--billbee-password", default=_env(env, "TAP_BILLBEE_PASSWORD", "TARGET_BILLBEE_PASSWORD"),
                   help="prefer the environment variable: flags are visible to other users of the machine")
    g.add_argument("--billbee-api-key", default=_env(env, "TAP_BILLBEE_API_KEY", "TARGET_BILLBEE_API_KEY"))
    g.add_argument("--orders-tag", default=_env(env, "TAP_BILLBEE_ORDERS_TAG", default="wemalo"))
    g.add_argument("--order-state-ids", default=_env(env, "TAP_BILLBEE_ORDER_STATE_IDS", default="[3]"),
                   help="Billbee states of orders that must be in wemalo, e.g. 3 or 3,13 (default 3 = paid)")
    g.add_argument("--billbee-timezone", default=_env(env, "TAP_BILLBEE_BILLBEE_TIMEZONE", default="UTC"))
    g = p.add_argument_group("wemalo (default: the TARGET_WEMALO_* environment variables)")
    g.add_argument("--wemalo-api-url", default=_env(env, "TARGET_WEMALO_API_URL", "TAP_WEMALO_SHIPMENTS_API_URL",
                                                    default=WEMALO_API_URL))
    g.add_argument("--wemalo-token", default=_env(env, "TARGET_WEMALO_TOKEN", "TAP_WEMALO_SHIPMENTS_TOKEN"))
    g.add_argument("--wemalo-timezone", default=_env(env, "TAP_WEMALO_SHIPMENTS_WEMALO_TIMEZONE",
                                                     default="Europe/Berlin"))
    return p


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    args = parser(env).parse_args(argv)
    if not args.orders_tag.strip():
        print("billbee-wemalo-reconcile: orders_tag is empty (plain ELT): there is nothing to reconcile",
              file=sys.stderr)
        return FAILED
    try:
        options = Options(orders_tag=args.orders_tag.strip(),
                          order_state_ids=tuple(_state_ids(args.order_state_ids)),
                          older_than=timedelta(hours=args.older_than_hours), parcel_days=args.parcel_days,
                          returns=args.returns,
                          billbee_zone=ZoneInfo(args.billbee_timezone), wemalo_zone=ZoneInfo(args.wemalo_timezone))
        retry = RetryPolicy(max_attempts=4)
        billbee = BillbeeClient(api_url=args.billbee_api_url, username=args.billbee_username,
                                password=args.billbee_password, api_key=args.billbee_api_key, retry=retry)
        wemalo = WemaloClient(api_url=args.wemalo_api_url, token=args.wemalo_token, retry=retry)
        try:
            result = reconcile(billbee, wemalo, options)
        finally:
            billbee.close()
            wemalo.close()
    except (ApiError, ZoneInfoNotFoundError, ValueError) as exc:
        print(f"billbee-wemalo-reconcile: {exc}", file=sys.stderr)
        return FAILED
    print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False, default=str) if args.json
          else render(result, options))
    return OK if result.ok else ATTENTION


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g} h"


def _lines(findings: list[Finding], label: Any) -> list[str]:
    return [f"  - {label(f.key)}: {f.reason}" + ("" if f.attention else "  [as designed]") for f in findings]


def render(result: Result, options: Options) -> str:
    c = result.counts
    age = _hours(result.older_than)
    out = [f"Billbee ⇄ wemalo reconciliation at {result.checked_at:%Y-%m-%d %H:%M} UTC "
           f"(orders and parcels older than {age})", ""]
    out.append(f"Orders in state {', '.join(map(str, options.order_state_ids))} tagged {options.orders_tag!r} "
               f"in Billbee but not in wemalo: {len(result.orders)}")
    out += _lines(result.orders, lambda k: f"order {k.get('order_number') or '?'} (Billbee id {k['order_id']})")
    out.append(f"Orders wemalo holds (for their address, blocked after packing): {len(result.held)}")
    out += _lines(result.held, lambda k: f"order {k.get('order_number') or '?'} (Billbee id {k['order_id']}, "
                                         f"wemalo {k.get('wemalo_status')})")
    out.append(f"Parcels handed over in wemalo but missing on the Billbee order: {len(result.parcels)}")
    out += _lines(result.parcels, lambda k: f"{k['tracking_number']} of order {k.get('order_number') or '?'} "
                                            f"(Billbee id {k['order_id']})")
    if options.returns:
        out.append(f"Returns booked in wemalo but not synchronised with Billbee: {len(result.returns)}")
        out += _lines(result.returns, lambda k: f"bookings {', '.join(k['booking_ids'])} of order "
                                                f"{k.get('order_number') or k.get('order_id') or '(none)'}")
    info = sum(not f.attention for f in result.articles)
    out.append(f"Billbee articles not in wemalo: {len(result.articles) - info}"
               + (f" (and {info} bundles, as designed)" if info else ""))
    out += _lines(result.articles, lambda k: f"{k.get('sku') or '(no SKU)'} (Billbee id {k['article_id']})")
    out += ["", f"Checked {c.get('orders', 0)} orders ({c.get('orders_too_recent', 0)} missing but younger than "
                f"{age}), {c.get('parcels', 0)} parcels ({c.get('parcels_too_recent', 0)} missing but younger "
                f"than {age}), {c.get('articles', 0)} articles, {c.get('returns_booked', 0)} unsynchronised return "
                f"bookings ({c.get('returns_too_recent', 0)} younger than {age})."]
    out.append("Nothing needs attention." if result.ok else f"{result.attention} item(s) need attention.")
    return "\n".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
