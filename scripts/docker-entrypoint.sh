#!/bin/sh
# Container entrypoint: apply migrations before starting the web server, then run the command.
# Several web containers may start together (docker compose up --scale web=3): `db upgrade` takes a
# PostgreSQL advisory lock (migrations/env.py), so one applies the migrations and the others wait.
# Without DATABASE_URL or SECRET_KEY, `db upgrade` stops with a message naming what to set.
set -eu

if [ "${1:-}" = "gunicorn" ]; then
    echo "==> Applying database migrations"
    flask --app wsgi db upgrade
fi

exec "$@"
