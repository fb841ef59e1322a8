"""Print the CHANGELOG.md section of one version: the GitHub release notes (.github/workflows/release.yml).

    python scripts/release_notes.py 0.2.0        # or v0.2.0

Exits 1 when CHANGELOG.md has no non-empty `## [0.2.0]` section, so a tag cannot be released without notes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"


def notes(changelog: str, version: str) -> str | None:
    version = version.removeprefix("v")
    match = re.search(rf"^## \[{re.escape(version)}\][^\n]*\n(.*?)(?=^## |^\[[^\]]+\]: |\Z)", changelog, re.M | re.S)
    return match.group(1).strip() if match and match.group(1).strip() else None


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    text = notes(CHANGELOG.read_text(encoding="utf-8"), sys.argv[1])
    if text is None:
        print(f"CHANGELOG.md has no notes for {sys.argv[1]}: add a '## [{sys.argv[1].removeprefix('v')}] - "
              "YYYY-MM-DD' section (move the Unreleased entries there)", file=sys.stderr)
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
