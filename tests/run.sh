#!/usr/bin/env bash
# The whole test suite, as the README's test command and as CI run it: `bash tests/run.sh`.
#
# On a fresh Debian machine (as root) it installs what the tests need, creates .venv, installs the
# package with its test extra, lints, then runs pytest once per database: SQLite (with the browser
# tests), PostgreSQL and MariaDB (without them). Extra arguments go to every pytest run, e.g.
# `bash tests/run.sh -k concurrency`. The tests that start real worker processes
# (tests/jobs/test_workers*.py: db_worker, RQ on Redis at 127.0.0.1:6379, and Celery on RabbitMQ at
# 127.0.0.1:5672 where django-tasks-celery installs: the django6 pass) run in each of them,
# and once more on SQLite with the test database in files (run "sqlite-files"), since a worker
# process cannot open SQLite's in-memory test database; the browser test with a real db_worker
# (tests/browser/test_job_worker.py) runs in that run only.
#
# After each pass's pytest runs, django-import-export's own test suite runs on each database three
# ways (stock, BulkUpsertResource, BulkUpsertAdminMixin) and is compared per test with stock
# (tests/upstream/run.py; ADMIN_BULK_UPSERT_CONFORMANCE=0 turns it off, extra arguments skip it).
#
# That first pass uses `python3` with the newest Django 5.2 and django-import-export. Two more
# passes run the same three databases at the ends of the supported range, each in its own venv:
# `django6` (.venv-django6: Python >= 3.12, which Django 6 needs, with the newest Django 6) and
# `oldest` (.venv-oldest: Python 3.10, Django 5.2, django-import-export 4.3). A pass whose Python
# is not found (see find_python) is skipped, and the summary says so. ADMIN_BULK_UPSERT_PASSES
# names the passes to run (default "django6 oldest"; empty for none);
# ADMIN_BULK_UPSERT_PYTHON_DJANGO6 and ADMIN_BULK_UPSERT_PYTHON_OLDEST name an interpreter to try
# first.
#
# It exits non-zero if anything failed, and its last line is the plain `N passed, N failed,
# N skipped` over all the runs, which CI reads. A failed lint step or a pytest run that ended
# without reporting a failing test (crash, usage error, timeout) counts as one failure, so that the
# count is zero exactly when the exit status is.
#
# With CI=true a database that cannot be reached and a missing Chromium fail the run instead of
# skipping tests (tests/conftest.py reads ADMIN_BULK_UPSERT_REQUIRE_DB).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Each pytest run is capped so that the whole script stays well inside CI's 90 minutes.
RUN_TIMEOUT="${ADMIN_BULK_UPSERT_RUN_TIMEOUT:-1200}"
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
# Failures no test report counts (lint, a crashed or timed-out run, no Chromium under CI).
STEP_FAILURES=0
PASSED=0
FAILED=0
SKIPPED=0

step_failed() {
    FAILED_STEPS+=("$1")
    STEP_FAILURES=$((STEP_FAILURES + 1))
}

lint() {
    say "ruff check / ruff format --check"
    "$VENV/bin/ruff" check admin_bulk_upsert tests demo_site || step_failed "ruff check"
    "$VENV/bin/ruff" format --check admin_bulk_upsert tests demo_site ||
        step_failed "ruff format --check"
}

# Adds a junitxml report's counts to the totals; prints "passed failed skipped".
junit_counts() {
    "$VENV/bin/python" - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = failures = errors = skipped = 0
for suite in suites:
    tests += int(suite.get("tests", 0))
    failures += int(suite.get("failures", 0))
    errors += int(suite.get("errors", 0))
    skipped += int(suite.get("skipped", 0))
print(max(tests - failures - errors - skipped, 0), failures + errors, skipped)
EOF
}

# run_pytest VENV DB [pytest arguments]; DB "sqlite-files" is SQLite, under its own report name.
run_pytest() {
    local venv="$1" db="$2"
    shift 2
    local label="$db" report="$ARTIFACTS/junit-$db.xml"
    if [[ "$venv" != "$VENV" ]]; then
        label="$db; $(versions "$venv")"
        report="$ARTIFACTS/junit-$db-${venv#.venv-}.xml"
    fi
    rm -f "$report"
    say "pytest on $label"
    # SIGINT first so pytest still writes its report and shows where it was.
    ADMIN_BULK_UPSERT_TEST_DB="${db%-files}" timeout --signal=INT --kill-after=60 "$RUN_TIMEOUT" \
        "$venv/bin/python" -m pytest -p no:cacheprovider --junitxml="$report" "$@"
    local status=$?
    local passed=0 failed=0 skipped=0
    if [[ -s "$report" ]]; then
        read -r passed failed skipped < <(junit_counts "$report")
    fi
    PASSED=$((PASSED + passed))
    FAILED=$((FAILED + failed))
    SKIPPED=$((SKIPPED + skipped))
    case "$status" in
        0) ;;
        5) echo "pytest on $label selected no test." ;;  # e.g. -k matching only browser tests
        124)
            echo "pytest on $label timed out after ${RUN_TIMEOUT}s."
            step_failed "pytest on $label (timed out)"
            ;;
        *)
            if ((failed == 0)); then
                step_failed "pytest on $label (exit $status, no test reported failing)"
            else
                FAILED_STEPS+=("pytest on $label ($failed failed)")
            fi
            ;;
    esac
}

# run_conformance VENV DB: django-import-export's own test suite, from the sdist of the installed
# version, on stock DIE, with BulkUpsertResource and with BulkUpsertAdminMixin (tests/upstream). Each
# of the two comparisons with stock counts as one passed or failed step.
run_conformance() {
    local venv="$1" db="$2"
    local label="$db" log="$ARTIFACTS/conformance-$db.txt"
    if [[ "$venv" != "$VENV" ]]; then
        label="$db; $(versions "$venv")"
        log="$ARTIFACTS/conformance-$db-${venv#.venv-}.txt"
    fi
    say "django-import-export's own tests on $label (tests/upstream)"
    timeout --kill-after=60 "$RUN_TIMEOUT" "$venv/bin/python" -m tests.upstream.run --db "$db" |
        tee "$log"
    local status="${PIPESTATUS[0]}"
    local passed failed skipped
    passed="$(grep -c '^ok ' "$log")"
    failed="$(grep -c '^FAILED ' "$log")"
    skipped="$(grep -c '^skipped ' "$log")"
    PASSED=$((PASSED + passed))
    FAILED=$((FAILED + failed))
    SKIPPED=$((SKIPPED + skipped))
    if ((failed > 0)); then
        FAILED_STEPS+=("DIE's own tests on $label ($failed of 2 runs failed or differ from stock)")
    elif ((status != 0 || passed + skipped == 0)); then
        step_failed "DIE's own tests on $label (exit $status)"
    fi
}

# "Python 3.x.y, Django x.y.z, django-import-export x.y.z" of a venv.
versions() {
    "$1/bin/python" -c 'import sys, django, import_export as ie
print(f"Python {sys.version.split()[0]}, Django {django.get_version()}, DIE {ie.__version__}")' \
        2>/dev/null || echo "versions unknown"
}

# find_python MIN MAX [NAMED]: the first interpreter found whose version is at least MIN and below
# MAX (e.g. 3.12 4): NAMED if given, python3.13 down to python3.10 on the PATH, then the versions
# pyenv has installed, newest first (pyenv's shims run only the versions it is told to, so its
# versions are asked for by path).
find_python() {
    local min="$1" max="$2" candidate
    local candidates=("${3:-}" python3.13 python3.12 python3.11 python3.10)
    if command -v pyenv >/dev/null 2>&1; then
        local root
        root="$(pyenv root 2>/dev/null)"
        while IFS= read -r candidate; do
            candidates+=("$candidate")
        done < <(ls -d "$root"/versions/3.*/bin/python3 2>/dev/null | sort -rV)
    fi
    local check="import sys; v = sys.version_info[:2]
sys.exit(not (tuple(map(int, '$min'.split('.'))) <= v < tuple(map(int, '$max'.split('.')))))"
    for candidate in "${candidates[@]}"; do
        [[ -n "$candidate" ]] || continue
        if "$candidate" -c "$check" >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# prepare_pass NAME: creates .venv-NAME for one of the extra passes; 1 if it cannot be done.
prepare_pass() {
    local name="$1" min max named specs=()
    case "$name" in
        django6)
            min=3.12 max=4 named="${ADMIN_BULK_UPSERT_PYTHON_DJANGO6:-}"
            specs=('django>=6,<7')
            ;;
        oldest)
            min=3.10 max=3.11 named="${ADMIN_BULK_UPSERT_PYTHON_OLDEST:-}"
            specs=('django>=5.2,<5.3' 'django-import-export>=4.3,<4.4')
            ;;
        *)
            step_failed "unknown pass $name"
            return 1
            ;;
    esac
    local python venv=".venv-$name"
    if ! python="$(find_python "$min" "$max" "$named")"; then
        NOTES+=("Pass $name skipped: no Python >= $min and < $max found.")
        return 1
    fi
    say "Pass $name: $venv with $("$python" --version 2>&1), ${specs[*]}"
    if [[ ! -x "$venv/bin/python" ]] && ! "$python" -m venv "$venv"; then
        step_failed "creating $venv"
        return 1
    fi
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -e '.[test,conformance]' "${specs[@]}"; then
        step_failed "pip install in $venv"
        return 1
    fi
}

NOTES=()

install_system_packages

if is_ci; then
    export ADMIN_BULK_UPSERT_REQUIRE_DB=1
    if [[ ! -x /usr/bin/chromium ]]; then
        echo "CI=true but /usr/bin/chromium is missing: the browser tests cannot run."
        step_failed "chromium missing"
    fi
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    say "Creating $VENV"
    python3 -m venv "$VENV" || { echo "Could not create $VENV"; echo "0 passed, 1 failed"; exit 1; }
fi
say "pip install -e '.[test,conformance]'"
if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test,conformance]'; then
    echo "pip install failed."
    echo "0 passed, 1 failed"
    exit 1
fi

mkdir -p "$ARTIFACTS"
lint

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

# The caller's arguments come last, so a caller's own -m wins over ours.
run_all() {
    local venv="$1" db
    shift
    run_pytest "$venv" sqlite "$@"
    # The worker tests again on SQLite, with the test database in files a worker process can open
    # (in memory they skip): see tests/settings.py. The browser tests with a real db_worker
    # (tests/browser/test_job_worker.py, test_revert_worker.py) run only here: the other
    # databases' runs leave out the browser tests.
    local sqlite_dir
    sqlite_dir="$(mktemp -d)"
    ADMIN_BULK_UPSERT_TEST_SQLITE_DIR="$sqlite_dir" run_pytest "$venv" sqlite-files \
        tests/jobs/test_workers*.py tests/browser/test_job_worker.py \
        tests/browser/test_revert_worker.py "$@"
    rm -rf "$sqlite_dir"
    run_pytest "$venv" postgresql -m "not browser" "$@"
    run_pytest "$venv" mariadb -m "not browser" "$@"
    # Only for a whole run: extra arguments select some of our own tests.
    if (($# == 0)) && [[ "${ADMIN_BULK_UPSERT_CONFORMANCE:-1}" == 1 ]]; then
        for db in sqlite postgresql mariadb; do
            run_conformance "$venv" "$db"
        done
    fi
}

run_all "$VENV" "$@"
for pass in ${ADMIN_BULK_UPSERT_PASSES-django6 oldest}; do
    if prepare_pass "$pass"; then
        run_all ".venv-$pass" "$@"
    fi
done

if ((PASSED + FAILED == 0)) && is_ci; then
    # A green CI run that tested nothing would hide a broken collection.
    step_failed "no test ran"
fi
FAILED=$((FAILED + STEP_FAILURES))

say "Summary"
for note in "${NOTES[@]}"; do
    echo "$note"
done
for step in "${FAILED_STEPS[@]}"; do
    echo "FAILED: $step"
done
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
((FAILED == 0 && ${#FAILED_STEPS[@]} == 0))
