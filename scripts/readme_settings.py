"""Keep each plugin README's settings table equal to the plugin's own `--about --format=markdown`.

`python scripts/readme_settings.py` rewrites the part between the markers; `--check` only compares (the test
suite runs the check, so a setting added to a plugin without its README fails the build).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("tap-billbee", "target-wemalo", "tap-wemalo-shipments", "target-billbee")
START, END = "<!-- settings:start (generated from --about, see scripts/readme_settings.py) -->", "<!-- settings:end -->"


def settings_table(plugin: str) -> str:
    executable = Path(sys.executable).with_name(plugin)
    about = subprocess.run([str(executable), "--about", "--format=markdown"], capture_output=True, text=True,
                           check=True).stdout
    match = re.search(r"## Settings\n\n(.*?)\n\n", about, re.S)
    if not match:
        raise SystemExit(f"{plugin} --about printed no settings table")
    return match.group(1).strip()


def expected_readme(plugin: str) -> tuple[str, str]:
    path = ROOT / plugin / "README.md"
    text = path.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{path}: settings markers missing")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return text, f"{head}{START}\n{settings_table(plugin)}\n{END}{tail}"


def main() -> int:
    check = "--check" in sys.argv
    stale = []
    for plugin in PLUGINS:
        current, wanted = expected_readme(plugin)
        if current != wanted:
            stale.append(plugin)
            if not check:
                (ROOT / plugin / "README.md").write_text(wanted)
    if check and stale:
        print(f"settings tables out of date: {', '.join(stale)}; run python scripts/readme_settings.py")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
