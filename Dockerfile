# syntax=docker/dockerfile:1
#
# Alliance CRM: one image for web (gunicorn), worker (celery worker), beat (celery beat) and the
# one-shot migrate service; docker-compose.yml only changes the command.
# Configuration comes from environment variables at run time (see .env.example); nothing secret
# is baked in (.env is excluded by .dockerignore).

# --- Stage 1: compiled translations. The repository holds .po sources (the Makefile compiles them
# locally with compilemessages); gettext's msgfmt is not in the slim image, and compiling here
# keeps it out of the final image.
FROM python:3.11-slim AS messages
RUN apt-get update \
    && apt-get install --yes --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN find . -name '*.po' -path '*/LC_MESSAGES/*' \
    -exec sh -c 'for po; do msgfmt --check-format --output-file="${po%.po}.mo" "$po"; done' sh {} +

# --- Stage 2: the application image.
FROM python:3.11-slim

# CRM_VAR_DIR is where the app writes (media, and the SQLite file if DATABASE_URL is unset): mount
# a volume there. Static files are collected at build time and belong to the image, outside that
# volume: a volume over them would keep serving the previous release's files after an upgrade.
# Build and run must agree on DJANGO_STATIC_ROOT (whitenoise reads staticfiles.json from it).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    CRM_VAR_DIR=/app/var \
    DJANGO_MEDIA_ROOT=/app/var/media \
    DJANGO_STATIC_ROOT=/app/staticfiles

# Unprivileged user that owns only the var directory; the code and static files stay root-owned
# and therefore read-only for the running processes.
RUN groupadd --system --gid 10001 crm \
    && useradd --system --uid 10001 --gid crm --home-dir /app --no-create-home --shell /usr/sbin/nologin crm

WORKDIR /app

# Dependencies first, in their own layer, so that a code change does not reinstall them: the list
# is read from pyproject.toml's [project].dependencies (no dev extras).
COPY pyproject.toml ./
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The source tree, with the .mo files compiled in stage 1.
COPY --from=messages /src ./

# The project itself. Editable on purpose: it leaves exactly one copy of the code, /app, so every
# process (gunicorn, manage.py and the `celery` console script, which does not put the working
# directory on sys.path) imports crm from /app and settings.BASE_DIR is /app, where LOCALE_PATHS
# (/app/locale) and crm/templates live. A regular install would add a second copy in
# site-packages that only celery would import, with BASE_DIR pointing into site-packages.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-deps --editable .

# Static files, with throwaway values that only satisfy the DJANGO_DEBUG-off start-up check
# (they exist in this RUN only, not in the image's environment). DJANGO_DEBUG=0 selects
# whitenoise's CompressedManifestStaticFilesStorage, as at run time.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    DJANGO_ALLOWED_HOSTS=localhost \
    DJANGO_DEBUG=0 \
    python manage.py collectstatic --noinput \
    && install --directory --owner=crm --group=crm /app/var /app/var/media

USER crm:crm

EXPOSE 8000

# /healthz answers 200 when the database is reachable, 503 otherwise (urlopen raises on both a 503
# and a refused connection, so the exit status is non-zero). The request carries a Host from
# DJANGO_ALLOWED_HOSTS (127.0.0.1 is usually not allowed in production) and
# X-Forwarded-Proto: https so DJANGO_SECURE_SSL_REDIRECT does not turn it into a redirect to an
# https port that nothing serves. No curl in the slim image, hence python.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = os.environ.get('DJANGO_ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.'); h = h if h not in ('', '*') else 'localhost'; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h, 'X-Forwarded-Proto': 'https'}), timeout=8)"]

CMD ["gunicorn", "crm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
