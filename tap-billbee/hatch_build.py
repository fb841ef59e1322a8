"""Hatch metadata hook: pin billbee-wemalo-core[sdk] to this plugin's own version (one git tag releases both)."""

from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface


class PinCore(MetadataHookInterface):
    def update(self, metadata: dict[str, Any]) -> None:
        pin = f"billbee-wemalo-core[sdk]=={metadata['version']}"
        metadata["dependencies"] = [*self.config["dependencies"], pin]
