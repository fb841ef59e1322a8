"""The per-merchant run lock (`billbee-wemalo-lock`, meltano.yml's `billbee-wemalo-reconcile:lock/unlock`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from billbee_wemalo.lock import HELD, OK, Merchant, Owner, SyncLock, main

SHOP_A = Merchant("https://app.billbee.io/api/v1", "a@shop-a.example", "https://connect.wemalo.com/v1")
SHOP_B = Merchant("https://app.billbee.io/api/v1", "b@shop-b.example", "https://connect.wemalo.com/v1")


@pytest.fixture
def sleeper() -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def dead_owner() -> Owner:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    owner = Owner.of(proc.pid)
    proc.wait()
    return owner


def test_a_live_owner_keeps_the_lock_and_the_second_run_gets_one_clear_line(tmp_path: Path,
                                                                          sleeper: subprocess.Popen[bytes]) -> None:
    lock = SyncLock(tmp_path, SHOP_A)
    assert lock.acquire(Owner.of(sleeper.pid))[0]
    ok, line = lock.acquire(Owner.of(os.getpid()))
    assert not ok
    assert line.startswith("another sync for Billbee user a@shop-a.example at app.billbee.io with wemalo at "
                           "connect.wemalo.com is running since ")
    assert f"pid {sleeper.pid}" in line
    assert "\n" not in line
    assert json.loads(lock.path.read_text())["pid"] == sleeper.pid
    assert lock.acquire(Owner.of(sleeper.pid))[0]  # the owner itself may take it again


def test_a_lock_left_by_a_killed_run_is_taken_over_with_a_log_line(tmp_path: Path) -> None:
    lock = SyncLock(tmp_path, SHOP_A)
    killed = dead_owner()
    assert lock.acquire(killed)[0]
    me = Owner.of(os.getpid())
    ok, line = lock.acquire(me)
    assert ok
    assert f"took over the lock of a run that ended without releasing it (pid {killed.pid}" in line
    assert json.loads(lock.path.read_text())["pid"] == os.getpid()


def test_a_zombie_owner_counts_as_dead(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    lock = SyncLock(tmp_path, SHOP_A)
    owner = Owner.of(proc.pid)
    assert lock.acquire(owner)[0]
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: a zombie
    try:
        assert not owner.alive()
        assert lock.acquire(Owner.of(os.getpid()))[0]
    finally:
        proc.wait()


def test_a_reused_pid_is_not_the_owner(tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    """The recorded owner had the pid of a process alive now, but started at another time."""
    lock = SyncLock(tmp_path, SHOP_A)
    now = Owner.of(sleeper.pid)
    earlier = Owner(sleeper.pid, now.start_ticks - 1000, now.boot_id)
    assert lock.acquire(earlier)[0]
    assert now.alive()
    assert not earlier.alive()
    ok, line = lock.acquire(Owner.of(os.getpid()))
    assert ok
    assert "took over" in line
    rebooted = Owner(sleeper.pid, now.start_ticks, "another-boot")
    assert not rebooted.alive()


def test_setting_the_clock_does_not_make_the_owner_a_stranger(tmp_path: Path, sleeper: subprocess.Popen[bytes],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """psutil's create_time() and boot_time() both move with the system clock; the start after boot does not."""
    lock = SyncLock(tmp_path, SHOP_A)
    owner = Owner.of(sleeper.pid)
    assert lock.acquire(owner)[0]
    boot_time, create_time = psutil.boot_time, psutil.Process.create_time
    monkeypatch.setattr(psutil, "boot_time", lambda: boot_time() + 3600)
    monkeypatch.setattr(psutil.Process, "create_time", lambda self: create_time(self) + 3600)
    assert Owner.of(sleeper.pid).same_as(owner)
    assert owner.alive()
    assert not lock.acquire(Owner.of(os.getpid()))[0]
    # The pid's process started 10 s later than the recorded one: another process that got the pid.
    monkeypatch.setattr(psutil.Process, "create_time", lambda self: create_time(self) + 3610)
    assert not owner.alive()
    assert lock.acquire(Owner.of(os.getpid()))[0]


def test_an_owner_whose_start_may_not_be_read_is_respected(tmp_path: Path, sleeper: subprocess.Popen[bytes],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    lock = SyncLock(tmp_path, SHOP_A)
    owner = Owner.of(sleeper.pid)
    assert lock.acquire(owner)[0]

    def denied(self: psutil.Process) -> str:
        raise psutil.AccessDenied(self.pid)

    monkeypatch.setattr(psutil.Process, "status", denied)
    assert Owner.of(sleeper.pid).start_ticks is None
    assert owner.alive()
    assert not lock.acquire(Owner.of(os.getpid()))[0]
    assert not Owner(-1, owner.start_ticks, owner.boot_id).alive()  # a pid no process can have (corrupt file)


def test_release_removes_only_the_own_lock(tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    lock = SyncLock(tmp_path, SHOP_A)
    other = Owner.of(sleeper.pid)
    assert lock.acquire(other)[0]
    line = lock.release(Owner.of(os.getpid()))
    assert "not to this run" in line
    assert lock.path.exists()
    assert "released" in lock.release(other)
    assert not lock.path.exists()
    assert "no lock" in lock.release(other)


def test_merchants_have_separate_locks_and_the_key_ignores_spelling(tmp_path: Path,
                                                                  sleeper: subprocess.Popen[bytes]) -> None:
    assert SyncLock(tmp_path, SHOP_A).acquire(Owner.of(sleeper.pid))[0]
    assert SyncLock(tmp_path, SHOP_B).acquire(Owner.of(os.getpid()))[0]
    other_wemalo = Merchant(SHOP_A.billbee_api_url, SHOP_A.billbee_username, "http://127.0.0.1:9/v1")
    other_billbee = Merchant("http://127.0.0.1:8/api/v1", SHOP_A.billbee_username, SHOP_A.wemalo_api_url)
    assert len({SHOP_A.key, SHOP_B.key, other_wemalo.key, other_billbee.key}) == 4
    spelled = Merchant("HTTPS://app.billbee.io/api/v1/", " A@Shop-A.example", "https://connect.wemalo.com/v1/")
    assert spelled.key == SHOP_A.key


def test_no_secret_in_file_name_or_content(tmp_path: Path) -> None:
    env = {"TAP_BILLBEE_USERNAME": "a@shop-a.example", "TAP_BILLBEE_PASSWORD": "pw-SECRET-1",
           "TAP_BILLBEE_API_KEY": "key-SECRET-2", "TARGET_WEMALO_TOKEN": "tok-SECRET-3",
           "BILLBEE_WEMALO_RECONCILE_LOCK_DIR": str(tmp_path)}
    assert main(["acquire", "--owner-pid", str(os.getpid())], env) == OK
    for path in tmp_path.iterdir():
        assert "SECRET" not in path.name
        assert "SECRET" not in path.read_text()
        assert "shop-a" not in path.read_text()


def test_the_command_takes_its_parent_as_owner_and_exits_3_when_held(tmp_path: Path,
                                                                    sleeper: subprocess.Popen[bytes]) -> None:
    env = {**os.environ, "MELTANO_PROJECT_ROOT": str(tmp_path), "TAP_BILLBEE_USERNAME": "a@shop-a.example"}
    env.pop("BILLBEE_WEMALO_RECONCILE_LOCK_DIR", None)
    run = [sys.executable, "-m", "billbee_wemalo.lock"]
    first = subprocess.run([*run, "acquire"], env=env, capture_output=True, text=True, check=False)
    assert first.returncode == OK, first.stderr
    (path,) = (tmp_path / ".meltano" / "locks").glob("*.lock")
    assert json.loads(path.read_text())["pid"] == os.getpid()  # this test process ran it: the parent
    held = main(["acquire", "--owner-pid", str(sleeper.pid)], {**env, "TAP_BILLBEE_USERNAME": "a@shop-a.example"})
    assert held == HELD
    assert subprocess.run([*run, "release"], env=env, check=False).returncode == OK
    assert not path.exists()
