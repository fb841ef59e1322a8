"""A private Meltano system directory (`MELTANO_SYS_DIR_ROOT`) that shares the installed plugins.

Meltano keeps per-run files of a plugin in `.meltano/run/<plugin>/`, and some of them are not per run: the
tap's `state.json` (the state handed to the tap), `tap.properties.json` (the catalog) and the logging
configs. Two `meltano run` processes of one project directory at the same time can therefore overwrite or
delete each other's files, and a tap can even start with another run's state. Each concurrent run (one per
merchant, or one per test) gets its own system directory; the plugin installations are symlinked from the
project's `.meltano`, so nothing is installed twice.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.runner import ROOT

PLUGIN_KINDS = ("extractors", "loaders", "utilities", "mappers", "orchestrators", "transformers", "files")
USED = ("extractors", "loaders", "utilities")  # the kinds meltano.yml has; other kinds are linked when installed


def private_sys_dir(workdir: Path) -> dict[str, str]:
    """Environment for `meltano` that uses `<workdir>/.meltano` for run files and logs."""
    sys_dir = workdir / ".meltano"
    sys_dir.mkdir(parents=True, exist_ok=True)
    for kind in PLUGIN_KINDS:
        shared = ROOT / ".meltano" / kind
        if kind in USED:
            shared.mkdir(parents=True, exist_ok=True)
        link = sys_dir / kind
        if shared.is_dir() and not link.exists():
            link.symlink_to(shared, target_is_directory=True)
    return {"MELTANO_SYS_DIR_ROOT": str(sys_dir)}
