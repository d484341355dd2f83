#!/usr/bin/env bash
# The whole test suite, as the README's test command and as CI run it: `bash tests/run.sh`.
#
# On a fresh Debian machine (as root) it installs what the tests need, creates .venv, installs the
# package with its test extra, lints, then runs pytest once per database: SQLite (with the browser
# tests), PostgreSQL and MariaDB (without them). Extra arguments go to every pytest run, e.g.
# `bash tests/run.sh -k concurrency`.
#
# That first pass uses `python3` and the newest Django 5.2. The supported Django 6.x needs Python
# 3.12 or later: when one is found (see django6_python below), a second pass runs the same three
# databases in .venv-django6 with the newest Django 6. Without such a Python that pass is skipped,
# and the summary says so. ADMIN_BULK_UPSERT_DJANGO6=0 leaves it out.
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
VENV_DJANGO6=".venv-django6"
DB_HOST="${ADMIN_BULK_UPSERT_TEST_DB_HOST:-127.0.0.1}"

is_ci() { [[ "${CI:-}" == "true" ]]; }
say() { printf '\n==> %s\n' "$*"; }

deb_installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'; }

install_system_packages() {
    # chromium + chromium-driver: the browser tests drive Debian's Chromium (Playwright must not
    # download one); libmariadb-dev + pkg-config: mysqlclient compiles against them.
    local wanted=(chromium chromium-driver libmariadb-dev pkg-config)
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

# run_pytest VENV DB [pytest arguments]
run_pytest() {
    local venv="$1" db="$2"
    shift 2
    local label="$db" report="$ARTIFACTS/junit-$db.xml"
    if [[ "$venv" != "$VENV" ]]; then
        label="$db, $(django_version "$venv")"
        report="$ARTIFACTS/junit-$db-${venv#.venv-}.xml"
    fi
    rm -f "$report"
    say "pytest on $label"
    # SIGINT first so pytest still writes its report and shows where it was.
    ADMIN_BULK_UPSERT_TEST_DB="$db" timeout --signal=INT --kill-after=60 "$RUN_TIMEOUT" \
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

django_version() {
    "$1/bin/python" -c 'import django; print("Django", django.get_version())' 2>/dev/null ||
        echo "Django ?"
}

# The first interpreter found that is Python 3.12 or later: the one named by
# ADMIN_BULK_UPSERT_DJANGO6_PYTHON, python3.13 or python3.12 on the PATH, or the newest that pyenv
# has installed (pyenv's shims run only the versions it is told to, so its versions are asked for
# by path).
django6_python() {
    local candidate candidates=("${ADMIN_BULK_UPSERT_DJANGO6_PYTHON:-}" python3.13 python3.12)
    if command -v pyenv >/dev/null 2>&1; then
        local root
        root="$(pyenv root 2>/dev/null)"
        while IFS= read -r candidate; do
            candidates+=("$candidate")
        done < <(ls -d "$root"/versions/3.*/bin/python3 2>/dev/null | sort -rV)
    fi
    for candidate in "${candidates[@]}"; do
        [[ -n "$candidate" ]] || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# Creates .venv-django6 with the newest Django 6 and the test extra; 1 if that cannot be done.
prepare_django6() {
    local python
    if ! python="$(django6_python)"; then
        NOTES+=("Django 6 pass skipped: no Python >= 3.12 found (set ADMIN_BULK_UPSERT_DJANGO6_PYTHON).")
        return 1
    fi
    say "Django 6: $VENV_DJANGO6 with $("$python" --version 2>&1)"
    if [[ ! -x "$VENV_DJANGO6/bin/python" ]] && ! "$python" -m venv "$VENV_DJANGO6"; then
        step_failed "creating $VENV_DJANGO6"
        return 1
    fi
    if ! "$VENV_DJANGO6/bin/python" -m pip install --quiet --disable-pip-version-check \
        -e '.[test]' 'django>=6,<7'; then
        step_failed "pip install in $VENV_DJANGO6"
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
say "pip install -e '.[test]'"
if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'; then
    echo "pip install failed."
    echo "0 passed, 1 failed"
    exit 1
fi

mkdir -p "$ARTIFACTS"
lint

say "Database servers"
reachable PostgreSQL 5432 pg_isready -q -h "$DB_HOST" -p 5432
reachable MariaDB 3306 mariadb-admin --connect-timeout=3 -h "$DB_HOST" -P 3306 -u root ping

# The caller's arguments come last, so a caller's own -m wins over ours.
run_all() {
    local venv="$1"
    shift
    run_pytest "$venv" sqlite "$@"
    run_pytest "$venv" postgresql -m "not browser" "$@"
    run_pytest "$venv" mariadb -m "not browser" "$@"
}

run_all "$VENV" "$@"
if [[ "${ADMIN_BULK_UPSERT_DJANGO6:-1}" != 0 ]] && prepare_django6; then
    run_all "$VENV_DJANGO6" "$@"
fi

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
