"""Hatch metadata hook: pin billbee-wemalo-core to this package's own version (one git tag releases both)."""

from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface


class PinCore(MetadataHookInterface):
    def update(self, metadata: dict[str, Any]) -> None:
        pin = f"billbee-wemalo-core=={metadata['version']}"
        metadata["dependencies"] = [*self.config["dependencies"], pin]
