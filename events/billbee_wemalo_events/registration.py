"""Registering the receiver's hooks with Billbee and wemalo, checking them, removing them.

Hook URLs are built from `public_url`: Billbee `<public_url>/hooks[/<merchant>]/billbee`, wemalo one URL per
event, `<public_url>/hooks[/<merchant>]/wemalo?event=<event>` (wemalo's body need not name its event). Only hooks
whose URL starts with the receiver's own are ever changed or removed; the account's other hooks are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billbee_wemalo.billbee import BillbeeClient
from billbee_wemalo.wemalo import WemaloClient
from billbee_wemalo_events.settings import Merchant, SettingsError

WEMALO_EVENTS = ("status_update", "trackingnumber_added")
SECRET_LENGTH = (32, 64)  # Billbee's C# SDK requires a Secret of 32-64 characters
DESCRIPTION = "billbee-wemalo-events"


@dataclass(frozen=True)
class HookStatus:
    system: str
    name: str  # Billbee: the hook id; wemalo: the event
    url: str
    state: str  # ok | missing | paused | created | updated | removed | would ...

    def line(self) -> str:
        return f"{self.system:7} {self.name:22} {self.state:9} {self.url}"


def base_url(public_url: str, merchant: Merchant) -> str:
    if not public_url:
        raise SettingsError("public_url is not set: the base URL under which Billbee and wemalo reach the receiver")
    return f"{public_url.rstrip('/')}/hooks" + ("" if merchant.is_default else f"/{merchant.name}")


def billbee_url(public_url: str, merchant: Merchant) -> str:
    return f"{base_url(public_url, merchant)}/billbee"


def wemalo_url(public_url: str, merchant: Merchant, event: str) -> str:
    return f"{base_url(public_url, merchant)}/wemalo?event={event}"


def _strip_noecho(url: str) -> str:
    return url.replace("?noecho", "").replace("&noecho", "")


def _ours(hook: dict[str, Any], url: str) -> bool:
    return _strip_noecho(str(hook.get("WebHookUri") or "")).rstrip("/") == url


def billbee_filters(client: BillbeeClient, configured: list[str]) -> list[str]:
    """The configured filters, else every filter Billbee lists that concerns orders, else all ("*")."""
    if configured:
        return configured
    names = [name for name in client.webhook_filters() if "order" in name.lower()]
    return names or ["*"]


def billbee_hooks(client: BillbeeClient, url: str) -> list[HookStatus]:
    found = [h for h in client.list_webhooks() if _ours(h, url)]
    if not found:
        return [HookStatus("Billbee", "-", url, "missing")]
    return [HookStatus("Billbee", str(h.get("Id")), url, "paused" if h.get("IsPaused") else "ok") for h in found]


def wemalo_hooks(client: WemaloClient, public_url: str, merchant: Merchant) -> list[HookStatus]:
    by_event = {str(h.get("event")): h for h in client.list_webhooks()}
    out = []
    for event in WEMALO_EVENTS:
        url = wemalo_url(public_url, merchant, event)
        hook = by_event.get(event)
        state = "ok" if hook and str(hook.get("payload") or "") == url else "missing" if not hook else "elsewhere"
        out.append(HookStatus("wemalo", event, url if state != "elsewhere" else str(hook and hook.get("payload")),
                              state))
    return out


def register_billbee(client: BillbeeClient, merchant: Merchant, public_url: str, filters: list[str], *,
                     ensure: bool = False, noecho: bool = False) -> list[HookStatus]:
    secret = merchant.billbee_auth.secret
    if not SECRET_LENGTH[0] <= len(secret) <= SECRET_LENGTH[1]:
        raise SettingsError(f"billbee_secret must have {SECRET_LENGTH[0]}-{SECRET_LENGTH[1]} characters "
                            f"(merchant {merchant.name})")
    url = billbee_url(public_url, merchant)
    hook = {"WebHookUri": url + ("?noecho" if noecho else ""), "Secret": secret,
            "Filters": billbee_filters(client, filters), "Description": DESCRIPTION, "IsPaused": False}
    current = [h for h in client.list_webhooks() if _ours(h, url)]
    if not current:
        created = client.create_webhook(hook)
        return [HookStatus("Billbee", str(created.get("Id") or "-"), url, "created")]
    out = []
    for existing in current:
        if ensure and not existing.get("IsPaused"):
            out.append(HookStatus("Billbee", str(existing.get("Id")), url, "ok"))
            continue
        client.update_webhook(str(existing.get("Id")), hook)  # also sets the secret again (not readable back)
        out.append(HookStatus("Billbee", str(existing.get("Id")), url, "updated"))
    return out


def register_wemalo(client: WemaloClient, merchant: Merchant, public_url: str, email: str, *,
                    ensure: bool = False) -> list[HookStatus]:
    token = merchant.wemalo_auth.token
    if not token:
        raise SettingsError(f"wemalo_hook_token is not set (merchant {merchant.name})")
    if not email:
        raise SettingsError("notify_email is not set: wemalo's field list requires the address it writes to when "
                            "it deactivates a hook after 10 failed deliveries")
    by_event = {str(h.get("event")): h for h in client.list_webhooks()}
    out = []
    for event in WEMALO_EVENTS:
        url = wemalo_url(public_url, merchant, event)
        hook = by_event.get(event)
        if ensure and hook and hook.get("payload") == url and hook.get("token") in (None, token):
            out.append(HookStatus("wemalo", event, url, "ok"))
            continue
        client.register_webhook(event, url, token, email)  # replaces the event's hook (URL and token)
        out.append(HookStatus("wemalo", event, url, "created" if not hook else "updated"))
    return out


def unregister(billbee: BillbeeClient, wemalo: WemaloClient, merchant: Merchant, public_url: str
               ) -> list[HookStatus]:
    out = []
    url = billbee_url(public_url, merchant)
    for hook in billbee.list_webhooks():
        if _ours(hook, url):
            billbee.delete_webhook(str(hook.get("Id")))
            out.append(HookStatus("Billbee", str(hook.get("Id")), url, "removed"))
    prefix = base_url(public_url, merchant) + "/wemalo"
    for hook in wemalo.list_webhooks():
        if str(hook.get("payload") or "").startswith(prefix):
            wemalo.delete_webhook(str(hook.get("event")))
            out.append(HookStatus("wemalo", str(hook.get("event")), str(hook.get("payload")), "removed"))
    return out
