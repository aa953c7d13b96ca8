# Consultation Portal — production image (gunicorn on :8000).
# Needs DATABASE_URL and SECRET_KEY at run time: without them it refuses to start and says so.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN groupadd --system portal \
    && useradd --system --gid portal --home-dir /app --no-create-home --shell /usr/sbin/nologin portal

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Compile the translation catalogue, and write the static files under content-hashed names with gzipped copies
# (instance/static), served by WhiteNoise.
RUN pybabel compile -f -d portal/translations \
    && python -m portal.assets \
    && chmod 0755 scripts/docker-entrypoint.sh

USER portal

EXPOSE 8000

ENTRYPOINT ["/app/scripts/docker-entrypoint.sh"]
# Extra gunicorn options can be given through GUNICORN_CMD_ARGS.
CMD ["gunicorn", "--workers", "2", "--timeout", "300", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "wsgi:app"]
