"""Each plugin's README documents exactly the settings the plugin has, and meltano.yml declares them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("tap-billbee", "target-wemalo", "tap-wemalo-shipments", "target-billbee")
# The setting names users put into .env: a public contract (issue "Foundation").
CONTRACT = {
    "tap-billbee": {"api_url", "username", "password", "api_key", "order_state_ids", "orders_tag", "start_date"},
    "target-wemalo": {"api_url", "token"},
    "tap-wemalo-shipments": {"api_url", "token", "start_date"},
    "target-billbee": {"api_url", "username", "password", "api_key", "storage_location_id", "orders_tag"},
}
SECRETS = {"password", "api_key", "token"}


def test_readme_settings_tables_match_about() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_settings.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("plugin", PLUGINS)
def test_meltano_yml_declares_the_contract_and_marks_secrets(plugin: str) -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugins = {p["name"]: p for kind in project["plugins"].values() for p in kind}
    definition = plugins[plugin]
    assert definition["pip_url"] == f"-e ./core -e ./{plugin}"
    assert definition["namespace"] == plugin.replace("-", "_")
    settings = {s["name"]: s for s in definition["settings"]}
    assert CONTRACT[plugin] <= set(settings)
    for name in SECRETS & set(settings):
        assert settings[name].get("sensitive") is True, name
    if plugin.startswith("tap-"):
        assert "state" in definition["capabilities"]


def test_jobs_and_schedule() -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    jobs = {j["name"]: j["tasks"] for j in project["jobs"]}
    lock, unlock = "billbee-wemalo-reconcile:lock", "billbee-wemalo-reconcile:unlock"  # one run per merchant
    assert jobs["billbee-to-wemalo"] == [lock, "tap-billbee target-wemalo", unlock]
    assert jobs["wemalo-to-billbee"] == [lock, "tap-wemalo-shipments target-billbee", unlock]
    assert jobs["sync"] == [lock, "tap-billbee target-wemalo", "tap-wemalo-shipments target-billbee", unlock]
    utility = next(p for p in project["plugins"]["utilities"] if p["name"] == "billbee-wemalo-reconcile")
    assert {name: (c["executable"], c["args"]) for name, c in utility["commands"].items()} == {
        "lock": ("billbee-wemalo-lock", "acquire"), "unlock": ("billbee-wemalo-lock", "release")}
    assert jobs["events-check"] == ["billbee-wemalo-events:ensure"]  # the webhook receiver's hook check
    assert project["schedules"] == [{"name": "hourly-sync", "interval": "@hourly", "job": "sync"},
                                    {"name": "events-check", "interval": "*/15 * * * *", "job": "events-check"}]
    assert project["default_environment"] == "dev"
    assert {e["name"] for e in project["environments"]} >= {"dev", "prod"}


def test_the_events_utility_keeps_its_contract() -> None:
    """Issue 17's contract: the utility's name, commands and the settings host, port (127.0.0.1:8765) and
    public_url; its secrets are marked, and every setting it declares is one the package reads."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    utility = next(p for p in project["plugins"]["utilities"] if p["name"] == "billbee-wemalo-events")
    assert utility["pip_url"] == "-e ./core -e ./events[postgres]"  # the queue in MELTANO_DATABASE_URI's PostgreSQL
    assert set(utility["commands"]) == {"serve", "register", "unregister", "status", "ensure"}
    assert {name: c["args"] for name, c in utility["commands"].items()} == {
        "serve": "serve", "register": "register", "unregister": "unregister", "status": "status",
        "ensure": "register --ensure"}
    settings = {s["name"]: s for s in utility["settings"]}
    assert settings["host"]["value"] == "127.0.0.1"
    assert settings["port"]["value"] == 8765
    assert "public_url" in settings
    assert settings["billbee_secret"]["sensitive"] is settings["wemalo_hook_token"]["sensitive"] is True
    sources = "".join(path.read_text() for path in (ROOT / "events" / "billbee_wemalo_events").glob("*.py"))
    unread = [name for name in settings
              if f'"{name}"' not in sources and f"BILLBEE_WEMALO_EVENTS_{name.upper()}" not in sources]
    assert unread == []


def test_hub_definitions_match_about_and_meltano_yml() -> None:
    """hub/<plugin>.yml equals what scripts/hub_definitions.py generates from --about and meltano.yml, and
    meltano.yml agrees with the plugins (settings, kinds, secrets, defaults, required settings)."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "hub_definitions.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    kinds = {"string", "integer", "decimal", "boolean", "array", "object", "options", "date_iso8601", "email"}
    for plugin in PLUGINS:
        hub = yaml.safe_load((ROOT / "hub" / f"{plugin}.yml").read_text())
        assert {"name", "namespace", "variant", "label", "pip_url", "executable", "capabilities", "settings",
                "settings_group_validation", "keywords", "maintenance_status", "repo"} <= set(hub)
        assert (hub["name"], hub["executable"], hub["pip_url"]) == (plugin, plugin, plugin)
        assert hub["description"]
        settings = {s["name"]: s for s in hub["settings"]}
        assert CONTRACT[plugin] <= set(settings)
        for name in SECRETS & set(settings):
            assert settings[name].get("sensitive") is True, name
        assert all(s["kind"] in kinds and s.get("label") for s in hub["settings"])
        if plugin.startswith("tap-"):
            assert {"state", "catalog", "discover"} <= set(hub["capabilities"])


def test_the_lock_file_matches_the_declared_dependencies() -> None:
    """requirements-dev.lock pins the development and CI environment; a changed dependency needs a new lock."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "lock.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_the_compose_example_runs_the_receiver_on_postgres() -> None:
    """orchestration/compose/docker-compose.yml (docs/deployment.md): PostgreSQL as Meltano's system database and
    the queue, the receiver from the image, the hourly sync and the hook check."""
    compose = yaml.safe_load((ROOT / "orchestration" / "compose" / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "receiver", "scheduler"}
    assert services["receiver"]["command"] == ["invoke", "billbee-wemalo-events:serve"]
    assert services["receiver"]["ports"] == ["127.0.0.1:8765:8765"]
    for name in ("receiver", "scheduler"):
        assert services[name]["environment"]["MELTANO_DATABASE_URI"].startswith("postgresql+psycopg://"), name
    loop = services["scheduler"]["command"][0]
    assert "meltano run sync" in loop
    assert "meltano run events-check" in loop
