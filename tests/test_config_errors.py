"""Config errors fail fast, before any request, with a line naming the setting (issue: reliability)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BILLBEE = {"username": "merchant@example.com", "password": "Sandbox-Api-Passw0rd", "api_key": "sandbox-api-key"}
CASES = [
    ("tap-billbee", {k: v for k, v in BILLBEE.items() if k != "password"}, "'password' is a required property"),
    ("tap-billbee", {**BILLBEE, "order_state_ids": "3"}, "config['order_state_ids']"),
    ("tap-billbee", {**BILLBEE, "api_url": "http://billbee.example.com/api/v1"}, "config['api_url']"),
    ("target-billbee", {**BILLBEE, "storage_location_id": "Lager 2"}, "config['storage_location_id']"),
    ("target-wemalo", {}, "'token' is a required property"),
    ("tap-wemalo-shipments", {"token": "t", "api_url": "ftp://wemalo"}, "config['api_url']"),
]


@pytest.mark.parametrize(("plugin", "config", "message"), CASES)
def test_config_error_names_the_setting(tmp_path: Path, plugin: str, config: dict, message: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    executable = Path(sys.executable).with_name(plugin)
    result = subprocess.run([str(executable), "--config", str(path)], input="", capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert any(message in line for line in errors), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "Sandbox-Api-Passw0rd" not in result.stderr + result.stdout
