# syntax=docker/dockerfile:1
# Build stage: a wheel of the project and its runtime dependencies, nothing else.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY core ./core
COPY sim ./sim
COPY locales ./locales
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: slim Python, a non-root user, the database on a volume.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=/data/ima-bot.db \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels ima-bot && rm -rf /wheels \
    && useradd --create-home --uid 10001 bot && mkdir /data && chown bot /data
USER bot
WORKDIR /home/bot
VOLUME ["/data"]
EXPOSE 8080
# Ready: the database takes a write and every chat platform is connected (docs/operators.md).
# An empty HTTP_PORT counts as not set, as it does for the bot.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('HTTP_PORT') or 8080}/readyz\", timeout=4)"]
ENTRYPOINT ["ima-bot"]
CMD ["run"]
