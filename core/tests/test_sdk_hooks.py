"""billbee_wemalo.sdk.hooks: the singer-sdk internals the plugins rely on, pinned.

Each hook is checked twice: the SDK member it wraps still exists with the shape we call (a rename or a new
signature fails here, by name), and the hook still does its job in a tiny tap or target (a change of behaviour,
e.g. the SDK no longer calling `_write_state_message`, fails here too).
"""

from __future__ import annotations

import inspect
import io
import json
from collections.abc import Iterable
from contextlib import redirect_stdout
from typing import Any

from singer_sdk import Stream, Tap, Target
from singer_sdk import typing as th
from singer_sdk.helpers.types import Context
from singer_sdk.sinks import RecordSink, Sink

from billbee_wemalo.sdk.hooks import HeldBookmarkStream, OrderedTap, StateHookedTarget, advance_bookmark


def params(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_the_sdk_members_the_hooks_wrap_still_have_their_shape() -> None:
    assert params(Target._process_state_message) == ["self", "message_dict"]
    assert params(Target._write_state_message) == ["self", "state"]
    assert params(Stream._increment_stream_state) == ["self", "latest_record", "context"]
    context = inspect.signature(Stream._increment_stream_state).parameters["context"]
    assert context.kind is inspect.Parameter.KEYWORD_ONLY
    assert params(Tap.sync_all) == ["self"]
    target = _Target()
    assert target._latest_state is None  # StateHookedTarget.emit_state writes it when set
    assert params(Target.drain_all) == ["self", "is_endofpipe"]  # StateHookedTarget.emit_state(drain=True)
    assert isinstance(inspect.getattr_static(Tap, "streams"), property)


# -- a tiny tap ------------------------------------------------------------------------------------------
SYNCED: list[str] = []


class _Numbers(Stream):
    replication_key = "n"
    schema = th.PropertiesList(th.Property("n", th.IntegerType)).to_dict()

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        SYNCED.append(self.name)
        for n in (1, 2, 3):
            if n == 3:  # read, not emitted: only the hook moves the bookmark to it
                advance_bookmark(self, {"n": n}, context)
                continue
            yield {"n": n}


class _Zebra(_Numbers):
    name = "zebra"


class _Apple(_Numbers):
    name = "apple"


class _Tap(OrderedTap):
    name = "tap-hooks-test"
    config_jsonschema = th.PropertiesList().to_dict()
    stream_order = ("zebra", "apple")

    def discover_streams(self) -> list[Stream]:
        return [_Apple(self), _Zebra(self)]

    def before_sync(self) -> None:
        SYNCED.append("before")

    def after_sync(self) -> None:
        SYNCED.append("after")


def test_an_ordered_tap_syncs_in_its_order_between_its_steps_and_a_skipped_record_moves_the_bookmark() -> None:
    SYNCED.clear()
    tap = _Tap(config={})
    out = io.StringIO()
    with redirect_stdout(out):
        tap.sync_all()
    assert list(tap.streams) == ["zebra", "apple"]
    assert SYNCED == ["before", "zebra", "apple", "after"]
    states = [m["value"] for m in map(json.loads, out.getvalue().splitlines()) if m["type"] == "STATE"]
    assert states[-1]["bookmarks"]["zebra"]["replication_key_value"] == 3  # 3 was never emitted


class _Held(HeldBookmarkStream):
    name = "held"
    replication_key = "n"
    schema = th.PropertiesList(th.Property("n", th.IntegerType)).to_dict()

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        self.hold_bookmark = True
        yield from ({"n": n} for n in (5, 6))
        advance_bookmark(self, {"n": 7}, context)


class _HeldTap(OrderedTap):
    name = "tap-held-test"
    config_jsonschema = th.PropertiesList().to_dict()

    def discover_streams(self) -> list[Stream]:
        return [_Held(self)]


def test_a_held_bookmark_stays_where_the_state_had_it() -> None:
    state = {"bookmarks": {"held": {"replication_key": "n", "replication_key_value": 2}}}
    out = io.StringIO()
    with redirect_stdout(out):
        _HeldTap(config={}, state=state).sync_all()
    messages = list(map(json.loads, out.getvalue().splitlines()))
    assert [m["record"]["n"] for m in messages if m["type"] == "RECORD"] == [5, 6]
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    assert states[-1]["bookmarks"]["held"]["replication_key_value"] == 2


# -- a tiny target ---------------------------------------------------------------------------------------
class _Sink(RecordSink):
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        pass


class _Target(StateHookedTarget):
    name = "target-hooks-test"
    config_jsonschema = th.PropertiesList().to_dict()
    default_sink_class = _Sink

    def __init__(self) -> None:
        super().__init__(config={})
        self.seen: list[dict[str, Any]] = []
        self.sink_while_reading: Sink | None = None

    def incoming_state(self, state: dict[str, Any]) -> None:
        self.seen.append(state)
        self.sink_while_reading = self.active_sink("s")

    def outgoing_state(self, state: dict[str, Any]) -> dict[str, Any]:
        state["added_by_target"] = True
        return state


def test_a_state_hooked_target_sees_each_incoming_state_and_shapes_the_emitted_one() -> None:
    lines = [
        {"type": "SCHEMA", "stream": "s", "schema": {"properties": {"n": {"type": "integer"}}}, "key_properties": []},
        {"type": "RECORD", "stream": "s", "record": {"n": 1}},
        {"type": "STATE", "value": {"bookmarks": {"s": {"replication_key_value": 1}}}},
        {"type": "STATE", "value": {"bookmarks": {"s": {"replication_key_value": 2}}}},
    ]
    target = _Target()
    out = io.StringIO()
    with redirect_stdout(out):
        target.listen(io.StringIO("".join(json.dumps(line) + "\n" for line in lines)))
    assert [s["bookmarks"]["s"]["replication_key_value"] for s in target.seen] == [1, 2]
    assert isinstance(target.sink_while_reading, _Sink)
    emitted = [json.loads(line) for line in out.getvalue().splitlines()]
    assert emitted[-1] == {"bookmarks": {"s": {"replication_key_value": 2}}, "added_by_target": True}
    assert "added_by_target" not in target.seen[-1]  # the hook got a copy, not the SDK's own state


def test_emit_state_writes_the_latest_state_through_the_hook() -> None:
    lines = [{"type": "STATE", "value": {"bookmarks": {"s": {"replication_key_value": 3}}}}]
    target = _Target()
    out = io.StringIO()
    with redirect_stdout(out):
        target.emit_state()  # nothing yet: nothing written
        target.listen(io.StringIO("".join(json.dumps(line) + "\n" for line in lines)))
        target.emit_state()
    emitted = [json.loads(line) for line in out.getvalue().splitlines()]
    assert emitted[-1] == {"bookmarks": {"s": {"replication_key_value": 3}}, "added_by_target": True}
    assert len(emitted) == 2  # the one after the input, the one asked for


class _CheckpointSink(RecordSink):
    def __init__(self, target: Target, stream_name: str, schema: dict[str, Any],
                 key_properties: list[str] | None) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        assert isinstance(target, StateHookedTarget)
        self.hooked = target

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        if record.get("checkpoint"):
            self.hooked.emit_state(drain=True)


class _CheckpointTarget(_Target):
    default_sink_class = _CheckpointSink


def test_a_state_hooked_target_emits_its_state_on_demand_in_the_middle_of_a_stream() -> None:
    """emit_state(drain=True) (the return announcements' checkpoint) drains the sinks and writes the state at
    once, from inside a sink, before the stream ends."""
    lines = [
        {"type": "STATE", "value": {"bookmarks": {"s": {"replication_key_value": 0}}}},
        {"type": "SCHEMA", "stream": "s", "schema": {"properties": {"n": {"type": "integer"}}}, "key_properties": []},
        {"type": "RECORD", "stream": "s", "record": {"n": 1, "checkpoint": True}},
        {"type": "RECORD", "stream": "s", "record": {"n": 2}},
    ]
    target = _CheckpointTarget()
    out = io.StringIO()
    with redirect_stdout(out):
        target.listen(io.StringIO("".join(json.dumps(line) + "\n" for line in lines)))
    emitted = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(emitted) >= 2  # the checkpoint's and the last
    assert emitted[0] == {"bookmarks": {"s": {"replication_key_value": 0}}, "added_by_target": True}
