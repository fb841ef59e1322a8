"""Fixtures of the events tests: settings for two merchants, and a queue: every test that takes `queue` runs
twice, on a temporary SQLite file and on a database of a throw-away PostgreSQL cluster (tests/e2e/
postgres_cluster.py; skipped with the reason where PostgreSQL cannot be started)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from billbee_wemalo_events.event_queue import EventQueue
from billbee_wemalo_events.settings import Settings
from tests.e2e.postgres_cluster import Cluster, cluster_or_skip

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


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    yield from cluster_or_skip()


DATABASE_NUMBERS = itertools.count(1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def queue(request: pytest.FixtureRequest, env: dict[str, str]) -> Iterator[EventQueue]:
    if request.param == "sqlite":
        url = env["BILLBEE_WEMALO_EVENTS_DATABASE_URL"]
    else:
        cluster: Cluster = request.getfixturevalue("postgres")
        name = f"events_{next(DATABASE_NUMBERS)}"
        cluster.create_database(name)
        url = cluster.uri(name)
    q = EventQueue(url)
    yield q
    q.close()
