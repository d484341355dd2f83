#!/usr/bin/env bash
# The whole test suite, as the README's test command and as CI run it: `bash tests/run.sh`.
#
# On a fresh Debian machine (as root) it installs the system packages the tests need, creates
# .venv with nox in it, then runs every session of noxfile.py, which holds the test matrix
# (`.venv/bin/nox -l` lists the sessions, `.venv/bin/nox -s NAME` runs one): lint, the package's
# build and check, the docs, then for each pass pytest once per database (SQLite with the browser
# tests, SQLite with the test database in files for the worker tests, PostgreSQL and MariaDB)
# and django-import-export's own suite compared with stock on each database. Extra arguments go
# to every pytest run, e.g. `bash tests/run.sh -k concurrency` (and leave DIE's suite out).
#
# The first pass uses `python3` with the newest Django 5.2 and django-import-export. Two more run
# at the ends of the supported range, each in its own venv: `django6` (.venv-django6: Python >=
# 3.12 with the newest Django 6) and `oldest` (.venv-oldest: Python 3.10, Django 5.2,
# django-import-export 4.3). A pass whose Python is not found is skipped, and the summary says so.
# ADMIN_BULK_UPSERT_PASSES names the passes to run (default "django6 oldest"; empty for none);
# ADMIN_BULK_UPSERT_CONFORMANCE=0 leaves DIE's suite out; see noxfile.py for the other variables.
#
# It exits non-zero if anything failed, and its last line is the plain `N passed, N failed,
# N skipped` over all the sessions, summed from their JUnit reports (tests/summary.py), which CI
# reads. A session that failed without reporting a failing test (lint, the build, a crash, a
# timeout) counts as one failure, so that the count is zero exactly when the exit status is.
#
# With CI=true a database that cannot be reached and a missing Chromium fail the run instead of
# skipping tests (tests/conftest.py reads ADMIN_BULK_UPSERT_REQUIRE_DB).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

ARTIFACTS="test-artifacts"
VENV=".venv"
DB_HOST="${ADMIN_BULK_UPSERT_TEST_DB_HOST:-127.0.0.1}"

is_ci() { [[ "${CI:-}" == "true" ]]; }
say() { printf '\n==> %s\n' "$*"; }

deb_installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'; }

install_system_packages() {
    # chromium + chromium-driver: the browser tests drive Debian's Chromium (Playwright must not
    # download one); libmariadb-dev + pkg-config: mysqlclient compiles against them; gettext: the
    # translation test runs makemessages to check that the catalog holds every marked string.
    local wanted=(chromium chromium-driver libmariadb-dev pkg-config gettext pgbouncer)
    # A bare Debian may also lack what building mysqlclient and creating a venv need.
    command -v gcc >/dev/null 2>&1 || wanted+=(gcc)
    if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then wanted+=(python3-venv); fi
    if ! python3 -c 'import os, sysconfig, sys; p = sysconfig.get_paths()["include"]; sys.exit(not os.path.exists(os.path.join(p, "Python.h")))' >/dev/null 2>&1; then
        wanted+=(python3-dev)
    fi
    if ! command -v dpkg >/dev/null 2>&1; then
        echo "dpkg not found: not a Debian machine, install ${wanted[*]} yourself."
        return
    fi
    local missing=() pkg
    for pkg in "${wanted[@]}"; do
        deb_installed "$pkg" || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        echo "System packages present: ${wanted[*]}"
        return
    fi
    if [[ "$(id -u)" != 0 ]]; then
        echo "Missing system packages: ${missing[*]} (not root: run 'apt-get install ${missing[*]}' as root)."
        return
    fi
    say "Installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

reachable() {
    # $1 = name, $2 = port, then the native check command.
    local name="$1" port="$2"
    shift 2
    if command -v "$1" >/dev/null 2>&1; then
        "$@" >/dev/null 2>&1
    else
        # No client tools: a TCP connect at least tells whether something listens.
        timeout 3 bash -c "exec 3<>/dev/tcp/$DB_HOST/$port" >/dev/null 2>&1
    fi
    if (($? == 0)); then
        echo "$name at $DB_HOST:$port is reachable."
    else
        echo "$name at $DB_HOST:$port is NOT reachable: its tests will be skipped" \
            "(a failure under CI=true). This machine is expected to start it itself."
    fi
}

FAILED_STEPS=()

install_system_packages

if is_ci; then
    export ADMIN_BULK_UPSERT_REQUIRE_DB=1
    if [[ ! -x /usr/bin/chromium ]]; then
        echo "CI=true but /usr/bin/chromium is missing: the browser tests cannot run."
        FAILED_STEPS+=("chromium missing")
    fi
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    say "Creating $VENV"
    python3 -m venv "$VENV" || { echo "Could not create $VENV"; echo "0 passed, 1 failed"; exit 1; }
fi
say "pip install nox"
if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check 'nox>=2025.2.9'; then
    echo "pip install nox failed."
    echo "0 passed, 1 failed"
    exit 1
fi

say "Database servers"
reachable PostgreSQL 5432 pg_isready -q -h "$DB_HOST" -p 5432
reachable MariaDB 3306 mariadb-admin --connect-timeout=3 -h "$DB_HOST" -P 3306 -u root ping
# The RQ worker tests (tests/jobs/test_workers.py) need Redis; they skip without it, and fail under
# CI=true (ADMIN_BULK_UPSERT_REQUIRE_DB), as the databases' tests do.
reachable Redis 6379 redis-cli -h "$DB_HOST" -p 6379 ping
export ADMIN_BULK_UPSERT_TEST_REDIS_URL="${ADMIN_BULK_UPSERT_TEST_REDIS_URL:-redis://$DB_HOST:6379/0}"
# The Celery worker tests need RabbitMQ (guest/guest, default virtual host), the same way; they run
# only where django-tasks-celery installs (Python >= 3.12, Django >= 6: the django6 pass) and skip
# elsewhere. rabbitmqctl talks to the local node, not the port, so the port is what is checked.
reachable RabbitMQ 5672 timeout 3 bash -c "exec 3<>/dev/tcp/$DB_HOST/5672"
export ADMIN_BULK_UPSERT_TEST_AMQP_URL="${ADMIN_BULK_UPSERT_TEST_AMQP_URL:-amqp://guest:guest@$DB_HOST:5672//}"

# The sessions tagged "main" (lint, package, docs, tests, conformance), then each pass's.
tags=(main)
for pass in ${ADMIN_BULK_UPSERT_PASSES-django6 oldest}; do
    case "$pass" in
        django6 | oldest) tags+=("$pass") ;;
        *) FAILED_STEPS+=("unknown pass $pass") ;;
    esac
done

mkdir -p "$ARTIFACTS"
REPORT="$ARTIFACTS/nox-report.json"
rm -f "$REPORT"
say "nox -t ${tags[*]}"
"$VENV/bin/nox" --noxfile noxfile.py --report "$REPORT" --tags "${tags[@]}" -- "$@"

summary_args=()
for step in "${FAILED_STEPS[@]}"; do
    summary_args+=(--failed-step "$step")
done
if is_ci; then
    summary_args+=(--require-tests)
fi
"$VENV/bin/python" tests/summary.py "$REPORT" "${summary_args[@]}"
