"""The utility's settings (environment variables BILLBEE_WEMALO_EVENTS_<SETTING>, as Meltano passes them) and the
merchants the receiver serves.

The project's default merchant is the environment itself: the plugins' variables (TAP_BILLBEE_USERNAME, ...,
TARGET_WEMALO_TOKEN) and this utility's secrets. Further merchants are listed in `merchants_file` (TOML):

    [merchants.shop-b]
    env_file = "/etc/billbee-wemalo/merchants/shop-b.env"   # its credentials and hook secrets
    state_id_suffix = "shop-b"                               # default: the merchant's name

A further merchant's jobs and hooks see its env file over the environment *without* the plugins' and this
utility's account variables, so a variable missing in its file fails instead of using another merchant's account.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from billbee_wemalo_events.auth import TOKEN_LOCATIONS, BillbeeAuth, WemaloAuth

PREFIX = "BILLBEE_WEMALO_EVENTS_"
DEFAULT_MERCHANT = "default"
MERCHANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Variables that belong to one merchant's accounts: never inherited by another merchant.
ACCOUNT_PREFIXES = ("TAP_BILLBEE_", "TARGET_BILLBEE_", "TARGET_WEMALO_", "TAP_WEMALO_SHIPMENTS_",
                    f"{PREFIX}BILLBEE_SECRET", f"{PREFIX}WEMALO_HOOK_TOKEN", f"{PREFIX}STATE_ID_SUFFIX",
                    f"{PREFIX}BILLBEE_API_URL", f"{PREFIX}WEMALO_API_URL")


class SettingsError(ValueError):
    pass


def _get(env: Mapping[str, str], name: str, default: str = "") -> str:
    return env.get(PREFIX + name.upper(), "") or default


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _get(env, name)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise SettingsError(f"setting {name} must be a number, not {raw!r}") from None


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    days = _number(env, name, default)
    if days < 0 or days != int(days):
        raise SettingsError(f"setting {name} must be a whole number of days, 0 or more, not {days:g}")
    return int(days)


def _list(value: str) -> tuple[str, ...]:
    value = value.strip()
    items = json.loads(value) if value.startswith("[") else value.split(",")
    return tuple(str(i).strip().lower() for i in items if str(i).strip())


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (`export ` allowed, # comments, optional quotes): the per-merchant env files of
    docs/many-merchants.md."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


@dataclass(frozen=True)
class Merchant:
    name: str
    env: Mapping[str, str] = field(repr=False)  # what its jobs and its clients see
    state_id_suffix: str | None = None

    @property
    def billbee_auth(self) -> BillbeeAuth:
        return BillbeeAuth(_get(self.env, "billbee_secret"), _flag(_get(self.env, "billbee_allow_unsigned")))

    @property
    def wemalo_auth(self) -> WemaloAuth:
        locations = _list(_get(self.env, "wemalo_token_locations")) or TOKEN_LOCATIONS
        unknown = set(locations) - set(TOKEN_LOCATIONS)
        if unknown:
            raise SettingsError(f"wemalo_token_locations: unknown {sorted(unknown)} (allowed: {TOKEN_LOCATIONS})")
        return WemaloAuth(_get(self.env, "wemalo_hook_token"), locations)

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_MERCHANT


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    public_url: str
    max_body_bytes: int
    coalesce_seconds: float
    max_order_ids: int
    retry_seconds: float
    max_attempts: int
    retention_days: int
    notify_email: str
    meltano_executable: str
    merchants: dict[str, Merchant]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        try:
            port = int(_get(env, "port", "8765"))
        except ValueError:
            raise SettingsError("setting port must be an integer") from None
        return cls(
            host=_get(env, "host", "127.0.0.1"), port=port, public_url=_get(env, "public_url").rstrip("/"),
            max_body_bytes=int(_number(env, "max_body_bytes", 256 * 1024)),
            coalesce_seconds=_number(env, "coalesce_seconds", 5.0),
            max_order_ids=int(_number(env, "max_order_ids", 100)),
            retry_seconds=_number(env, "retry_seconds", 30.0),
            max_attempts=int(_number(env, "max_attempts", 10)),
            retention_days=_days(env, "retention_days", 30),
            notify_email=_get(env, "notify_email"),
            meltano_executable=_get(env, "meltano_executable", "meltano"),
            merchants=load_merchants(env),
        )


def load_merchants(env: Mapping[str, str]) -> dict[str, Merchant]:
    default = Merchant(DEFAULT_MERCHANT, env, _get(env, "state_id_suffix") or None)
    merchants = {DEFAULT_MERCHANT: default}
    path = _get(env, "merchants_file")
    if not path:
        return merchants
    try:
        config = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"merchants_file {path}: {exc}") from None
    base = {k: v for k, v in env.items() if not k.startswith(ACCOUNT_PREFIXES)}
    for name, entry in (config.get("merchants") or {}).items():
        if not MERCHANT_NAME.match(name) or name == DEFAULT_MERCHANT:
            raise SettingsError(f"merchants_file: merchant name {name!r} (lower-case letters, digits, - and _; "
                                f"not {DEFAULT_MERCHANT!r})")
        if not isinstance(entry, dict) or not entry.get("env_file"):
            raise SettingsError(f"merchants_file: merchant {name!r} needs an env_file")
        env_file = Path(str(entry["env_file"]))
        if not env_file.is_absolute():
            env_file = Path(path).parent / env_file
        try:
            own = read_env_file(env_file)
        except OSError as exc:
            raise SettingsError(f"merchant {name!r}: env_file {env_file}: {exc.strerror}") from None
        merchants[name] = Merchant(name, {**base, **own}, str(entry.get("state_id_suffix") or name))
    return merchants
