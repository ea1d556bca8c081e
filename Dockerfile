# istvhub as a service: `docker build -t istvhub .`
#   docker run -p 8000:8000 -v istvhub-data:/data -v /path/to/gazetteer-sources:/sources:ro istvhub
# /data    ISTVHUB_HOME: SQLite store, built gazetteer, upload temp files, export cache (a volume)
# /sources ISTVHUB_SOURCES: the open-data downloads the gazetteer is built from (read-only)
# PostgreSQL instead of SQLite: -e ISTVHUB_DB=postgresql+psycopg://user:pass@host/db
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ISTVHUB_HOME=/data \
    ISTVHUB_SOURCES=/sources

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . \
    && useradd --create-home --uid 10001 istvhub \
    && mkdir -p /data /sources \
    && chown istvhub /data

USER istvhub
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
# build the gazetteer once:  docker run --rm -v istvhub-data:/data -v ...:/sources istvhub \
#                              istvhub gazetteer build
# add a user (token printed once): docker run --rm -v istvhub-data:/data istvhub \
#                              istvhub users add alice --role admin
CMD ["istvhub", "serve", "--host", "0.0.0.0", "--port", "8000"]
