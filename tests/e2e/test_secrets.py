"""Secrets never leave: a full sync at debug log level, then everything written is scanned.

Scanned: Meltano's and the plugins' output (debug level), the stored Singer state, the run reports, and the
simulators' request logs. Looked for: the Billbee API password, the API key, the wemalo token, and the HTTP
Basic credentials in their base64 form. At INFO and above the logs carry ids, never customer names,
streets or e-mail addresses.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from tests.conftest import MeltanoProject

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def sandbox_secrets() -> dict[str, str]:
    values = dict(line.split("=", 1) for line in (ROOT / "sandbox" / "sandbox.env").read_text().splitlines()
                  if line.strip() and not line.startswith("#"))
    basic = f"{values['TAP_BILLBEE_USERNAME']}:{values['TAP_BILLBEE_PASSWORD']}".encode()
    return {
        "Billbee API password": values["TAP_BILLBEE_PASSWORD"],
        "Billbee API key": values["TAP_BILLBEE_API_KEY"],
        "wemalo token": values["TARGET_WEMALO_TOKEN"],
        "Basic credentials": base64.b64encode(basic).decode(),
    }


def test_no_secret_in_logs_state_reports_or_request_logs(project: MeltanoProject) -> None:
    control = project.sandbox.control
    demo = control.load_demo()
    first = project.run("--log-level=info", "run", "sync")  # the merchant's normal log level
    pending = project.run("state", "get", "dev:tap-billbee-to-target-wemalo").stdout  # holds pending_acks
    control.wemalo("POST", "/stock", {p["sku"]: 20 for p in control.wemalo_state()["products"]})
    control.advance("SHIPPED")
    second = project.run("--log-level=debug", "run", "sync")
    states = [project.run("state", "get", state_id).stdout for state_id in
              ("dev:tap-billbee-to-target-wemalo", "dev:tap-wemalo-shipments-to-target-billbee")]
    reports = [p.read_text() for p in (project.workdir / "reports").glob("*.json")]
    request_logs = [json.dumps(control.requests(system)) for system in ("billbee", "wemalo")]
    written = {
        "meltano output": first.stdout + first.stderr + second.stdout + second.stderr,
        "state": "\n".join([pending, *states]),
        "run reports": "\n".join(reports),
        "sandbox request logs": "\n".join(request_logs),
    }
    assert "[debug" in second.stderr + second.stdout  # the scan really covers debug output
    assert "pending_acks" in written["state"]
    for where, text in written.items():
        for name, secret in sandbox_secrets().items():
            assert secret not in text, f"{name} found in {where}"

    # At INFO and above: ids, not customer data. (Meltano itself echoes every Singer message, records
    # included, at --log-level=debug; that is Meltano's debug mode, so the first run is checked.)
    people = set()
    for order in demo["billbee"]["orders"]:
        for key in ("ShippingAddress", "InvoiceAddress"):
            address = order.get(key) or {}
            people |= {address.get(f) for f in ("LastName", "Street", "Email") if address.get(f)}
    lines = [line for line in (first.stdout + first.stderr).splitlines()
             if re.search(r"\[(info|warning|error|critical)\s*\]", line, re.I)]
    leaks = [(value, line) for line in lines for value in people if value in line]
    assert leaks == [], leaks[:3]
