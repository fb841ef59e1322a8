"""Hatch build hook: build the shared API clients from ../clients into each plugin's sdist and wheel.

The clients are written once (``clients/``) and every plugin stays installable on its own from its folder:
a wheel carries the client packages it needs, an sdist carries them under ``_clients/`` so that a wheel built
from the sdist finds them too. Editable installs skip this: ``dev-mode-dirs`` puts ``../clients`` on the
path, so edits to a client take effect without reinstalling.

An sdist must build on its own, unpacked anywhere. In the repository a plugin's ``pyproject.toml`` names this
hook as ``../clients/hatch_build_clients.py``, a path outside the sdist; so the sdist also carries this file as
``_clients/hatch_build_clients.py`` and a copy of ``pyproject.toml`` whose hook path and ``dev-mode-dirs``
point there. The version needs nothing: hatchling takes it from the sdist's ``PKG-INFO``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

REPO_DIR, SDIST_DIR = "../clients", "_clients"
HOOK_FILE = "hatch_build_clients.py"


def sdist_pyproject(text: str) -> str:
    """The plugin's pyproject.toml as it must read inside the sdist: hook and dev-mode dirs under _clients/."""
    text = re.sub(r'(?m)^(path\s*=\s*)"\.\./clients/hatch_build_clients\.py"',
                  rf'\1"{SDIST_DIR}/{HOOK_FILE}"', text)
    text = re.sub(r'(?m)^(dev-mode-dirs\s*=\s*\[[^\]]*)"\.\./clients"', rf'\1"{SDIST_DIR}"', text)
    note = "# In this sdist the shared clients and this hook are under _clients/ (rewritten by the hook).\n"
    if note not in text:
        text = text.replace("\n[tool.hatch.build.hooks.custom]", f"\n{note}[tool.hatch.build.hooks.custom]", 1)
    tool = tomllib.loads(text)["tool"]["hatch"]["build"]
    if tool["hooks"]["custom"].get("path") != f"{SDIST_DIR}/{HOOK_FILE}":
        raise ValueError(f"pyproject.toml: [tool.hatch.build.hooks.custom] path must be '{REPO_DIR}/{HOOK_FILE}'")
    if any(d.startswith("..") for d in tool["targets"]["wheel"].get("dev-mode-dirs", [])):
        raise ValueError("pyproject.toml: dev-mode-dirs outside the plugin other than ../clients")
    return text


class SharedClientsHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        for name in self.config.get("packages", []):
            source = root / SDIST_DIR / name  # in an unpacked sdist
            if not source.is_dir():
                source = root.parent / "clients" / name  # in the repository
            if not source.is_dir():
                raise FileNotFoundError(f"shared client package {name!r} not found beside {root}")
            target = f"{SDIST_DIR}/{name}" if self.target_name == "sdist" else name
            build_data["force_include"][str(source)] = target
        if self.target_name == "sdist":
            # hatchling forces the project's own pyproject.toml into every sdist; ours replaces it.
            build_data["force_include"].pop(str(root / "pyproject.toml"), None)
            self._tmp = Path(tempfile.mkdtemp(prefix="hatch-clients-"))
            pyproject = self._tmp / "pyproject.toml"
            pyproject.write_text(sdist_pyproject((root / "pyproject.toml").read_text(encoding="utf-8")),
                                 encoding="utf-8")
            build_data["force_include"][str(pyproject)] = "pyproject.toml"
            build_data["force_include"][str(Path(__file__).resolve())] = f"{SDIST_DIR}/{HOOK_FILE}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
