"""A throw-away PostgreSQL cluster for tests: `initdb` in a temporary folder, `pg_ctl` on a free port of
127.0.0.1, password authentication, removed at the end. Nothing is installed here: the binaries come from
the Debian package `postgresql` (see scripts/ensure_postgres.sh). As root, the server runs as the `postgres`
user (via `runuser`), because PostgreSQL refuses to run as root."""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started on this machine (the reason is the message)."""


def find_bindir() -> Path:
    """The folder of `initdb`/`pg_ctl`: on PATH, else Debian's /usr/lib/postgresql/<newest>/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    versions = sorted((p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "pg_ctl").exists()),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not versions:
        raise PostgresUnavailable("PostgreSQL is not installed (no initdb/pg_ctl on PATH or in "
                                  "/usr/lib/postgresql/*/bin); run scripts/ensure_postgres.sh")
    return versions[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    bindir: Path
    folder: Path
    port: int
    user: str
    password: str
    run_as: list[str]

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.run_as, *args], capture_output=True, text=True, timeout=timeout, check=False)

    def uri(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        import psycopg  # a requirement (requirements-dev.txt): Meltano needs it for postgresql+psycopg://

        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def log_tail(self) -> str:
        log = self.folder / "server.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    bindir = find_bindir()
    run_as: list[str] = []
    owner = None
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable("running as root, and there is no `postgres` user to run the server") from None
        if not runuser:
            raise PostgresUnavailable("running as root, and `runuser` is missing")
        run_as = [runuser, "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="connector-pg-"))
    password = secrets.token_urlsafe(18)
    cluster = Cluster(bindir, folder, free_port(), "meltano", password, run_as)
    try:
        (folder / "pwfile").write_text(password + "\n")
        if owner is not None:
            for path in (folder, folder / "pwfile"):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        init = cluster._run(str(bindir / "initdb"), "-D", str(cluster.data), "-U", cluster.user,
                            "--pwfile", str(folder / "pwfile"), "-A", "scram-sha-256", "-E", "UTF8", "--locale=C")
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {(init.stdout + init.stderr)[-1500:]}")
        options = (f"-c listen_addresses=127.0.0.1 -c port={cluster.port} -c unix_socket_directories={folder} "
                   "-c max_connections=200 -c fsync=off")
        start = cluster._run(str(bindir / "pg_ctl"), "-D", str(cluster.data), "-l", str(folder / "server.log"),
                             "-o", options, "-w", "-t", "60", "start")
        if start.returncode != 0:
            raise PostgresUnavailable(f"pg_ctl start failed: {(start.stdout + start.stderr)[-800:]}\n"
                                      f"{cluster.log_tail()}")
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            cluster._run(str(bindir / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def cluster_or_skip() -> Iterator[Cluster]:
    """The body of a `postgres` fixture: a throw-away cluster, or the test skipped with the reason."""
    try:
        with throwaway_cluster() as cluster:
            yield cluster
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL cannot be started here: {exc}")
