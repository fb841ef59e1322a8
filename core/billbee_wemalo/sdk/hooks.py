"""The only places that use singer-sdk internals (private methods, or methods marked final), each because no
public hook does the job. core/tests/test_sdk_hooks.py pins each of them: a singer-sdk release that renames or
reshapes one fails there, not in a merchant's run.
"""

from __future__ import annotations

import copy
from typing import Any

from singer_sdk import Stream, Tap, Target
from singer_sdk.helpers.types import Context
from singer_sdk.sinks import Sink
from typing_extensions import override


class OrderedTap(Tap):
    """A tap whose streams sync in the order of `stream_order` (the SDK sorts them by name), with a step before
    and after all streams (`before_sync`, `after_sync`)."""

    stream_order: tuple[str, ...] = ()

    def before_sync(self) -> None:
        """Called once before the first stream syncs."""

    def after_sync(self) -> None:
        """Called once after the last stream synced (not after a failed one)."""

    @property
    @override
    def streams(self) -> dict[str, Stream]:
        # Public, but the SDK's own load_streams() (final) sorts by name; the mapping is reordered, not rebuilt.
        loaded = super().streams
        rank = {name: index for index, name in enumerate(self.stream_order)}
        return {name: loaded[name] for name in sorted(loaded, key=lambda n: rank.get(n, len(rank)))}

    # sync_all is final in singer-sdk and has no hook around it (the ignore: overriding a final method, on
    # purpose); CLI runs call it once per process.
    @override  # type: ignore[misc]
    def sync_all(self) -> None:
        self.before_sync()
        super().sync_all()
        self.after_sync()


def advance_bookmark(stream: Stream, record: dict[str, Any], context: Context | None) -> None:
    """Move the stream's bookmark to a record that is read but not emitted (the SDK does it only for emitted
    records; a stream that skips most of what it reads would re-read it every run)."""
    stream._increment_stream_state(record, context=context)


class HeldBookmarkStream(Stream):
    """A stream whose bookmark can be held where it is for a run (`hold_bookmark`): a run restricted to a few
    records (tap-billbee's `order_ids`) must not move the bookmark past records it never read. The SDK advances
    it for every emitted record in `_increment_stream_state` (private), with no public switch."""

    hold_bookmark: bool = False

    @override
    def _increment_stream_state(self, latest_record: dict[str, Any], *, context: Context | None = None) -> None:
        if not self.hold_bookmark:
            super()._increment_stream_state(latest_record, context=context)


class StateHookedTarget(Target):
    """A target that reads the tap's state as it arrives (`incoming_state`) and adds to the state it emits
    (`outgoing_state`). singer-sdk has no public hook for either."""

    def incoming_state(self, state: dict[str, Any]) -> None:
        """Called with the value of every STATE message from the tap."""

    def outgoing_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """The state this target emits, made from the tap's latest (a deep copy: change it freely)."""
        return state

    def emit_state(self, *, drain: bool = False) -> None:
        """Write a STATE message now (the tap's latest, through `outgoing_state`); Meltano stores each STATE line as
        it arrives. The SDK writes one only after draining its sinks. `drain=False`: before a write whose result
        the state must not claim yet (the target's `outgoing_state` holds back what is not written).
        `drain=True`: every sink drained first (drain_all: public, but documented as internal to the SDK; it
        writes the state itself), as the SDK does every few minutes, e.g. a checkpoint right after a write."""
        if drain:
            self.drain_all()
        elif self._latest_state:
            self._write_state_message(copy.deepcopy(self._latest_state))

    def active_sink(self, stream_name: str) -> Sink | None:
        """The sink currently taking `stream_name`'s records, if one was made."""
        return self._sinks_active.get(stream_name)

    @override
    def _process_state_message(self, message_dict: dict[str, Any]) -> None:
        super()._process_state_message(message_dict)
        self.incoming_state(message_dict.get("value") or {})

    @override
    def _write_state_message(self, state: dict[str, Any]) -> None:
        super()._write_state_message(self.outgoing_state(copy.deepcopy(state)))
