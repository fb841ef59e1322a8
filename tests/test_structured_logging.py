"""Structured logging (logging/json.yml through SINGER_SDK_LOG_CONFIG): tap-billbee into target-wemalo against
the sandbox; every log line of both plugins is one JSON object, the connector's own lines carry their facts
as fields, and no secret or customer name is in them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sandbox.runner import ROOT, Sandbox, credentials

BIN = Path(sys.executable).parent


def test_every_line_is_json_with_the_connectors_fields(tmp_path: Path) -> None:
    with Sandbox(billbee_port=0, wemalo_port=0) as sandbox:
        demo = sandbox.control.load_demo(seed=11)
        env = {**sandbox.meltano_env(tmp_path), "SINGER_SDK_LOG_CONFIG": str(ROOT / "logging" / "json.yml")}
        tap = subprocess.Popen([BIN / "tap-billbee", "--config", "ENV"], env=env, stdout=subprocess.PIPE,
                               stderr=(tmp_path / "tap.log").open("w"))
        target = subprocess.run([BIN / "target-wemalo", "--config", "ENV"], env=env, stdin=tap.stdout,
                                capture_output=True, text=True, timeout=300, check=False)
        tap.stdout.close()
        assert tap.wait(timeout=60) == 0, (tmp_path / "tap.log").read_text()[-3000:]
        assert target.returncode == 0, target.stderr[-3000:]

    lines = {"tap-billbee": (tmp_path / "tap.log").read_text().splitlines(),
             "target-wemalo": target.stderr.splitlines()}
    events = {}
    for plugin, text in lines.items():
        assert text, plugin
        for line in text:
            try:
                events.setdefault(plugin, []).append(json.loads(line))
            except json.JSONDecodeError:
                raise AssertionError(f"{plugin}: not a JSON line: {line[:300]}") from None

    target_events = events["target-wemalo"]
    assert all({"level", "ts", "logger_name", "message", "extra"} <= set(e) for e in target_events)
    rejected = [e for e in target_events if e["extra"].get("outcome") == "rejected"]
    assert rejected, "the demo data has records wemalo refuses"
    assert all(e["extra"]["record_id"] and e["extra"]["reason"] and e["stream_name"] for e in rejected)
    summaries = {e["stream_name"]: e["extra"]["summary"] for e in target_events if "summary" in e["extra"]}
    assert summaries.get("products", {}).get("created"), summaries
    assert any(e["message"] == "METRIC" and e.get("metric_info") for e in events["tap-billbee"])
    assert any("progress" in e["extra"] and e["extra"]["progress"]["final"] for e in events["tap-billbee"])

    text = "\n".join(line for plugin_lines in lines.values() for line in plugin_lines)
    for name, secret in credentials().items():
        if name.endswith(("PASSWORD", "API_KEY", "TOKEN")):
            assert secret not in text, f"{name} in the logs"
    for order in demo["billbee"]["orders"]:
        last_name = (order.get("ShippingAddress") or {}).get("LastName")
        if last_name and len(last_name) > 3:
            assert last_name not in text, "customer name in the logs"
