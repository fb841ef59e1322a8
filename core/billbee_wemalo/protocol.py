"""The acknowledgement contract between target-wemalo (writes) and tap-billbee (reads), defined once.

target-wemalo puts one entry per order it handled into the Singer state it emits, under
``bookmarks.orders.<PENDING_ACKS_KEY>``: ``{order id: {"outcome", "reason", "had_error_tag"}}``. Meltano stores
that state only after the target finished; the next run hands it to tap-billbee, which writes the tags and
messages in Billbee and drops the entries it wrote (README, "Acknowledgement after commit").
"""

from __future__ import annotations

PENDING_ACKS_KEY = "pending_acks"

# The outcomes target-wemalo acknowledges; tap-billbee turns each into Billbee tags/messages.
ACCEPTED, UPDATED, UNCHANGED, REJECTED = "accepted", "updated", "unchanged", "rejected"
CHANGE_REFUSED, CANCELLED, CANCEL_REFUSED = "change_refused", "cancelled", "cancel_refused"
ACK_OUTCOMES = frozenset({ACCEPTED, UPDATED, UNCHANGED, REJECTED, CHANGE_REFUSED, CANCELLED, CANCEL_REFUSED})
# ... of which these mean "wemalo has this order" (the received tag is set).
RECEIVED_OUTCOMES = frozenset({ACCEPTED, UPDATED, UNCHANGED, CHANGE_REFUSED})
