"""`billbee-wemalo-lock acquire|release`: one `meltano run` per merchant at a time.

Meltano 4.4 refuses a block (tap-target pair) whose state ID has a running job, but only per block: a second
`meltano run sync` started while the first one is in its wemalo-to-billbee block runs its own
billbee-to-wemalo block at the same time. The jobs in meltano.yml therefore begin with the utility command
`billbee-wemalo-reconcile:lock` and end with `billbee-wemalo-reconcile:unlock`.

* The lock belongs to the `meltano run` process that ran the command (this process's parent), recorded as
  its pid plus its start time after boot (from psutil) and the boot id, so a later process that got the same
  pid is not taken for the owner.
* `acquire` fails (exit 3, one line on stderr) while the owner is alive; a lock whose owner is gone (a run
  that crashed or was killed before its unlock task) is taken over, with a log line.
* `release` removes the lock only when this run owns it.
* The lock file is named after a hash of the merchant's Billbee API URL and user and the wemalo API URL: two
  runs for the same accounts conflict whatever their state-id suffixes, different merchants do not. No
  secret goes into the file's name or content.
* Folder: `--lock-dir`, else BILLBEE_WEMALO_RECONCILE_LOCK_DIR, else `.meltano/locks` in the Meltano project
  (MELTANO_PROJECT_ROOT). Locks are per machine.

This module imports only the standard library and psutil (a few tens of milliseconds), so the two extra
processes per run start fast.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import socket
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

OK, FAILED, HELD = 0, 2, 3
PROG = "billbee-wemalo-lock"
BILLBEE_DEFAULT = "https://app.billbee.io/api/v1"
WEMALO_DEFAULT = "https://connect.wemalo.com/v1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # the unit of start_ticks (as psutil and /proc use it)


def _env(env: Mapping[str, str], *names: str, default: str = "") -> str:
    return next((env[n] for n in names if env.get(n)), default)


@dataclass(frozen=True)
class Merchant:
    billbee_api_url: str
    billbee_username: str
    wemalo_api_url: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Merchant:
        """The plugins' variables. Under Meltano, TAP_BILLBEE_API_URL and TARGET_WEMALO_API_URL are the
        utility's `billbee_api_url`/`wemalo_api_url` settings (they win over the caller's environment), so the
        other two plugins' URL variables, which Meltano passes through as they are, are read first."""
        return cls(_env(env, "TARGET_BILLBEE_API_URL", "TAP_BILLBEE_API_URL", default=BILLBEE_DEFAULT),
                   _env(env, "TAP_BILLBEE_USERNAME", "TARGET_BILLBEE_USERNAME"),
                   _env(env, "TAP_WEMALO_SHIPMENTS_API_URL", "TARGET_WEMALO_API_URL", default=WEMALO_DEFAULT))

    @property
    def key(self) -> str:
        parts = (self.billbee_api_url.strip().rstrip("/").casefold(), self.billbee_username.strip().casefold(),
                 self.wemalo_api_url.strip().rstrip("/").casefold())
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]

    def describe(self) -> str:
        user = self.billbee_username.strip() or "(no user name in the environment)"
        return (f"Billbee user {user} at {urlsplit(self.billbee_api_url).netloc or self.billbee_api_url} "
                f"with wemalo at {urlsplit(self.wemalo_api_url).netloc or self.wemalo_api_url}")


@dataclass(frozen=True)
class Owner:
    """A process, identified so that a later process with the same pid is a different owner."""

    pid: int
    start_ticks: int | None  # clock ticks from boot to its start (None: gone, a zombie, or not readable)
    boot_id: str | None  # None where there is no /proc

    @classmethod
    def of(cls, pid: int) -> Owner:
        try:
            ticks = _start_ticks(psutil.Process(pid))
        except (psutil.Error, ValueError):  # NoSuchProcess, AccessDenied; ValueError: a negative pid
            ticks = None
        return cls(pid, ticks, _boot_id())

    def alive(self) -> bool:
        """The recorded process still runs: a process with its pid, not a zombie, that started at the recorded
        time in this boot. One whose start psutil may not read (AccessDenied) is taken to be the owner."""
        if self.boot_id and _boot_id() and self.boot_id != _boot_id():
            return False  # the machine was restarted since
        try:
            ticks = _start_ticks(psutil.Process(self.pid))
        except (psutil.NoSuchProcess, ValueError):
            return False
        except psutil.AccessDenied:
            return True
        return ticks is not None and ticks == self.start_ticks

    def same_as(self, other: Owner) -> bool:
        return (self.pid, self.start_ticks, self.boot_id) == (other.pid, other.start_ticks, other.boot_id)


def _start_ticks(process: psutil.Process) -> int | None:
    """The process's start in clock ticks after boot (on Linux field 22 of /proc/<pid>/stat); None for a zombie.

    On Linux psutil's create_time() is boot_time() plus this start (both in seconds since the epoch, both moved
    when the system clock is set); the difference is not moved, so setting the clock does not make the owner a
    stranger. Raises psutil.NoSuchProcess or psutil.AccessDenied.
    """
    if process.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
        return None
    boot = psutil.boot_time()
    return round((process.create_time() - boot) * CLOCK_TICKS)


def _boot_id() -> str | None:
    """Linux's id of this boot. psutil.boot_time() would not do: it moves when the system clock is set."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def default_lock_dir(env: Mapping[str, str]) -> Path:
    if env.get("BILLBEE_WEMALO_RECONCILE_LOCK_DIR"):
        return Path(env["BILLBEE_WEMALO_RECONCILE_LOCK_DIR"])
    return Path(env.get("MELTANO_PROJECT_ROOT") or ".") / ".meltano" / "locks"


class SyncLock:
    def __init__(self, lock_dir: Path, merchant: Merchant) -> None:
        self.dir = lock_dir
        self.merchant = merchant
        self.path = lock_dir / f"sync-{merchant.key}.lock"

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Serialises the read-decide-write of concurrent acquire/release calls (flock, released on exit)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / f"sync-{self.merchant.key}.guard", "a") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(guard, fcntl.LOCK_UN)

    def _read(self) -> dict[str, Any] | None:
        try:
            record: dict[str, Any] = json.loads(self.path.read_text())  # written by acquire: a JSON object
            return record
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # unreadable (e.g. cut short by a full disk): nobody can own it

    @staticmethod
    def _owner(record: dict[str, Any]) -> Owner | None:
        try:
            return Owner(int(record["pid"]), record.get("start_ticks"), record.get("boot_id"))
        except (KeyError, TypeError, ValueError):
            return None

    def acquire(self, owner: Owner) -> tuple[bool, str]:
        """(True, log line) when `owner` holds the lock now; (False, reason) when a live owner holds it."""
        with self._guard():
            record = self._read()
            took_over = ""
            if record is not None:
                held_by = self._owner(record)
                if held_by is not None and held_by.same_as(owner):
                    return True, f"{PROG}: this run already holds the lock for {self.merchant.describe()}"
                if held_by is not None and held_by.alive():
                    return False, (f"another sync for {self.merchant.describe()} is running since "
                                   f"{record.get('since', '?')}, pid {held_by.pid} (lock {self.path}); "
                                   "this run stops before any request")
                took_over = (f"; took over the lock of a run that ended without releasing it (pid "
                             f"{record.get('pid', '?')}, since {record.get('since', '?')})")
            content = {"pid": owner.pid, "start_ticks": owner.start_ticks, "boot_id": owner.boot_id,
                       "host": socket.gethostname(), "since": datetime.now(UTC).isoformat(timespec="seconds"),
                       "merchant_key": self.merchant.key}
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(content) + "\n")
            os.replace(tmp, self.path)
            return True, f"{PROG}: lock taken for {self.merchant.describe()} by pid {owner.pid}{took_over}"

    def release(self, owner: Owner) -> str:
        with self._guard():
            record = self._read()
            if record is None:
                return f"{PROG}: no lock to release for {self.merchant.describe()}"
            held_by = self._owner(record)
            if held_by is None or not held_by.same_as(owner):
                return (f"{PROG}: the lock for {self.merchant.describe()} belongs to pid "
                        f"{record.get('pid', '?')}, not to this run (pid {owner.pid}): left in place")
            self.path.unlink()
            return f"{PROG}: lock released for {self.merchant.describe()}"


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    p = argparse.ArgumentParser(prog=PROG, description="Take or release the per-merchant lock of a "
                                "`meltano run` (meltano.yml runs it as the first and last task of each job).")
    p.add_argument("action", choices=("acquire", "release"))
    p.add_argument("--lock-dir", type=Path, default=None,
                   help="default: BILLBEE_WEMALO_RECONCILE_LOCK_DIR, else <project>/.meltano/locks")
    p.add_argument("--owner-pid", type=int, default=None,
                   help="the process that holds the lock (default: the parent, i.e. `meltano run`)")
    args = p.parse_args(argv)
    lock = SyncLock(args.lock_dir or default_lock_dir(env), Merchant.from_env(env))
    owner = Owner.of(args.owner_pid or os.getppid())
    try:
        if args.action == "acquire":
            ok, line = lock.acquire(owner)
            print(line if ok else f"{PROG}: {line}", file=sys.stderr)
            return OK if ok else HELD
        print(lock.release(owner), file=sys.stderr)
        return OK
    except OSError as exc:
        print(f"{PROG}: cannot use the lock folder {lock.dir}: {exc}", file=sys.stderr)
        return FAILED


if __name__ == "__main__":
    raise SystemExit(main())
