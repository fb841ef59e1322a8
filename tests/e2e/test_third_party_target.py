"""tap-billbee with a standard third-party target, configured with nothing but its credentials (a data
engineer's pipeline): its defaults are plain ELT (every order of every state, nothing written to Billbee) into
`target-jsonl` from PyPI, piped by hand as any Singer runner would."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.runner import Sandbox
from tests.conftest import MeltanoProject

pytestmark = pytest.mark.e2e

# The Meltano Hub's default target-jsonl variant (andyh1203; `pip_url: target-jsonl`). It validates every
# record against the stream's schema with its own (old) jsonschema, so it also checks the schemas.
TARGET = "target-jsonl==0.1.4"


@pytest.fixture(scope="session")
def target_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The target in a throw-away virtualenv of its own (once per session), never in the project's venvs."""
    venv = tmp_path_factory.mktemp("target-jsonl-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    result = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                             TARGET], capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, f"pip install {TARGET} failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
    return venv / "bin" / "target-jsonl"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def tap_config(sandbox: Sandbox, env: dict[str, str]) -> dict[str, Any]:
    return {
        "api_url": f"{sandbox.billbee_url}/api/v1",
        "username": env["TAP_BILLBEE_USERNAME"],
        "password": env["TAP_BILLBEE_PASSWORD"],
        "api_key": env["TAP_BILLBEE_API_KEY"],
    }  # nothing else: the defaults must extract everything and write nothing


def select(catalog: dict[str, Any], streams: set[str]) -> Iterator[str]:
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] in streams
        yield stream["tap_stream_id"]


def test_tap_billbee_into_target_jsonl(project: MeltanoProject, target_jsonl: Path, tmp_path: Path) -> None:
    control = project.sandbox.control
    demo = control.load_demo()["billbee"]
    tap = Path(sys.executable).with_name("tap-billbee")
    config = tmp_path / "tap.json"
    config.write_text(json.dumps(tap_config(project.sandbox, project.env)))
    discovered = subprocess.run([str(tap), "--config", str(config), "--discover"], capture_output=True, text=True,
                                check=True, timeout=120)
    catalog = json.loads(discovered.stdout)
    assert set(select(catalog, {"products", "orders"})) == {"products", "orders", "return_requests", "stocks",
                                                            "shipping_providers"}
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "target.json").write_text(json.dumps({"destination_path": str(out), "do_timestamp_file": False}))

    with (tmp_path / "tap.log").open("w") as tap_log:
        producer = subprocess.Popen([str(tap), "--config", str(config), "--catalog", str(tmp_path / "catalog.json")],
                                    stdout=subprocess.PIPE, stderr=tap_log)
        assert producer.stdout is not None
        consumer = subprocess.run([str(target_jsonl), "--config", str(tmp_path / "target.json")],
                                  stdin=producer.stdout, capture_output=True, text=True, timeout=300, check=False)
        producer.stdout.close()
        assert producer.wait(timeout=60) == 0, (tmp_path / "tap.log").read_text()[-3000:]
    assert consumer.returncode == 0, consumer.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["orders.jsonl", "products.jsonl"]

    # Products: every article, bundles included, with nested fields intact.
    products = {p["Id"]: p for p in read_jsonl(out / "products.jsonl")}
    assert sorted(products) == sorted(p["Id"] for p in demo["products"])
    for article in demo["products"]:
        assert products[article["Id"]]["SKU"] == article["SKU"]
        assert products[article["Id"]]["Title"][0]["Text"] == article["Title"][0]["Text"]
        if article["Type"] == 2:
            assert [c["SKU"] for c in products[article["Id"]]["BillOfMaterial"]] == \
                [c["SKU"] for c in article["BillOfMaterial"]]

    # Orders: every order of every state, once, with addresses, lines and the tap's bundle expansion.
    orders = read_jsonl(out / "orders.jsonl")
    assert len(orders) == len(demo["orders"])
    by_id = {o["BillBeeOrderId"]: o for o in orders}
    assert sorted(by_id) == sorted(o["BillBeeOrderId"] for o in demo["orders"])
    for order in demo["orders"]:
        got = by_id[order["BillBeeOrderId"]]
        assert got["State"] == order["State"]
        assert got["ShippingAddress"]["City"] == order["ShippingAddress"]["City"]
        assert [i["Product"].get("SKU") for i in got["OrderItems"]] == \
            [i["Product"].get("SKU") for i in order["OrderItems"]]
        assert got["LastModifiedAt"].endswith("+00:00")  # Billbee's naive times, made explicit (UTC)
    bundle_lines = [i for o in orders for i in o["OrderItems"] if i["Product"].get("Type") == 2]
    assert bundle_lines
    assert all(i["BundleComponents"] for i in bundle_lines)

    # The target's last line is the state it was given: the tap's orders bookmark.
    state = json.loads(consumer.stdout.strip().splitlines()[-1])
    assert state["bookmarks"]["orders"]["replication_key"] == "LastModifiedAt"

    # Plain ELT reads only.
    assert [r for r in control.requests("billbee") if r["method"] != "GET"] == []
    assert control.violations()["billbee"] == []
