"""The settings the plugins have in common, declared once, and the API clients built from them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from singer_sdk import typing as th

from billbee_wemalo import billbee, wemalo
from billbee_wemalo.dry_run import PlannedWrites
from billbee_wemalo.http import API_URL_PATTERN, RetryPolicy

LOOPBACK_NOTE = "https only, except on loopback (the sandbox)."


def billbee_account() -> list[th.Property[Any]]:
    """The Billbee API account: tap-billbee and target-billbee."""
    return [
        th.Property("api_url", th.StringType(pattern=API_URL_PATTERN), default=billbee.DEFAULT_API_URL,
                    title="API URL", description=f"Billbee API base URL. {LOOPBACK_NOTE}"),
        th.Property("username", th.StringType, required=True, title="Billbee user name",
                    description="The Billbee login (usually the e-mail address)."),
        th.Property("password", th.StringType, required=True, secret=True, title="API password",
                    description="The Billbee API password (Einstellungen > Billbee API), not the login password."),
        th.Property("api_key", th.StringType, required=True, secret=True, title="API key",
                    description="The X-Billbee-Api-Key of this integration."),
    ]


def wemalo_account() -> list[th.Property[Any]]:
    """The wemalo-connect account: target-wemalo and tap-wemalo-shipments."""
    return [
        th.Property("api_url", th.StringType(pattern=API_URL_PATTERN), default=wemalo.DEFAULT_API_URL,
                    title="API URL", description=f"wemalo-connect base URL. {LOOPBACK_NOTE}"),
        th.Property("token", th.StringType, required=True, secret=True, title="API token",
                    description="The wemalo-connect token (sent as `Authorization: JWT <token>`)."),
    ]


def http_settings() -> list[th.Property[Any]]:
    return [
        th.Property("request_timeout", th.NumberType, default=60, title="Request timeout (s)"),
        th.Property("max_attempts", th.IntegerType, default=8, title="Attempts per request",
                    description="Tries per request on throttling, 5xx and network errors."),
    ]


def report_setting(what: str = "") -> th.Property[Any]:
    return th.Property("report_dir", th.StringType, title="Report folder",
                       description=f"Write a JSON summary of each run{what} into this folder.")


def dry_run_setting(system: str) -> th.Property[Any]:
    return th.Property("dry_run", th.BooleanType, default=False, title="Dry run",
                       description=f"Compute and report everything, write nothing to {system} (the run report "
                                   "lists the writes it would have made).")


def _http(config: Mapping[str, Any]) -> dict[str, Any]:
    return {"timeout": float(config.get("request_timeout", 60)),
            "retry": RetryPolicy(max_attempts=int(config.get("max_attempts", 8)))}


def billbee_client(config: Mapping[str, Any], logger: logging.Logger,
                   planned: PlannedWrites | None = None) -> billbee.BillbeeClient:
    """The Billbee client of a run; in a dry run (`planned` given) one that records its writes instead."""
    account = {"api_url": config["api_url"], "username": config["username"], "password": config["password"],
               "api_key": config["api_key"], "logger": logger, **_http(config)}
    if planned is not None:
        return billbee.DryRunBillbeeClient(planned=planned, **account)
    return billbee.BillbeeClient(**account)


def wemalo_client(config: Mapping[str, Any], logger: logging.Logger,
                  planned: PlannedWrites | None = None) -> wemalo.WemaloClient:
    """The wemalo client of a run; in a dry run (`planned` given) one that records its writes instead."""
    account = {"api_url": config["api_url"], "token": config["token"], "logger": logger, **_http(config)}
    if planned is not None:
        return wemalo.DryRunWemaloClient(planned=planned, **account)
    return wemalo.WemaloClient(**account)
