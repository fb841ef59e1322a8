#!/usr/bin/env bash
# Make sure the PostgreSQL server binaries (initdb, pg_ctl) are on this machine, for the `postgres` tests
# (tests/e2e/test_many_merchants.py start a throw-away cluster of their own and stop it again).
# Idempotent: does nothing when PostgreSQL is already installed. Installs the Debian/Ubuntu package
# `postgresql` with apt-get when run as root (or with sudo); it starts no server and creates no database
# this script relies on. Elsewhere it only says what to install, and the tests skip with that reason.
set -euo pipefail

have_postgres() {
    command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1 && return 0
    compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}

if have_postgres; then
    echo "PostgreSQL server binaries present."
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL is not installed and this is not a Debian-like system: install the PostgreSQL server" \
         "(initdb, pg_ctl) with your package manager, or the postgres tests will be skipped." >&2
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "PostgreSQL is not installed; run as root: apt-get install postgresql" \
             "(without it the postgres tests are skipped)." >&2
        exit 0
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
have_postgres && echo "PostgreSQL installed."
