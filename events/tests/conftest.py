"""Fixtures of the events tests: settings for two merchants, a queue in a temporary SQLite file."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import pytest

from billbee_wemalo_events.event_queue import EventQueue
from billbee_wemalo_events.settings import Settings

SECRET = "s3cret-billbee-0123456789abcdef-XYZ"  # 35 characters, as Billbee wants 32-64
TOKEN = "wemalo-hook-token-default"
SHOP_B_SECRET = "shop-b-billbee-secret-0123456789abcdef"
SHOP_B_TOKEN = "wemalo-hook-token-shop-b"


def sign(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"ms-signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "content-type": "application/json"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "shop-b.env").write_text(
        f"TAP_BILLBEE_USERNAME=b@shop-b.example\nBILLBEE_WEMALO_EVENTS_BILLBEE_SECRET={SHOP_B_SECRET}\n"
        f"BILLBEE_WEMALO_EVENTS_WEMALO_HOOK_TOKEN='{SHOP_B_TOKEN}'\n")
    (tmp_path / "merchants.toml").write_text('[merchants.shop-b]\nenv_file = "shop-b.env"\n')
    return {"BILLBEE_WEMALO_EVENTS_BILLBEE_SECRET": SECRET, "BILLBEE_WEMALO_EVENTS_WEMALO_HOOK_TOKEN": TOKEN,
            "BILLBEE_WEMALO_EVENTS_MERCHANTS_FILE": str(tmp_path / "merchants.toml"),
            "BILLBEE_WEMALO_EVENTS_PUBLIC_URL": "https://hooks.example.com",
            "BILLBEE_WEMALO_EVENTS_DATABASE_URL": f"sqlite:///{tmp_path / 'events.db'}",
            "TAP_BILLBEE_USERNAME": "a@shop-a.example", "MELTANO_PROJECT_ROOT": str(tmp_path)}


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return Settings.from_env(env)


@pytest.fixture
def queue(env: dict[str, str]) -> Iterator[EventQueue]:
    q = EventQueue(env["BILLBEE_WEMALO_EVENTS_DATABASE_URL"])
    yield q
    q.close()
