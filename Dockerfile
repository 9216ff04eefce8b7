# The portal as one image; the same image runs the web processes, the worker and the
# migrations (see compose.yaml). Build from the repository root: docker build -t portal .
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --system --create-home --home-dir /home/portal portal

# Installed, then the sources removed: the package must come from site-packages, whose
# instance folder is the one prepared below (a copy in /app would be imported first).
COPY pyproject.toml README.md /src/
COPY portal /src/portal
RUN pip install /src && rm -rf /src

# Content-hashed, pre-compressed static files, made once at build time. The key only
# lets create_app start for this one command; it is not kept anywhere.
RUN SECRET_KEY=build-static-only flask --app portal build-static /app/static-build

COPY gunicorn.conf.py ./
# Flask's instance folder of an installed package; the portal writes nothing else there.
# (gunicorn.conf.py keeps the workers' metrics in a temporary directory of its own.)
RUN mkdir -p /usr/local/var/portal-instance && chown portal /usr/local/var/portal-instance

ENV PORTAL_STATIC_BUILD_DIR=/app/static-build \
    PORTAL_LOG_FORMAT=json \
    PORT=8000

USER portal
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "portal:create_app()"]
