# hipbot: a slim image that runs `hipbot run` as a non-root user, data on a volume.
#   docker build -t hipbot .
# BASE_IMAGE exists for CI only, which builds offline from a local Debian base (scripts/ci-image);
# everyone else gets python:3.11-slim.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# HIPBOT_METRICS_PORT: GET /healthz (and /metrics) in polling mode, for the HEALTHCHECK below.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/hipbot/bin:$PATH \
    HIPBOT_DATA_DIR=/data \
    HIPBOT_FLOWS=/app/flows \
    HIPBOT_LOG_FORMAT=json \
    HIPBOT_METRICS_PORT=9100

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY bench ./bench
# A virtual environment: the same steps on python:3.11-slim and on Debian's python3.
# No [lint] or [dev] extra: the running bot needs neither.
RUN python3 -m venv /opt/hipbot \
    && /opt/hipbot/bin/pip install --no-cache-dir --disable-pip-version-check . \
    && rm -rf /app/build /app/*.egg-info
COPY flows ./flows

RUN useradd --create-home --uid 10001 hipbot && mkdir -p /data && chown hipbot /data
USER hipbot
VOLUME ["/data"]
EXPOSE 8080 9100
# Polling: the metrics port's /healthz. Webhook: /healthz on the webhook port. Any error,
# refused connection or non-2xx answer makes the container unhealthy (no curl in slim images).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request\nwebhook = os.environ.get('HIPBOT_MODE', 'polling').strip().lower() == 'webhook'\nport = os.environ.get('HIPBOT_WEBHOOK_PORT' if webhook else 'HIPBOT_METRICS_PORT', '8080' if webhook else '').strip()\nif not port:\n    raise SystemExit('HIPBOT_METRICS_PORT is empty: polling mode has no /healthz to check')\nurllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=8).read()"]
RUN hipbot validate /app/flows
ENTRYPOINT ["hipbot"]
CMD ["run"]
