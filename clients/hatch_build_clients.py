"""Hatch build hook: build the shared API clients from ../clients into each plugin's sdist and wheel.

The clients are written once (``clients/``) and every plugin stays installable on its own from its folder:
a wheel carries the client packages it needs, an sdist carries them under ``_clients/`` so that a wheel built
from the sdist finds them too. Editable installs skip this: ``dev-mode-dirs`` puts ``../clients`` on the
path, so edits to a client take effect without reinstalling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class SharedClientsHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        for name in self.config.get("packages", []):
            source = root.parent / "clients" / name  # in the repository
            if not source.is_dir():
                source = root / "_clients" / name  # in an unpacked sdist
            if not source.is_dir():
                raise FileNotFoundError(f"shared client package {name!r} not found beside {root}")
            target = f"_clients/{name}" if self.target_name == "sdist" else name
            build_data["force_include"][str(source)] = target
