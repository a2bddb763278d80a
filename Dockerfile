# hipbot: a slim image that runs `hipbot run` as a non-root user, data on a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HIPBOT_DATA_DIR=/data \
    HIPBOT_FLOWS=/app/flows \
    HIPBOT_LOG_FORMAT=json

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY bench ./bench
RUN pip install --no-cache-dir .
COPY flows ./flows

RUN useradd --create-home --uid 10001 hipbot && mkdir -p /data && chown hipbot /data
USER hipbot
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK CMD python -c "import os,sys,urllib.request; sys.exit(0) if os.environ.get('HIPBOT_MODE','polling')!='webhook' else urllib.request.urlopen('http://127.0.0.1:'+os.environ.get('HIPBOT_WEBHOOK_PORT','8080')+'/healthz')"
RUN hipbot validate /app/flows
ENTRYPOINT ["hipbot"]
CMD ["run"]
