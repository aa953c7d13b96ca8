#!/usr/bin/env bash
# The load benchmark (make bench): realistic data, gunicorn with 2 workers, wrk at concurrency 16.
#
#   bash bench/run.sh [bench.run options, e.g. --seconds 5 --skip-writes]
#   bash bench/run.sh --scale 10            # 10× the data (also: BENCH_SCALE=10, make bench ARGS="--scale 10")
#
# Database and Redis, one of:
#   - DATABASE_URL and REDIS_URL in the environment: used as they are. The database must be empty
#     (it is filled by bench/generate.py), or set BENCH_RESET=1 to drop and recreate its public schema,
#     or BENCH_REUSE=1 to measure data generated earlier (times are relative to the generation).
#   - otherwise a throwaway PostgreSQL and Redis are started on 127.0.0.1:$BENCH_PG_PORT and :$BENCH_REDIS_PORT
#     (free ports by default) with the functions of scripts/services.sh, and removed at the end.
#     Unlike the test cluster, this one keeps fsync and synchronous commit on, as production does.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$(pwd)"

# --scale N (or BENCH_SCALE=N): the data generated is N times the standard size, and bench.run scales the
# size-dependent parts of the measurement with it. The option is read here and passed on to both.
args=("$@")
for i in "${!args[@]}"; do
    case "${args[$i]}" in
        --scale=*) BENCH_SCALE="${args[$i]#--scale=}" ;;
        --scale) BENCH_SCALE="${args[$((i + 1))]:-}" ;;
    esac
done
export BENCH_SCALE="${BENCH_SCALE:-1}"
[[ "$BENCH_SCALE" =~ ^[1-9][0-9]*$ ]] || { echo "ERROR: --scale must be a whole number of 1 or more" >&2; exit 2; }
# shellcheck source=scripts/services.sh
source "$REPO_ROOT/scripts/services.sh"

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
fi
if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
ensure_venv requirements.txt
compile_translations

# A free local port: the one asked for, or one the kernel picks.
free_port() {
    if [ -n "${1:-}" ]; then printf '%s\n' "$1"; return; fi
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

BENCH_TMP=
cleanup() {
    set +e
    if [ -n "$BENCH_TMP" ]; then
        say "Stopping the benchmark's PostgreSQL and Redis"
        redis_stop
        pg_stop immediate
        rm -rf "$BENCH_TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${DATABASE_URL:-}" ] && [ -n "${REDIS_URL:-}" ]; then
    say "Using DATABASE_URL and REDIS_URL from the environment"
else
    BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/portal-bench.XXXXXX")"
    chmod 755 "$BENCH_TMP"
    mkdir -p "$BENCH_TMP/pg" "$BENCH_TMP/redis"
    TEST_PG_BINDIR="$(pg_bindir)" || die "PostgreSQL initdb not found under /usr/lib/postgresql/*/bin"
    TEST_PG_HOST=127.0.0.1
    TEST_PG_PORT="$(free_port "${BENCH_PG_PORT:-}")"
    TEST_PG_DATADIR="$BENCH_TMP/pg/data"
    TEST_PG_SOCKET_DIR="$BENCH_TMP/pg"
    TEST_PG_LOG="$BENCH_TMP/pg/postgresql.log"
    TEST_PG_RUNAS=
    if [ "$(id -u)" -eq 0 ]; then
        TEST_PG_RUNAS=postgres
        chown postgres: "$BENCH_TMP/pg"
    fi
    TEST_REDIS_SERVER="$(command -v redis-server)"
    TEST_REDIS_HOST=127.0.0.1
    TEST_REDIS_PORT="$(free_port "${BENCH_REDIS_PORT:-}")"
    TEST_REDIS_DIR="$BENCH_TMP/redis"
    TEST_REDIS_PIDFILE="$BENCH_TMP/redis/redis.pid"
    pg_init
    # Production durability: the write scenario must pay for real commits.
    _as_pg tee -a "$TEST_PG_DATADIR/postgresql.conf" >/dev/null <<EOF
fsync = on
full_page_writes = on
synchronous_commit = on
EOF
    pg_start
    redis_start
    export DATABASE_URL="postgresql://postgres@$TEST_PG_HOST:$TEST_PG_PORT/postgres"
    export REDIS_URL="redis://$TEST_REDIS_HOST:$TEST_REDIS_PORT/0"
fi

started=$SECONDS
if [ "${BENCH_REUSE:-}" = 1 ]; then
    say "Reusing the data already in the database"
else
    say "Generating the data set (scale $BENCH_SCALE)"
    reset=()
    [ "${BENCH_RESET:-}" != 1 ] || reset=(--reset)
    "$VENV_DIR/bin/python" -m bench.generate "${reset[@]}" --scale "$BENCH_SCALE"
fi
"$VENV_DIR/bin/python" -m bench.run "$@"
say "Saving a full week of working hours (90 days generated)"
SECRET_KEY="${SECRET_KEY:-bench}" "$VENV_DIR/bin/python" -m bench.availability
say "Benchmark finished in $((SECONDS - started)) s"
