"""A merchant's Billbee and wemalo clients, from the variables the plugins read (TAP_BILLBEE_*, else
TARGET_BILLBEE_*; TARGET_WEMALO_*, else TAP_WEMALO_SHIPMENTS_*). The API URLs may be set for this utility alone
(billbee_api_url, wemalo_api_url), so that nothing it sets reaches the jobs it starts."""

from __future__ import annotations

from collections.abc import Mapping

from billbee_wemalo.billbee import DEFAULT_API_URL as BILLBEE_API_URL
from billbee_wemalo.billbee import BillbeeClient
from billbee_wemalo.http import RetryPolicy
from billbee_wemalo.wemalo import DEFAULT_API_URL as WEMALO_API_URL
from billbee_wemalo.wemalo import WemaloClient

RETRY = RetryPolicy(max_attempts=4)


def _env(env: Mapping[str, str], *names: str, default: str = "") -> str:
    return next((env[n] for n in names if env.get(n)), default)


def billbee_client(env: Mapping[str, str]) -> BillbeeClient:
    return BillbeeClient(
        api_url=_env(env, "BILLBEE_WEMALO_EVENTS_BILLBEE_API_URL", "TAP_BILLBEE_API_URL", "TARGET_BILLBEE_API_URL",
                     default=BILLBEE_API_URL),
        username=_env(env, "TAP_BILLBEE_USERNAME", "TARGET_BILLBEE_USERNAME"),
        password=_env(env, "TAP_BILLBEE_PASSWORD", "TARGET_BILLBEE_PASSWORD"),
        api_key=_env(env, "TAP_BILLBEE_API_KEY", "TARGET_BILLBEE_API_KEY"), retry=RETRY, timeout=30)


def wemalo_client(env: Mapping[str, str]) -> WemaloClient:
    return WemaloClient(
        api_url=_env(env, "BILLBEE_WEMALO_EVENTS_WEMALO_API_URL", "TARGET_WEMALO_API_URL",
                     "TAP_WEMALO_SHIPMENTS_API_URL", default=WEMALO_API_URL),
        token=_env(env, "TARGET_WEMALO_TOKEN", "TAP_WEMALO_SHIPMENTS_TOKEN"), retry=RETRY, timeout=30)
