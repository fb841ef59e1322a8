"""What a goods order's status says about the warehouse holding it (issue 18): stuck or not, why in plain words,
and its stage of fulfilment. Pure judgement on one getStatus answer; target-wemalo's stuck check and the
reconciliation use it.

getStatus's example shows neither `reasonPartiallyReserved` nor `blockReason` (docs/api-contract.md, "wemalo:
PARTIAL reasons and blockReason"; the apidoc names no values, `ADDRESS` comes from wemalo's shop plugin):
without a reason, a PARTIAL order counts as held for an unnamed reason (stuck after the hours), a BLOCKEDPACKED
one is stuck at once with "no reason given".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# The stage of fulfilment an order is in, for tap-billbee's status mirror (settings accepted_state_id,
# packed_state_id): every status before packing is "accepted", packed (also blocked after packing) is "packed".
PACKED_STATUSES = frozenset({"BLOCKEDPACKED", "PACKED"})


def stage_of(status_name: str) -> str:
    return "packed" if status_name in PACKED_STATUSES else "accepted"


# wemalo's reason codes in plain words (the merchant reads them in Billbee); an unknown code is shown as it is.
PARTIAL_REASONS = {
    "ADDRESS": "die Lieferadresse ist unvollständig oder ungültig",
    "STOCK": "es fehlt Bestand",
}


@dataclass(frozen=True)
class Verdict:
    stuck: bool
    reason: str = ""
    resend_on_change: bool = False  # the merchant's next change of the order goes to wemalo (an address fix)


NOT_STUCK = Verdict(stuck=False)


def judge(status: Mapping[str, Any], partial_since: datetime | None, now: datetime,
          partial_hours: float) -> tuple[Verdict, datetime | None]:
    """The verdict on one getStatus answer, and since when the order is PARTIAL (None: it is not)."""
    name = str(status.get("statusName") or "")
    if name == "BLOCKEDPACKED":
        why = str(status.get("blockReason") or "").strip() or "wemalo nennt keinen Grund"
        return Verdict(True, f"wemalo hat den Auftrag gepackt, aber gesperrt (BLOCKEDPACKED: {why}); "
                             "er wird erst nach Freigabe im Lager versandt"), None
    if name != "PARTIAL":
        return NOT_STUCK, None
    since = partial_since or now
    code = str(status.get("reasonPartiallyReserved") or "").strip()
    if code.upper() == "ADDRESS":
        return Verdict(True, f"wemalo hält den Auftrag zurück: {PARTIAL_REASONS['ADDRESS']} (PARTIAL: ADDRESS). "
                             "Korrigieren Sie die Adresse in Billbee; die Änderung geht mit dem nächsten Lauf an "
                             "wemalo", resend_on_change=True), since
    if now - since < timedelta(hours=partial_hours):
        return NOT_STUCK, since
    words = PARTIAL_REASONS.get(code.upper(), f"Grund {code}" if code else "wemalo nennt keinen Grund")
    hours = f"{partial_hours:g}"
    return Verdict(True, f"wemalo hält den Auftrag seit über {hours} Stunden als teilreserviert zurück: {words} "
                         f"(PARTIAL{': ' + code if code else ''})"), since
