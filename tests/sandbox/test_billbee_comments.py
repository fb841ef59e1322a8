"""Order messages in Order.Comments (docs/api-contract.md, "Billbee: order messages"): a message added with
``POST /orders/{id}/message`` is listed in the order's ``Comments`` as a CommentApiModel (setting
``messages_in_comments``, literal default) or not at all (false, the lenient profile); the single order, the order
list and ``findbyextref`` show the same ``Comments``. Field by field against the vendor's CommentApiModel when
Billbee's Swagger file is present."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from sandbox.billbee import DEFAULT_SETTINGS, create_app
from sandbox.billbee.settings import PROFILES
from sandbox.billbee.store.model import COMMENT_FIELDS, COMMENT_ID_BASE
from tests.sandbox.billbee_client import API, AUTH, ORDER_BASE

VENDOR_SPEC = Path(__file__).resolve().parents[2].parent / "shared/reference/vendor/billbee-openapi.yaml"
COMMENT_MODEL = "Billbee.Interfaces.BillbeeAPI.Model.CommentApiModel"
ORDER_MODEL = "Billbee.Interfaces.BillbeeAPI.Model.Order"
MESSAGE_MODEL = "Rechnungsdruck.WebApp.Model.Api.OrderMessageModel"
NAIVE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?$")  # the order's timestamps: no offset
NOW = "2026-12-01T12:00:00.123"
SCENARIO_COMMENT = {"Id": COMMENT_ID_BASE + 5, "FromCustomer": True, "Text": "Bitte klingeln", "Name": "Jürgen Groß",
                    "Created": "2026-11-02T09:05:00"}


@pytest.fixture(scope="module")
def vendor() -> dict[str, Any]:
    if not VENDOR_SPEC.is_file():
        pytest.skip(f"vendor spec absent: {VENDOR_SPEC} (Billbee's Swagger file is kept outside the repo); "
                    "the field-by-field check of CommentApiModel needs it")
    return yaml.safe_load(VENDOR_SPEC.read_text(encoding="utf-8"))


def order(n: int, **fields: Any) -> dict[str, Any]:
    base = {"BillBeeOrderId": ORDER_BASE + n, "OrderNumber": f"#50{n:02d}", "State": 3, "Tags": ["wemalo"],
            "CreatedAt": f"2026-11-{n + 1:02d}T09:00:00", "LastModifiedAt": f"2026-11-{n + 1:02d}T10:00:00",
            "OrderItems": [{"Product": {"SKU": "A-1"}, "Quantity": 1, "TotalPrice": 19.95}]}
    return {**base, **fields}


def make(orders: list[dict[str, Any]], **settings: Any) -> FlaskClient:
    client = create_app(throttle=False, **settings).test_client()
    resp = client.post("/_admin/scenario", json={"orders": orders})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert client.post("/_admin/clock", json={"now": NOW}).status_code == 200
    return client


def message(client: FlaskClient, n: int, text: str, sender: str | None = "wemalo-connector",
            internal: bool | None = True) -> None:
    body: dict[str, Any] = {"Text": text}
    if sender is not None:
        body["SenderName"] = sender
    if internal is not None:
        body["IsInternal"] = internal
    resp = client.post(f"{API}/orders/{ORDER_BASE + n}/message", json=body, headers=AUTH)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["ErrorCode"] == 0


def single(client: FlaskClient, n: int) -> dict[str, Any]:
    resp = client.get(f"{API}/orders/{ORDER_BASE + n}", headers=AUTH)
    assert resp.status_code == 200
    return resp.get_json()["Data"]


def listed(client: FlaskClient, **query: Any) -> dict[int, dict[str, Any]]:
    resp = client.get(f"{API}/orders", query_string={"pageSize": 250, **query}, headers=AUTH)
    assert resp.status_code == 200
    return {o["BillBeeOrderId"] - ORDER_BASE: o for o in resp.get_json()["Data"]}


def by_extref(client: FlaskClient, n: int) -> dict[str, Any]:
    resp = client.get(f"{API}/orders/findbyextref/%2350{n:02d}", headers=AUTH)
    assert resp.status_code == 200
    return resp.get_json()["Data"]


def assert_reads_agree(client: FlaskClient, n: int) -> list[dict[str, Any]]:
    """Single order, list (unfiltered and by modification time) and findbyextref show the same Comments."""
    comments = single(client, n)["Comments"]
    assert listed(client)[n]["Comments"] == comments
    assert listed(client, modifiedAtMin="2026-11-30T00:00:00")[n]["Comments"] == comments
    assert by_extref(client, n)["Comments"] == comments
    return comments


# -- the vendor's definitions ------------------------------------------------------------------------------------


def test_simulator_comment_fields_are_the_vendor_comment_api_model(vendor: dict[str, Any]) -> None:
    definitions = vendor["definitions"]
    comments = definitions[ORDER_MODEL]["properties"]["Comments"]
    assert comments["type"] == "array"
    assert comments["items"]["$ref"].split("/")[-1] == COMMENT_MODEL
    assert comments["description"] == "All messages / comments of the order"
    assert tuple(definitions[COMMENT_MODEL]["properties"]) == COMMENT_FIELDS
    assert set(definitions[MESSAGE_MODEL]["properties"]) == {"IsInternal", "SenderName", "Text"}


def _check_against_vendor(vendor: dict[str, Any], comment: dict[str, Any]) -> None:
    """`comment` (as the JSON answer gave it) has exactly CommentApiModel's properties, each of its type."""
    properties = vendor["definitions"][COMMENT_MODEL]["properties"]
    assert set(comment) == set(properties)
    for name, prop in properties.items():
        value = comment[name]
        if value is None:
            continue
        kind, fmt = prop.get("type"), prop.get("format")
        if kind == "integer":
            assert isinstance(value, int), name
            assert not isinstance(value, bool), name
            if fmt == "int64":
                assert -(2**63) <= value < 2**63, name
        elif kind == "boolean":
            assert isinstance(value, bool), name
        elif kind == "string" and fmt == "date-time":
            assert isinstance(value, str), name
            assert NAIVE_TIME.match(value), (name, value)
        elif kind == "string":
            assert isinstance(value, str), name
        else:
            raise AssertionError(f"{name}: vendor type {kind!r} not checked here")


# -- literal reading: listed ---------------------------------------------------------------------------------


def test_the_literal_default_lists_an_api_message_in_comments(vendor: dict[str, Any]) -> None:
    assert DEFAULT_SETTINGS["messages_in_comments"] is True
    client = make([order(1), order(2)])
    assert single(client, 1)["Comments"] == []
    message(client, 1, "An wemalo übergeben", sender="wemalo-connector", internal=True)
    data = single(client, 1)
    comments = data["Comments"]
    assert len(comments) == 1
    comment = comments[0]
    _check_against_vendor(vendor, comment)
    assert comment["Text"] == "An wemalo übergeben"  # OrderMessageModel.Text
    assert comment["Name"] == "wemalo-connector"  # OrderMessageModel.SenderName
    assert comment["FromCustomer"] is False  # written by the API partner, not the customer
    assert comment["Created"] == NOW  # the simulator's clock, in the format of the order's other timestamps
    assert data["LastModifiedAt"] == NOW  # the message is the order's last update
    assert comment["Id"] >= COMMENT_ID_BASE
    assert "IsInternal" not in comment  # not a field of CommentApiModel
    assert "SenderName" not in comment
    assert single(client, 2)["Comments"] == []  # another order's Comments are untouched
    assert assert_reads_agree(client, 1) == comments


def test_every_message_gets_its_own_id_internal_ones_included_in_time_order(vendor: dict[str, Any]) -> None:
    client = make([order(1, Comments=[SCENARIO_COMMENT]), order(2)])
    message(client, 1, "intern", internal=True)
    client.post("/_admin/clock", json={"advance_seconds": 60})
    message(client, 2, "andere Bestellung", sender="Lager")
    message(client, 1, "öffentlich", sender=None, internal=False)
    message(client, 1, "ohne IsInternal", internal=None)
    comments = assert_reads_agree(client, 1)
    for comment in comments:
        _check_against_vendor(vendor, comment)
    assert [c["Text"] for c in comments] == ["Bitte klingeln", "intern", "öffentlich", "ohne IsInternal"]
    assert comments[0] == SCENARIO_COMMENT  # the scenario's comment as it was given
    assert [c["FromCustomer"] for c in comments] == [True, False, False, False]
    assert comments[2]["Name"] is None  # no SenderName sent: no Name
    assert [c["Created"] for c in comments[1:]] == [NOW, "2026-12-01T12:01:00.123", "2026-12-01T12:01:00.123"]
    other = assert_reads_agree(client, 2)
    all_ids = [c["Id"] for c in comments + other]
    assert len(set(all_ids)) == len(all_ids) == 5  # new ids, none equal to the scenario's
    assert all(i > SCENARIO_COMMENT["Id"] for i in all_ids if i != SCENARIO_COMMENT["Id"])


def test_comments_in_the_raw_json_are_typed_as_the_model() -> None:
    client = make([order(1)])
    message(client, 1, "An wemalo übergeben")
    text = client.get(f"{API}/orders/{ORDER_BASE + 1}", headers=AUTH).get_data(as_text=True)
    found = re.search(r'"Comments":\[\{"Id":(\d+),"FromCustomer":false,"Text":"An wemalo übergeben",'
                      r'"Name":"wemalo-connector","Created":"([^"]+)"\}\]', text)
    assert found, text
    assert found.group(2) == NOW


def test_admin_edits_and_deletion_keep_comments_consistent() -> None:
    client = make([order(1), order(2)])
    message(client, 1, "An wemalo übergeben")
    before = single(client, 1)["Comments"]
    patched = client.patch(f"/_admin/orders/{ORDER_BASE + 1}", json={"State": 4})
    assert patched.status_code == 200
    assert assert_reads_agree(client, 1) == before  # re-normalised by the edit, listed once, not twice
    client.patch(f"/_admin/orders/{ORDER_BASE + 1}", json={"Comments": [SCENARIO_COMMENT]})
    assert [c["Text"] for c in assert_reads_agree(client, 1)] == ["Bitte klingeln", "An wemalo übergeben"]
    assert client.delete(f"/_admin/orders/{ORDER_BASE + 1}").status_code == 200
    client.post("/_admin/orders", json={"orders": [order(1)]})
    assert single(client, 1)["Comments"] == []  # a new order under the same id starts without messages


def test_the_admin_message_list_is_unchanged() -> None:
    for value in (True, False):
        client = make([order(1)], messages_in_comments=value)
        message(client, 1, "An wemalo übergeben", sender="wemalo-connector", internal=True)
        stored = client.get("/_admin/state").get_json()["messages"][str(ORDER_BASE + 1)]
        assert stored == [{"Created": NOW, "IsInternal": True, "SenderName": "wemalo-connector",
                           "Text": "An wemalo übergeben"}]


# -- the other reading: not listed -----------------------------------------------------------------------------


def test_the_other_reading_keeps_api_messages_out_of_comments() -> None:
    client = make([order(1, Comments=[SCENARIO_COMMENT])], messages_in_comments=False)
    message(client, 1, "An wemalo übergeben")
    data = single(client, 1)
    assert data["Comments"] == [SCENARIO_COMMENT]  # the order's own comments stay
    assert data["LastModifiedAt"] == NOW  # the message is still written (and moves the order on)
    assert assert_reads_agree(client, 1) == [SCENARIO_COMMENT]


def test_the_lenient_profile_takes_the_other_reading_and_the_setting_applies_when_read() -> None:
    assert PROFILES["lenient"]["messages_in_comments"] is False
    assert "messages_in_comments" not in PROFILES["literal"]
    client = make([order(1)])
    message(client, 1, "An wemalo übergeben")
    assert len(single(client, 1)["Comments"]) == 1
    assert client.post("/_admin/profile", json={"name": "lenient"}).status_code == 200
    assert client.get("/_admin/settings").get_json()["messages_in_comments"] is False
    client.post("/_admin/settings", json={"throttle": False})  # a profile brings the throttles back
    assert assert_reads_agree(client, 1) == []
    assert client.post("/_admin/profile", json={"name": "literal"}).status_code == 200
    client.post("/_admin/settings", json={"throttle": False})
    assert [c["Text"] for c in assert_reads_agree(client, 1)] == ["An wemalo übergeben"]
