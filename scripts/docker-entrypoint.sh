#!/bin/sh
# Container entrypoint: apply migrations before starting the web server, then run the command.
set -eu

if [ "${1:-}" = "gunicorn" ]; then
    echo "==> Applying database migrations"
    flask --app wsgi db upgrade
fi

exec "$@"
