#!/usr/bin/env bash
# Helpers for the local development and test environment.
#
# Used by the Makefile, scripts/test.sh and bench/run.sh, and usable by tests that need to stop
# and restart the throwaway services (fault tests):
#
#   bash scripts/services.sh ensure-venv requirements.txt   # create/refresh .venv
#   bash scripts/services.sh babel                          # compile translations
#   bash scripts/services.sh apt-install PKG...             # apt-get install as root/sudo
#   bash scripts/services.sh pg-stop | pg-start             # needs TEST_PG_* env (set by test.sh)
#   bash scripts/services.sh redis-stop | redis-start       # needs TEST_REDIS_* env (set by bench/run.sh)
#
# It can also be sourced (`source scripts/services.sh`) to get the functions.
set -euo pipefail

SERVICES_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- apt-get ----
# Run a command as root: directly when root, else through sudo if available.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

apt_install() {
    [ "$#" -gt 0 ] || return 0
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; please install: $*"
    say "Installing Debian packages: $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -y
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

# ------------------------------------------------------------------- venv ----
VENV_DIR="${VENV_DIR:-.venv}"
PYTHON="${PYTHON:-python3}"

# Hash of a requirements file plus the files it includes with -r (recursively),
# plus the interpreter version, so a change anywhere triggers a reinstall.
_req_files() {
    local f="$1" dir inc
    [ -f "$f" ] || die "requirements file not found: $f"
    printf '%s\n' "$f"
    dir="$(dirname "$f")"
    sed -n -E 's/^[[:space:]]*(-r|--requirement)[[:space:]=]+([^[:space:]#]+).*/\2/p' "$f" |
        while IFS= read -r inc; do _req_files "$dir/$inc"; done
}

_req_hash() {
    {
        "$VENV_DIR/bin/python" -c 'import sys; print(sys.version)'
        _req_files "$1" | while IFS= read -r f; do cat "$f"; done
    } | sha256sum | cut -d' ' -f1
}

_venv_ok() {
    [ -x "$VENV_DIR/bin/python" ] &&
        "$VENV_DIR/bin/python" -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1 &&
        "$VENV_DIR/bin/python" -m pip --version >/dev/null 2>&1
}

ensure_venv() {
    local req="${1:-requirements.txt}" stamp want
    cd "$SERVICES_ROOT"
    if ! _venv_ok; then
        if [ -e "$VENV_DIR" ] && [ ! -O "$VENV_DIR" ]; then
            die "$VENV_DIR exists but is not usable by $(id -un) (owned by someone else); fix or remove it"
        fi
        command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found; install python3 (3.11+)"
        "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
            die "Python 3.11+ is required, $PYTHON is $("$PYTHON" --version 2>&1)"
        if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
            say "Python venv module missing: installing python3-venv"
            apt_install python3-venv
        fi
        if [ -e "$VENV_DIR" ]; then say "Recreating broken virtualenv $VENV_DIR"; else say "Creating virtualenv $VENV_DIR"; fi
        rm -rf "$VENV_DIR"
        "$PYTHON" -m venv "$VENV_DIR"
    fi
    stamp="$VENV_DIR/.stamp-$(basename "$req")"
    want="$(_req_hash "$req")"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        say "Python packages from $req are up to date"
        return 0
    fi
    say "Installing Python packages from $req"
    "$VENV_DIR/bin/python" -m pip install --disable-pip-version-check --quiet -r "$req"
    printf '%s\n' "$want" >"$stamp"
}

# ------------------------------------------------------------------ babel ----
compile_translations() {
    # The catalogue portal/translations/<locale>/LC_MESSAGES/messages.po becomes a .mo beside it.
    local po count=0
    cd "$SERVICES_ROOT"
    while IFS= read -r po; do
        "$VENV_DIR/bin/pybabel" compile -f -i "$po" -o "${po%.po}.mo" >/dev/null
        count=$((count + 1))
    done < <(find portal -path '*/LC_MESSAGES/*.po' 2>/dev/null | sort)
    say "Compiled $count translation catalog(s)"
}

# ------------------------------------------------------------- PostgreSQL ----
# Environment (exported by scripts/test.sh):
#   TEST_PG_BINDIR TEST_PG_DATADIR TEST_PG_LOG TEST_PG_HOST TEST_PG_PORT TEST_PG_RUNAS
pg_bindir() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$d" ] && [ -x "$d/initdb" ] || return 1
    printf '%s\n' "$d"
}

# Run a PostgreSQL binary as the right user (initdb/postgres refuse to run as root).
_as_pg() {
    if [ -n "${TEST_PG_RUNAS:-}" ]; then
        runuser -u "$TEST_PG_RUNAS" -- "$@"
    else
        "$@"
    fi
}

pg_init() {
    say "Initialising throwaway PostgreSQL cluster in $TEST_PG_DATADIR"
    if ! _as_pg "$TEST_PG_BINDIR/initdb" -D "$TEST_PG_DATADIR" --auth=trust -U postgres \
        --encoding=UTF8 --locale=C.UTF-8 >"$TEST_PG_DATADIR.initdb.log" 2>&1; then
        rm -rf "$TEST_PG_DATADIR"
        _as_pg "$TEST_PG_BINDIR/initdb" -D "$TEST_PG_DATADIR" --auth=trust -U postgres \
            --encoding=UTF8 --no-locale >"$TEST_PG_DATADIR.initdb.log" 2>&1 ||
            { cat "$TEST_PG_DATADIR.initdb.log" >&2; die "initdb failed"; }
    fi
    # Settings live in the config file so a plain restart (fault tests) keeps them.
    _as_pg tee -a "$TEST_PG_DATADIR/postgresql.conf" >/dev/null <<EOF

# --- throwaway test cluster (scripts/test.sh) ---
listen_addresses = '$TEST_PG_HOST'
port = $TEST_PG_PORT
unix_socket_directories = '$TEST_PG_SOCKET_DIR'
max_connections = 200
fsync = off
full_page_writes = off
synchronous_commit = off
EOF
}

pg_start() {
    say "Starting PostgreSQL on $TEST_PG_HOST:$TEST_PG_PORT"
    _as_pg "$TEST_PG_BINDIR/pg_ctl" -D "$TEST_PG_DATADIR" -l "$TEST_PG_LOG" -w -t 60 start >/dev/null ||
        { tail -n 30 "$TEST_PG_LOG" >&2 || true; die "PostgreSQL did not start"; }
    local i
    for i in $(seq 1 120); do
        if "$TEST_PG_BINDIR/pg_isready" -q -h "$TEST_PG_HOST" -p "$TEST_PG_PORT" -U postgres; then
            say "PostgreSQL is ready"
            return 0
        fi
        sleep 0.5
    done
    die "PostgreSQL is not accepting connections on $TEST_PG_HOST:$TEST_PG_PORT"
}

pg_stop() {
    local mode="${1:-immediate}"
    [ -n "${TEST_PG_DATADIR:-}" ] && [ -f "$TEST_PG_DATADIR/postmaster.pid" ] || return 0
    say "Stopping PostgreSQL ($TEST_PG_HOST:$TEST_PG_PORT)"
    _as_pg "$TEST_PG_BINDIR/pg_ctl" -D "$TEST_PG_DATADIR" -m "$mode" -w -t 60 stop >/dev/null 2>&1 || true
}

# ------------------------------------------------------------------ Redis ----
# Environment (exported by scripts/test.sh):
#   TEST_REDIS_SERVER TEST_REDIS_HOST TEST_REDIS_PORT TEST_REDIS_DIR TEST_REDIS_PIDFILE
redis_ping() {
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(redis-cli -h "$TEST_REDIS_HOST" -p "$TEST_REDIS_PORT" ping 2>/dev/null)" = PONG ]
    else
        # Without redis-cli: speak RESP over bash's /dev/tcp.
        (
            exec 3<>"/dev/tcp/$TEST_REDIS_HOST/$TEST_REDIS_PORT" || exit 1
            printf 'PING\r\n' >&3
            IFS= read -r -t 2 reply <&3 && [ "${reply%$'\r'}" = "+PONG" ]
        ) 2>/dev/null
    fi
}

redis_start() {
    say "Starting Redis on $TEST_REDIS_HOST:$TEST_REDIS_PORT"
    mkdir -p "$TEST_REDIS_DIR"
    "$TEST_REDIS_SERVER" --bind "$TEST_REDIS_HOST" --port "$TEST_REDIS_PORT" \
        --save '' --appendonly no --daemonize yes \
        --dir "$TEST_REDIS_DIR" --pidfile "$TEST_REDIS_PIDFILE" \
        --logfile "$TEST_REDIS_DIR/redis.log" >/dev/null ||
        die "redis-server did not start"
    local i
    for i in $(seq 1 100); do
        if redis_ping; then
            say "Redis is ready"
            return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$TEST_REDIS_DIR/redis.log" >&2 || true
    die "Redis is not answering PING on $TEST_REDIS_HOST:$TEST_REDIS_PORT"
}

redis_stop() {
    local pid i
    [ -n "${TEST_REDIS_PIDFILE:-}" ] && [ -f "$TEST_REDIS_PIDFILE" ] || return 0
    pid="$(cat "$TEST_REDIS_PIDFILE" 2>/dev/null || true)"
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        say "Stopping Redis ($TEST_REDIS_HOST:$TEST_REDIS_PORT, pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$TEST_REDIS_PIDFILE"
}

# -------------------------------------------------------------------- CLI ----
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    cmd="${1:-}"
    shift || true
    case "$cmd" in
        ensure-venv) ensure_venv "$@" ;;
        babel) compile_translations ;;
        apt-install) apt_install "$@" ;;
        pg-init) pg_init ;;
        pg-start) pg_start ;;
        pg-stop) pg_stop "$@" ;;
        redis-start) redis_start ;;
        redis-stop) redis_stop ;;
        *)
            echo "usage: $0 {ensure-venv REQ|babel|apt-install PKG...|pg-init|pg-start|pg-stop [MODE]|redis-start|redis-stop}" >&2
            exit 2
            ;;
    esac
fi
