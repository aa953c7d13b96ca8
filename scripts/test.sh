#!/usr/bin/env bash
# Run the whole test suite against a throwaway PostgreSQL owned by this run (each test process starts a Redis
# of its own through pytest-redis: tests/conftest.py).
#
#   bash scripts/test.sh [pytest args...]      (or: make test ARGS="-k foo")
#
# Installs what it needs (Debian packages via apt-get when missing, Python packages in
# .venv), starts PostgreSQL on 127.0.0.1:$TEST_PG_PORT (default 25432), runs pytest, and always stops it
# again. The default lies below the range the kernel hands out as client ports, so a connection closed a moment
# ago never holds it.
# Exits with pytest's exit code.
#
# Exported to the tests:
#   TEST_DATABASE_URL  CHROMIUM_PATH  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
#   TEST_PG_BINDIR TEST_PG_DATADIR TEST_PG_HOST TEST_PG_PORT TEST_PG_SOCKET_DIR TEST_PG_LOG TEST_PG_RUNAS
#   TEST_CLOCK_AT (only for the reruns of the `clock` tests at 23:30 and 00:30 UTC)
#   TEST_RUN_DIR (temp dir of this run)  TEST_SERVICES (path of scripts/services.sh:
#   `bash "$TEST_SERVICES" pg-stop|pg-start` for fault tests)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$(pwd)"
# shellcheck source=scripts/services.sh
source "$REPO_ROOT/scripts/services.sh"

TEST_PG_HOST=127.0.0.1
TEST_PG_PORT="${TEST_PG_PORT:-25432}"

# ---------------------------------------------------------- 1. Debian packages
say "Checking Debian packages"
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ "$(id -u)" -eq 0 ] && ! command -v runuser >/dev/null 2>&1; then missing+=(util-linux); fi
if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
else
    say "Debian packages present"
fi

# ------------------------------------------------------- 2. Python + catalogs
ensure_venv requirements-dev.txt
compile_translations

# ------------------------------------------------------------- 3. services
TEST_PG_BINDIR="$(pg_bindir)" || die "PostgreSQL initdb not found under /usr/lib/postgresql/*/bin"
CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "user 'postgres' missing (it comes with the postgresql package)"
    TEST_PG_RUNAS=postgres
else
    TEST_PG_RUNAS=
fi

# A marker per port remembers the run that owns the ports, so a run that was
# killed hard (SIGKILL) leaves nothing that blocks the next one.
MARKER="${TMPDIR:-/tmp}/consultation-portal-test.$TEST_PG_PORT"
if [ -f "$MARKER" ]; then
    read -r old_pid old_dir <"$MARKER" || true
    if [ -n "${old_pid:-}" ] && kill -0 "$old_pid" 2>/dev/null &&
        grep -q 'test.sh' "/proc/$old_pid/cmdline" 2>/dev/null; then
        die "another test run (pid $old_pid) uses port $TEST_PG_PORT; set TEST_PG_PORT"
    fi
    if [ -n "${old_dir:-}" ] && [ -d "$old_dir" ]; then
        say "Cleaning up leftovers of an earlier run in $old_dir"
        (
            TEST_PG_DATADIR="$old_dir/pg/data"
            pg_stop immediate
        )
        rm -rf "$old_dir"
    fi
    rm -f "$MARKER"
fi

if "$TEST_PG_BINDIR/pg_isready" -q -h "$TEST_PG_HOST" -p "$TEST_PG_PORT" >/dev/null 2>&1 ||
    [ $? -eq 1 ]; then
    die "port $TEST_PG_HOST:$TEST_PG_PORT is already in use; set TEST_PG_PORT to a free port"
fi

TEST_RUN_DIR="$(mktemp -d "${TEST_TMPDIR:-/tmp}/portal-test.XXXXXX")"
chmod 755 "$TEST_RUN_DIR"
printf '%s %s\n' "$$" "$TEST_RUN_DIR" >"$MARKER"

cleaned=
cleanup() {
    [ -z "$cleaned" ] || return 0
    cleaned=1
    set +e
    say "Stopping throwaway services"
    pg_stop immediate
    rm -rf "$TEST_RUN_DIR"
    if [ -f "$MARKER" ] && [ "$(cut -d' ' -f1 "$MARKER")" = "$$" ]; then rm -f "$MARKER"; fi
    say "Cleaned up $TEST_RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$TEST_RUN_DIR/pg"
[ -z "$TEST_PG_RUNAS" ] || chown "$TEST_PG_RUNAS": "$TEST_RUN_DIR/pg"
TEST_PG_DATADIR="$TEST_RUN_DIR/pg/data"
TEST_PG_SOCKET_DIR="$TEST_RUN_DIR/pg"
TEST_PG_LOG="$TEST_RUN_DIR/pg/postgresql.log"
TEST_SERVICES="$REPO_ROOT/scripts/services.sh"

export TEST_RUN_DIR TEST_SERVICES \
    TEST_PG_BINDIR TEST_PG_DATADIR TEST_PG_HOST TEST_PG_PORT TEST_PG_SOCKET_DIR TEST_PG_LOG TEST_PG_RUNAS

pg_init
pg_start

export TEST_DATABASE_URL="postgresql://postgres@$TEST_PG_HOST:$TEST_PG_PORT/postgres"
export CHROMIUM_PATH
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

say "TEST_DATABASE_URL=$TEST_DATABASE_URL"
say "CHROMIUM_PATH=$CHROMIUM_PATH"

# ------------------------------------------------------------------ 4. pytest
set +e
if [ "$#" -gt 0 ]; then
    say "Running pytest $*"
    "$VENV_DIR/bin/python" -m pytest "$@"
    rc=$?
else
    # The unit tests first, with no database or Redis in sight: they must pass on a bare virtualenv.
    say "Running pytest: the unit tests, without PostgreSQL or Redis"
    env -u TEST_DATABASE_URL -u DATABASE_URL -u REDIS_URL \
        "$VENV_DIR/bin/python" -m pytest tests/unit -p no:cacheprovider -q
    rc0=$?
    # Two cores: most tests run on two xdist workers; the fault and load tests (marked serial) run
    # afterwards on their own, so the timing they depend on is not disturbed by other tests.
    say "Running pytest: all other tests but the serial ones, on 2 workers"
    "$VENV_DIR/bin/python" -m pytest -n 2 -m "not serial" --ignore=tests/unit -p no:cacheprovider
    rc1=$?
    [ "$rc1" -eq 0 ] && rc1=$rc0
    say "Running pytest: the serial fault and load tests"
    "$VENV_DIR/bin/python" -m pytest -m serial -p no:cacheprovider
    rc2=$?
    rc=$rc1
    [ "$rc" -eq 0 ] && rc=$rc2
    # The tests that build times from the running clock, again as if it were just before and just after
    # midnight UTC (tests/conftest.py: TEST_CLOCK_AT): the suite must pass at any hour.
    for clock_at in 23:30 00:30; do
        say "Running pytest: the clock-dependent tests with the clock starting at $clock_at UTC"
        TEST_CLOCK_AT="$clock_at" "$VENV_DIR/bin/python" -m pytest -n 2 -m "clock and not serial" -p no:cacheprovider -q
        rc3=$?
        [ "$rc" -eq 0 ] && rc=$rc3
    done
fi
set -e
say "pytest exited with code $rc"
exit "$rc"
